"""Settings: misspelt names are caught, production passes the deploy checks, URLs become settings."""

import importlib
import importlib.util
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from celery.app.defaults import DEFAULTS as CELERY_DEFAULTS
from django.conf import global_settings
from django.core.exceptions import ImproperlyConfigured

from config.env import VARIABLES
from config.services import broker_settings, database_settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SETTINGS_MODULES = ("base", "local", "test", "production")
PRODUCTION_ENV = {
    "SECRET_KEY": "a-long-random-production-key-for-tests-" + "k7Qz" * 10,
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/risk_registry",
    "ALLOWED_HOSTS": "risk.example.gov",
    "REDIS_URL": "redis://127.0.0.1:6379/3",
}

# What each library actually reads, so CELERY_BROKER_UR is caught as surely as SESSION_COOKIE_SECUR.
DJANGO_SETTINGS = {name for name in dir(global_settings) if name.isupper()} | {"ROOT_URLCONF"}  # no default
CELERY_SETTINGS = {f"CELERY_{key.upper()}" for key in CELERY_DEFAULTS}
_guardian_conf = Path(importlib.util.find_spec("guardian.conf.settings").origin).read_text()
GUARDIAN_SETTINGS = set(re.findall(r"\bGUARDIAN_[A-Z0-9_]+\b", _guardian_conf)) | {"ANONYMOUS_USER_NAME"}
_axes_conf = Path(importlib.util.find_spec("axes.conf").origin).read_text()
AXES_SETTINGS = set(re.findall(r"\bAXES_[A-Z0-9_]+\b", _axes_conf))
PRODUCT_PREFIX = "RISK_REGISTRY_"
# Names the settings modules keep for themselves (not read by any library).
PROJECT_NAMES = {"BASE_DIR", "VAR_DIR", "DATABASE_URL", "REDIS_URL"}


def unknown_setting_names(names) -> list[str]:
    known = DJANGO_SETTINGS | CELERY_SETTINGS | GUARDIAN_SETTINGS | AXES_SETTINGS | PROJECT_NAMES
    return sorted(name for name in names if name not in known and not name.startswith(PRODUCT_PREFIX))


def load_settings(monkeypatch, module: str, **environ: str) -> dict:
    """Import ``config.settings.<module>`` afresh (base included) with only ``environ`` declared.

    The modules already imported (the test settings Django runs on) are put back afterwards.
    """
    for name in VARIABLES:
        if name != "DJANGO_SETTINGS_MODULE":
            monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    package = importlib.import_module("config.settings")
    for name in SETTINGS_MODULES:
        if f"config.settings.{name}" in sys.modules:
            monkeypatch.delitem(sys.modules, f"config.settings.{name}")
        if hasattr(package, name):
            monkeypatch.setattr(package, name, getattr(package, name))
    loaded = importlib.import_module(f"config.settings.{module}")
    return {name: value for name, value in vars(loaded).items() if name.isupper()}


