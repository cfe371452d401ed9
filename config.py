"""Configuration: the only module that reads the environment.

`load_config()` is called by `create_app()`; nothing here runs at import time.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent
DEFAULT_INSTANCE = ROOT / "instance"
RUNTIME_FILE = "runtime.json"  # written by `make run`: addresses of what it started


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to set."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _flag(name: str, default: bool = False) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def instance_path() -> Path:
    """Where local state lives (SQLite, generated keys, runtime.json)."""
    return Path(_env("ORDERDECK_INSTANCE", str(DEFAULT_INSTANCE))).resolve()


def read_runtime(path: Path | None = None) -> dict[str, Any]:
    """Addresses recorded by the `make run` launcher, so other shells use the same services."""
    file = (path or instance_path()) / RUNTIME_FILE
    try:
        return json.loads(file.read_text())
    except (OSError, ValueError):
        return {}


def _generated_key(folder: Path, name: str, make) -> str:
    """A key generated once into instance/ (development and demo only)."""
    file = folder / name
    if file.exists():
        return file.read_text().strip()
    folder.mkdir(parents=True, exist_ok=True)
    value = make()
    # Create with owner-only permissions; never overwrite a key another process wrote first.
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return file.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


ENVIRONMENTS = ("production", "development", "test")


def environment() -> str:
    """ORDERDECK_ENV, in any letter case; anything else stops the app (a misspelt `prod` must
    not quietly run production with development's generated keys and insecure cookies)."""
    value = (_env("ORDERDECK_ENV", "development") or "").strip().lower()
    if value not in ENVIRONMENTS:
        raise ConfigError(f"ORDERDECK_ENV={_env('ORDERDECK_ENV')!r} is not one of: "
                          f"{', '.join(ENVIRONMENTS)} (any letter case).")
    return value


def load_config(**overrides: Any) -> dict[str, Any]:
    """Build the Flask config from the environment; `overrides` win (tests, CLI)."""
    folder = Path(overrides.pop("INSTANCE_PATH", None) or instance_path())
    env_name = environment()
    production = env_name == "production"
    runtime = read_runtime(folder)

    secret_key = _env("SECRET_KEY")
    encryption_key = _env("ORDERDECK_ENCRYPTION_KEY")
    if production:
        missing = [n for n, v in (("SECRET_KEY", secret_key),
                                  ("ORDERDECK_ENCRYPTION_KEY", encryption_key)) if not v]
        if missing and not all(k in overrides for k in ("SECRET_KEY", "ENCRYPTION_KEY")):
            raise ConfigError(
                f"ORDERDECK_ENV=production needs {' and '.join(missing)} set: every host "
                "must share them (generate the encryption key with `python -c \"from "
                "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())\"`)."
            )
    else:
        secret_key = secret_key or _generated_key(
            folder, "secret_key", lambda: secrets.token_hex(32))
        encryption_key = encryption_key or _generated_key(
            folder, "encryption_key", lambda: Fernet.generate_key().decode())

    timezone = _env("ORDERDECK_TIMEZONE", "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"ORDERDECK_TIMEZONE={timezone!r} is not a known time zone") from exc

    database_url = _env("DATABASE_URL") or f"sqlite:///{folder / 'orderdeck.sqlite'}"
    secure_cookies = _flag("ORDERDECK_SECURE_COOKIES", default=production)

    config: dict[str, Any] = {
        "ENV_NAME": env_name,
        "INSTANCE_PATH": str(folder),
        "SECRET_KEY": secret_key,
        "ENCRYPTION_KEY": encryption_key,
        "TIMEZONE": timezone,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": _env("REDIS_URL") or runtime.get("redis_url") or "redis://127.0.0.1:6379/0",
        # Redis from the web: each call times out after this many seconds, and for
        # REDIS_RETRY_AFTER seconds after a failure none is tried (pages answer at once and say
        # jobs are unavailable). Workers set REDIS_FAIL_FAST off: longer timeouts, retries.
        "REDIS_TIMEOUT": float(_env("ORDERDECK_REDIS_TIMEOUT", "1")),
        "REDIS_RETRY_AFTER": float(_env("ORDERDECK_REDIS_RETRY_AFTER", "5")),
        "REDIS_FAIL_FAST": True,
        "SIMULATOR_URL": _env("ORDERDECK_SIMULATOR_URL") or runtime.get("simulator_url"),
        # Hosts (host or host:port) a sandbox or production store may use besides Walmart's own,
        # e.g. an egress proxy: a store's address is never free text (it receives the secret).
        "WALMART_EXTRA_HOSTS": [h.strip().lower() for h in
                                _env("ORDERDECK_WALMART_EXTRA_HOSTS", "").split(",") if h.strip()],
        # Walmart client timeouts (seconds): connect, read.
        "WALMART_CONNECT_TIMEOUT": float(_env("ORDERDECK_WALMART_CONNECT_TIMEOUT", "5")),
        "WALMART_READ_TIMEOUT": float(_env("ORDERDECK_WALMART_READ_TIMEOUT", "30")),
        # Flask-WTF: the token is bound to the session, so a dashboard left open keeps working.
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,  # uploads (tracking CSV) and forms
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "PERMANENT_SESSION_LIFETIME": 12 * 3600,
        # Sign-in throttling (webapp/services/users/login_throttle.py): failed attempts per client
        # address in a window; per account a few free tries, then a delay doubling from 1 s
        # up to LOGIN_DELAY_CAP seconds between tries.
        "LOGIN_LIMIT_PER_ADDRESS": _env("ORDERDECK_LOGIN_LIMIT_ADDRESS", "20 per 15 minutes"),
        "LOGIN_FREE_TRIES": int(_env("ORDERDECK_LOGIN_FREE_TRIES", "5")),
        "LOGIN_DELAY_CAP": float(_env("ORDERDECK_LOGIN_DELAY_CAP", "60")),
        # The sign-in throttle's Redis keys start with this.
        "RATELIMIT_KEY_PREFIX": _env("ORDERDECK_RATELIMIT_PREFIX", "orderdeck-limiter"),
        "PROXY_FIX": _flag("ORDERDECK_BEHIND_PROXY"),
        # Sync retries: exponential backoff from BASE seconds, never longer than CAP.
        "SYNC_BACKOFF_BASE": float(_env("ORDERDECK_SYNC_BACKOFF_BASE", "2")),
        "SYNC_BACKOFF_CAP": float(_env("ORDERDECK_SYNC_BACKOFF_CAP", "600")),
        # A task failing for transient reasons ends in Error only after this long (and at
        # least 15 attempts); until then it is retried, and shows as stuck after 10 minutes.
        "SYNC_GIVE_UP_HOURS": float(_env("ORDERDECK_SYNC_GIVE_UP_HOURS", "24")),
        # How often pages poll while an update is on its way to Walmart (milliseconds).
        "POLL_INTERVAL_MS": int(_env("ORDERDECK_POLL_MS", "500")),
        # How often the lists people keep open (Orders, Stock, Returns) look for changes made
        # elsewhere — by a colleague, a worker, the CLI — while nothing of theirs is in flight.
        "IDLE_POLL_MS": int(_env("ORDERDECK_IDLE_POLL_MS", "15000")),
        # A banner shows when a store has had no successful import for this long.
        "IMPORT_STALE_MINUTES": int(_env("ORDERDECK_IMPORT_STALE_MINUTES", "15")),
        # Optional notifications (a sync task entering Error, a store's import failing for
        # IMPORT_ALERT_MINUTES): a webhook and/or e-mail through SMTP.
        "NOTIFY_WEBHOOK_URL": _env("ORDERDECK_NOTIFY_WEBHOOK_URL"),
        "NOTIFY_EMAIL_TO": [a.strip() for a in (_env("ORDERDECK_NOTIFY_EMAIL_TO") or "")
                            .split(",") if a.strip()],
        "IMPORT_ALERT_MINUTES": int(_env("ORDERDECK_IMPORT_ALERT_MINUTES", "15")),
        "SMTP_HOST": _env("ORDERDECK_SMTP_HOST"),
        "SMTP_PORT": int(_env("ORDERDECK_SMTP_PORT", "587")),
        "SMTP_USER": _env("ORDERDECK_SMTP_USER"),
        "SMTP_PASSWORD": _env("ORDERDECK_SMTP_PASSWORD"),
        "SMTP_STARTTLS": _flag("ORDERDECK_SMTP_STARTTLS", default=True),
        "SMTP_FROM": _env("ORDERDECK_SMTP_FROM", "orderdeck@localhost"),
        # Links in notifications point here (e.g. https://orders.example.com).
        "PUBLIC_URL": _env("ORDERDECK_PUBLIC_URL"),
        # Reconciliation (services/reconcile): every open order and every order changed in the
        # last RECONCILE_DAYS days is compared with Walmart's; one job works this many seconds
        # before handing over to the next (spread over time, never holding a worker); reads
        # that failed are tried again this many rounds, the first after RETRY_SECONDS.
        "RECONCILE_DAYS": int(_env("ORDERDECK_RECONCILE_DAYS", "30")),
        "RECONCILE_SLICE_SECONDS": float(_env("ORDERDECK_RECONCILE_SLICE_SECONDS", "20")),
        "RECONCILE_RETRY_ROUNDS": int(_env("ORDERDECK_RECONCILE_RETRY_ROUNDS", "3")),
        "RECONCILE_RETRY_SECONDS": float(_env("ORDERDECK_RECONCILE_RETRY_SECONDS", "60")),
    }
    config.update(overrides)
    return config


def import_interval() -> int:
    """Seconds between scheduled imports of every store (read by the rq cron schedule)."""
    return int(_env("ORDERDECK_IMPORT_INTERVAL", "120"))


def returns_interval() -> int:
    """Seconds between scheduled returns imports (read by the rq cron schedule)."""
    return int(_env("ORDERDECK_RETURNS_INTERVAL", "300"))


def reconcile_cron() -> str:
    """When the nightly reconciliation starts (a cron line, UTC; read by the rq cron
    schedule): 03:30 by default, after the evening's shipments have settled."""
    return _env("ORDERDECK_RECONCILE_CRON", "30 3 * * *")


def launcher_settings() -> dict[str, Any]:
    """What `make run` needs from the environment before any app exists."""
    return {
        "port": int(_env("PORT", "5000")),
        "redis_url": _env("REDIS_URL"),
        "admin_email": _env("ORDERDECK_ADMIN_EMAIL", "admin@example.com"),
        "admin_password": _env("ORDERDECK_ADMIN_PASSWORD"),
        "instance": instance_path(),
        "simulator_port": int(_env("ORDERDECK_SIMULATOR_PORT", "5055")),
        "demo_orders": int(_env("ORDERDECK_DEMO_ORDERS", "300")),
    }
