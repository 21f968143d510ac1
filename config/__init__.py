"""Project configuration: settings, URLs, the Celery app, and the `warnings/` import fix.

The design card names an app folder ``warnings/``, but ``warnings`` is a standard-library module
that the interpreter imports before any of our code runs, so ``import warnings`` can never reach
the folder. We load the folder as the package ``integrity_warnings`` instead, here, because every
entry point (manage.py, wsgi/asgi, Celery, pytest) imports ``config`` before Django loads apps.

The folder has no ``__init__.py`` on purpose. The repository root is the first entry of
``sys.path`` for manage.py and pytest, and in a virtual environment the interpreter has not yet
imported the standard ``warnings`` when our code starts: a ``warnings/__init__.py`` would then
shadow the standard library for every later ``import warnings``. A folder without it is only a
namespace-package candidate, which the import system uses only when no real module of that name
exists, so ``import warnings`` keeps finding the standard library (tests/test_warnings_package.py).
"""

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

_WARNINGS_DIR = Path(__file__).resolve().parent.parent / "warnings"


def _load_integrity_warnings() -> None:
    if "integrity_warnings" in sys.modules:
        return
    spec = importlib.machinery.ModuleSpec("integrity_warnings", None, is_package=True)
    spec.submodule_search_locations = [str(_WARNINGS_DIR)]
    module = importlib.util.module_from_spec(spec)
    module.__doc__ = "The warning ledger and dispositions (folder warnings/)."
    sys.modules["integrity_warnings"] = module


_load_integrity_warnings()

from .celery import app as celery_app  # noqa: E402

__all__ = ("celery_app",)
