"""`import warnings` is the standard library everywhere; the folder warnings/ is the app integrity_warnings."""

import os
import subprocess
import sys
import sysconfig
import warnings
from pathlib import Path

import pytest
from django.apps import apps

BASE_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
STDLIB_WARNINGS = str(Path(sysconfig.get_paths()["stdlib"]) / "warnings.py")
PRINT_WARNINGS = "import warnings; assert callable(warnings.warn); print(warnings.__file__)"


def run_in_repo(*argv: str) -> str:
    """Run a command from the repository root, as a developer would, and return its stdout."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)  # nothing may help the command find the right module
    result = subprocess.run(argv, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_stdlib_warnings_in_this_process_after_django_setup():
    assert apps.ready
    assert warnings.__file__ == STDLIB_WARNINGS
    assert callable(warnings.warn) and callable(warnings.catch_warnings)
    assert not Path(warnings.__file__).is_relative_to(BASE_DIR)


def test_warnings_still_work_after_django_setup():
    with pytest.warns(UserWarning, match="still the standard library"):
        warnings.warn("still the standard library", stacklevel=1)


def test_stdlib_warnings_in_manage_py_shell():
    out = run_in_repo(sys.executable, "manage.py", "shell", "-c", PRINT_WARNINGS)
    assert out.strip().splitlines()[-1] == STDLIB_WARNINGS


def test_stdlib_warnings_after_importing_config():
    code = f"import config, integrity_warnings; {PRINT_WARNINGS}"
    assert run_in_repo(sys.executable, "-c", code).strip() == STDLIB_WARNINGS


def test_stdlib_warnings_after_django_setup_in_a_fresh_interpreter():
    code = f"import django; django.setup(); {PRINT_WARNINGS}"
    assert run_in_repo(sys.executable, "-c", code).strip() == STDLIB_WARNINGS


def test_stdlib_warnings_in_the_celery_app():
    code = f"import config.celery; config.celery.app.loader.import_default_modules(); {PRINT_WARNINGS}"
    assert run_in_repo(sys.executable, "-c", code).strip() == STDLIB_WARNINGS


def test_celery_cli_loads_the_app():
    # `celery report` imports config, sets Django up and prints the settings: it fails if either breaks.
    out = run_in_repo(str(VENV_BIN / "celery"), "-A", "config", "report")
    assert "CELERY_BROKER_URL" in out


def test_stdlib_warnings_after_the_celery_cli_ran():
    # The celery command's own entry point, in-process, so that `warnings` can be looked at afterwards.
    code = (
        "import sys; from celery.__main__ import main; sys.argv = ['celery', '-A', 'config', 'report']\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        f"{PRINT_WARNINGS}"
    )
    assert run_in_repo(sys.executable, "-c", code).strip().splitlines()[-1] == STDLIB_WARNINGS


def test_integrity_warnings_is_the_folder_warnings():
    config = apps.get_app_config("integrity_warnings")
    assert config.name == "integrity_warnings"
    assert config.path == str(BASE_DIR / "warnings")
    assert config.path.endswith("/warnings")
    assert not (BASE_DIR / "warnings" / "__init__.py").exists(), "it would shadow the standard library"