def run_manage(*args: str, **environ: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8", **environ}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


# (a) misspelt setting names


@pytest.mark.parametrize("module", SETTINGS_MODULES)
def test_every_setting_name_is_read_by_someone(monkeypatch, tmp_path, module):
    names = load_settings(monkeypatch, module, RISK_REGISTRY_BROKER_DIR=str(tmp_path), **PRODUCTION_ENV)
    assert unknown_setting_names(names) == []


def test_a_misspelt_setting_is_caught():
    planted = ["SESSION_COOKIE_SECUR", "CELERY_BROKER_UR", "GUARDIAN_RAISE_430", "SECURE_HSTS_SECOND"]
    planted += ["AXES_COOLOF_TIME"]
    correct = ["SESSION_COOKIE_SECURE", "CELERY_BROKER_URL", "GUARDIAN_RAISE_403", "ANONYMOUS_USER_NAME", "VAR_DIR"]
    correct += ["AXES_COOLOFF_TIME"]
    assert unknown_setting_names(planted + correct) == sorted(planted)


# (b), (c) production


def test_production_passes_the_deploy_checks_without_a_warning():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        **{**PRODUCTION_ENV, "SECRET_KEY": secrets.token_urlsafe(50)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("secret_key", [None, ""])
def test_production_without_secret_key_fails_loudly(secret_key):
    environ = {key: value for key, value in PRODUCTION_ENV.items() if key != "SECRET_KEY"}
    if secret_key is not None:
        environ["SECRET_KEY"] = secret_key
    result = run_manage("check", DJANGO_SETTINGS_MODULE="config.settings.production", **environ)
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set in the environment" in result.stderr


def test_production_refuses_sqlite(monkeypatch):
    environ = {**PRODUCTION_ENV, "DATABASE_URL": "sqlite:////tmp/risk.sqlite3"}
    with pytest.raises(
        ImproperlyConfigured, match=re.escape("DATABASE_URL='sqlite:////tmp/risk.sqlite3' is not a URL")
    ):
        load_settings(monkeypatch, "production", **environ)


def test_production_requires_redis_for_the_broker(monkeypatch):
    environ = {key: value for key, value in PRODUCTION_ENV.items() if key != "REDIS_URL"}
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL must be set in the environment"):
        load_settings(monkeypatch, "production", **environ)
    settings = load_settings(monkeypatch, "production", **PRODUCTION_ENV)
    assert settings["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/3"


def test_production_ignores_debug_from_the_environment(monkeypatch):
    assert load_settings(monkeypatch, "production", DEBUG="true", **PRODUCTION_ENV)["DEBUG"] is False


# (d) database and broker URLs


def test_sqlite_absolute_url(tmp_path):
    db = tmp_path / "sub" / "db.sqlite3"
    settings = database_settings(f"sqlite:///{db}")  # four slashes: the path is absolute
    assert settings["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["NAME"] == str(db)
    assert db.parent.is_dir()


def test_sqlite_relative_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert database_settings("sqlite:///var/db.sqlite3")["NAME"] == "var/db.sqlite3"
    assert (tmp_path / "var").is_dir()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:////tmp/"])
def test_sqlite_url_without_a_file_is_refused(url):
    with pytest.raises(ImproperlyConfigured, match="names no SQLite file"):
        database_settings(url)


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_postgres_url(scheme):
    settings = database_settings(f"{scheme}://risk:p%40ss@db.example.gov:6543/risk_registry?sslmode=require")
    assert settings["ENGINE"] == "django.db.backends.postgresql"
    assert (settings["NAME"], settings["USER"], settings["PASSWORD"]) == ("risk_registry", "risk", "p@ss")
    assert (settings["HOST"], settings["PORT"]) == ("db.example.gov", "6543")
    assert settings["OPTIONS"] == {"sslmode": "require", "options": "-c jit=off"}


def test_postgres_url_keeps_its_own_server_options_and_turns_jit_off():
    settings = database_settings("postgres://u@h/db?options=-c%20statement_timeout%3D5000")
    assert settings["OPTIONS"]["options"] == "-c statement_timeout=5000 -c jit=off"


@pytest.mark.django_db
def test_the_product_connections_run_without_jit():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_postgres_url_without_a_database_is_refused():
    with pytest.raises(ImproperlyConfigured, match="names no database"):
        database_settings("postgres://postgres@127.0.0.1:5432/")


def test_mysql_is_refused():
    with pytest.raises(ImproperlyConfigured, match=r"use postgres:// or sqlite://"):
        database_settings("mysql://root@127.0.0.1:3306/risk")


def test_broker_without_redis_is_a_folder(tmp_path):
    broker = broker_settings(None, str(tmp_path))
    assert broker.url == "filesystem://"
    assert broker.transport_options["data_folder_in"] == str(tmp_path / "queue")
    assert broker.transport_options["data_folder_out"] == str(tmp_path / "queue")
    assert (tmp_path / "queue").is_dir() and (tmp_path / "processed").is_dir()


def test_broker_with_redis(tmp_path):
    broker = broker_settings("redis://127.0.0.1:6379/2", str(tmp_path))
    assert broker.url == "redis://127.0.0.1:6379/2"
    assert not (tmp_path / "queue").exists()


def test_local_settings_default_to_sqlite_and_the_filesystem_broker(monkeypatch, tmp_path):
    settings = load_settings(monkeypatch, "local", RISK_REGISTRY_BROKER_DIR=str(tmp_path))
    assert settings["CELERY_BROKER_URL"] == "filesystem://"
    assert settings["CELERY_BROKER_TRANSPORT_OPTIONS"]["data_folder_in"] == str(tmp_path / "queue")
    assert settings["DATABASES"]["default"]["NAME"] == str(BASE_DIR / "var" / "db.sqlite3")
    assert settings["DEBUG"] is True


def test_local_settings_use_redis_when_configured(monkeypatch, tmp_path):
    settings = load_settings(
        monkeypatch, "local", REDIS_URL="redis://127.0.0.1:6379/4", RISK_REGISTRY_BROKER_DIR=str(tmp_path)
    )
    assert settings["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/4"


def test_local_settings_refuse_a_non_redis_broker_url(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match=re.escape("REDIS_URL='amqp://guest@127.0.0.1//'")):
        load_settings(monkeypatch, "local", REDIS_URL="amqp://guest@127.0.0.1//")


def test_test_settings_default_to_the_local_postgres_and_redis(monkeypatch):
    settings = load_settings(monkeypatch, "test")
    assert settings["DATABASE_URL"] == "postgres://postgres@127.0.0.1:5432/risk_registry"
    assert settings["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/15"
