"""Extension singletons, bound to the app in create_app() with init_app."""

from __future__ import annotations

import time

from flask import current_app
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from redis import ConnectionPool, Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so Alembic's batch mode on SQLite can alter them later.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()


# Redis (jobs, locks, caches) unreachable: when each address was last found so, per process.
# A web request fails fast for a few seconds after (see _FailFast), instead of waiting a
# timeout on every Redis call of every page.
_DOWN_SINCE: dict[str, float] = {}


def _fail_fast(base: type, url: str, pause: float) -> type:
    """A connection class that, for `pause` seconds after its Redis could not be reached (or
    did not answer in time), refuses at once instead of trying again."""

    class FailFast(base):
        def _check(self) -> None:
            if time.monotonic() - _DOWN_SINCE.get(url, -pause) < pause:
                raise RedisConnectionError("Redis could not be reached moments ago")

        def _noted(self, call, *args, **kwargs):
            try:
                return call(*args, **kwargs)
            except (RedisConnectionError, RedisTimeoutError, OSError):
                _DOWN_SINCE[url] = time.monotonic()
                raise

        def connect(self, *args, **kwargs):
            if getattr(self, "_sock", None) is None:
                self._check()
            return self._noted(super().connect, *args, **kwargs)

        def send_packed_command(self, *args, **kwargs):
            return self._noted(super().send_packed_command, *args, **kwargs)

        def read_response(self, *args, **kwargs):
            return self._noted(super().read_response, *args, **kwargs)

    FailFast.__name__ = f"FailFast{base.__name__}"
    return FailFast


def redis_unavailable() -> bool:
    """Whether this process found the app's Redis unreachable in the last few seconds."""
    config = current_app.config
    since = _DOWN_SINCE.get(config["REDIS_URL"])
    return since is not None and time.monotonic() - since < config["REDIS_RETRY_AFTER"]


def fail_fast_pool(config) -> ConnectionPool:
    """Connections to the app's Redis for the web: REDIS_TIMEOUT (about a second) per call,
    no retry, and none tried for REDIS_RETRY_AFTER seconds after a failure."""
    url, timeout = config["REDIS_URL"], config["REDIS_TIMEOUT"]
    pool = ConnectionPool.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                   health_check_interval=30, retry=Retry(NoBackoff(), 0))
    pool.connection_class = _fail_fast(pool.connection_class, url, config["REDIS_RETRY_AFTER"])
    return pool


def redis_connection() -> Redis:
    """The app's Redis connection (bytes responses: RQ needs them).

    The web's calls time out after REDIS_TIMEOUT (about a second), are not retried, and for
    REDIS_RETRY_AFTER seconds after a failure fail at once: with Redis down or hung, a page
    answers at once and says jobs are unavailable. A worker process (REDIS_FAIL_FAST off)
    keeps longer timeouts and redis-py's retries: it has nobody waiting on it."""
    conn = current_app.extensions.get("orderdeck_redis")
    if conn is None:
        config = current_app.config
        if config.get("REDIS_FAIL_FAST", True):
            conn = Redis(connection_pool=fail_fast_pool(config))
        else:
            conn = Redis.from_url(config["REDIS_URL"], socket_timeout=10,
                                  socket_connect_timeout=5, health_check_interval=30)
        current_app.extensions["orderdeck_redis"] = conn
    return conn
