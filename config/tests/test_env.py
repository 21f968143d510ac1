"""The strict environment reader: every value parses exactly or fails naming its variable."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import VARIABLES, Env


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("yes", True), ("no", False), ("true", True), ("false", False), ("1", True), ("0", False), (" TRUE ", True)],
)
def test_boolean_words_parse(raw, expected):
    assert Env({"DEBUG": raw}).boolean("DEBUG") is expected


def test_maybe_is_not_a_boolean_and_the_error_names_the_variable():
    with pytest.raises(ImproperlyConfigured, match=r"DEBUG='maybe' is not a boolean"):
        Env({"DEBUG": "maybe"}).boolean("DEBUG")


def test_bad_int_names_the_variable():
    with pytest.raises(ImproperlyConfigured, match=r"EMAIL_PORT='25a' is not a whole number"):
        Env({"EMAIL_PORT": "25a"}).integer("EMAIL_PORT")


def test_int_parses():
    assert Env({"EMAIL_PORT": "465"}).integer("EMAIL_PORT") == 465


def test_undeclared_name_raises_even_when_set():
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEYS is not a declared environment variable"):
        Env({"SECRET_KEYS": "x"}).string("SECRET_KEYS")


def test_reading_a_variable_as_another_kind_raises():
    with pytest.raises(ImproperlyConfigured, match="DEBUG is declared as bool, read as str"):
        Env({"DEBUG": "true"}).string("DEBUG")


def test_url_with_a_wrong_scheme_names_the_variable():
    with pytest.raises(ImproperlyConfigured, match=r"REDIS_URL='amqp://localhost//' is not a URL with redis, rediss"):
        Env({"REDIS_URL": "amqp://localhost//"}).url("REDIS_URL", schemes=("redis", "rediss"))


def test_url_without_a_scheme_is_refused():
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        Env({"DATABASE_URL": "/var/lib/risk/db.sqlite3"}).url("DATABASE_URL")


def test_url_with_an_allowed_scheme_is_returned_unchanged():
    url = "redis://127.0.0.1:6379/3"
    assert Env({"REDIS_URL": url}).url("REDIS_URL", schemes=("redis", "rediss")) == url


@pytest.mark.parametrize("source", [{}, {"SECRET_KEY": ""}, {"SECRET_KEY": "   "}])
def test_missing_required_value_raises(source):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY must be set in the environment"):
        Env(source).string("SECRET_KEY")


def test_missing_value_takes_the_default():
    assert Env({}).boolean("DEBUG", default=False) is False
    assert Env({"DEBUG": ""}).boolean("DEBUG", default=True) is True


def test_lists_split_on_commas_and_drop_blanks():
    source = {"ALLOWED_HOSTS": " risk.example.gov, ,127.0.0.1 ,"}
    assert Env(source).strings("ALLOWED_HOSTS") == ["risk.example.gov", "127.0.0.1"]


def test_list_default_when_unset():
    assert Env({}).strings("CSRF_TRUSTED_ORIGINS", default=[]) == []


def test_every_declared_variable_has_a_known_kind_and_help():
    for name, variable in VARIABLES.items():
        assert variable.kind in {"str", "bool", "int", "list", "url"}, name
        assert variable.help, name


def test_readers_do_not_shadow_the_builtins():
    """Inside the class, `-> str` must mean the builtin: no reader is named after one."""
    assert not {"str", "bool", "int", "list"} & set(vars(Env))
    assert Env({"ALLOWED_HOSTS": "a, b"}).strings("ALLOWED_HOSTS") == ["a", "b"]
