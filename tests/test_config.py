"""Configuration comes from the environment, read only in config.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ("SECRET_KEY", "ORDERDECK_ENCRYPTION_KEY", "ORDERDECK_ENV", "DATABASE_URL",
                 "REDIS_URL", "ORDERDECK_TIMEZONE", "ORDERDECK_SECURE_COOKIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ORDERDECK_INSTANCE", str(tmp_path))
    return tmp_path


def test_development_generates_keys_once_into_instance(clean_env):
    """Without keys, development generates both into instance/ and reuses them next time."""
    first = config.load_config()
    second = config.load_config()
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert first["ENCRYPTION_KEY"] == second["ENCRYPTION_KEY"]
    assert (clean_env / "encryption_key").stat().st_mode & 0o777 == 0o600
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{clean_env / 'orderdeck.sqlite'}"


def test_production_refuses_to_start_without_keys(clean_env, monkeypatch):
    """ORDERDECK_ENV=production without SECRET_KEY and ORDERDECK_ENCRYPTION_KEY stops the app."""
    monkeypatch.setenv("ORDERDECK_ENV", "production")
    with pytest.raises(config.ConfigError, match="SECRET_KEY and ORDERDECK_ENCRYPTION_KEY"):
        config.load_config()
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    with pytest.raises(config.ConfigError, match="ORDERDECK_ENCRYPTION_KEY"):
        config.load_config()
    assert not (clean_env / "secret_key").exists()


def test_production_with_keys_uses_them_and_secure_cookies(clean_env, monkeypatch):
    """With both keys set, production starts, uses them, and marks cookies Secure."""
    monkeypatch.setenv("ORDERDECK_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    monkeypatch.setenv("ORDERDECK_ENCRYPTION_KEY", "k" * 44)
    settings = config.load_config()
    assert (settings["SECRET_KEY"], settings["ENCRYPTION_KEY"]) == ("s" * 32, "k" * 44)
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_unknown_time_zone_is_refused(clean_env, monkeypatch):
    """A misspelled ORDERDECK_TIMEZONE is reported at start, not at the first date shown."""
    monkeypatch.setenv("ORDERDECK_TIMEZONE", "Europe/Pariss")
    with pytest.raises(config.ConfigError, match="Europe/Pariss"):
        config.load_config()


def test_other_shells_find_the_services_make_run_started(clean_env):
    """Without REDIS_URL, the address recorded by `make run` in instance/ is used."""
    (clean_env / config.RUNTIME_FILE).write_text(json.dumps(
        {"redis_url": "redis://127.0.0.1:6399/0", "simulator_url": "http://127.0.0.1:5055"}))
    settings = config.load_config()
    assert settings["REDIS_URL"] == "redis://127.0.0.1:6399/0"
    assert settings["SIMULATOR_URL"] == "http://127.0.0.1:5055"


def test_only_config_reads_the_environment():
    """No module of the app or the jobs reads os.environ or os.getenv (config.py does)."""
    offenders = [str(path.relative_to(ROOT)) for folder in ("webapp", "jobs")
                 for path in (ROOT / folder).rglob("*.py")
                 if "os.environ" in path.read_text() or "os.getenv" in path.read_text()]
    assert offenders == []


def test_nothing_happens_at_import_time():
    """Importing the app package builds no app and opens no connection."""
    import webapp

    assert not hasattr(webapp, "app")


@pytest.mark.parametrize("value", ["Production", "PRODUCTION", " production "])
def test_production_is_recognised_in_any_letter_case(clean_env, monkeypatch, value):
    """ORDERDECK_ENV=Production is production (keys required), not a silent development."""
    monkeypatch.setenv("ORDERDECK_ENV", value)
    with pytest.raises(config.ConfigError, match="SECRET_KEY"):
        config.load_config()
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    monkeypatch.setenv("ORDERDECK_ENCRYPTION_KEY", "k" * 44)
    settings = config.load_config()
    assert (settings["ENV_NAME"], settings["SESSION_COOKIE_SECURE"]) == ("production", True)


@pytest.mark.parametrize("value", ["Development", "TEST"])
def test_development_and_test_are_accepted_in_any_case(clean_env, monkeypatch, value):
    """ORDERDECK_ENV=Development or TEST starts without keys, under its lower-case name."""
    monkeypatch.setenv("ORDERDECK_ENV", value)
    assert config.load_config()["ENV_NAME"] == value.lower()


@pytest.mark.parametrize("value", ["prod", "staging", "dev", "productions"])
def test_unknown_environment_is_refused_with_the_accepted_values(clean_env, monkeypatch, value):
    """Any other ORDERDECK_ENV (`prod` included) stops the app with the list of accepted values."""
    monkeypatch.setenv("ORDERDECK_ENV", value)
    with pytest.raises(config.ConfigError, match=f"'{value}'.*production, development, test"):
        config.load_config()
    assert not (clean_env / "secret_key").exists()
