"""Jobs build the Flask app themselves: one per worker process, a fresh app context per job."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, current_app, has_app_context

from webapp import create_app
from webapp.extensions import db

_app: Flask | None = None
_pid: int | None = None


def get_app() -> Flask:
    """This process's app; after a fork the child drops the parent's database connections."""
    global _app, _pid
    if _app is None:
        # A worker waits on Redis with nobody waiting on it: no web fail-fast (see
        # webapp.extensions.redis_connection).
        _app, _pid = create_app({"REDIS_FAIL_FAST": False}), os.getpid()
    elif _pid != os.getpid():
        with _app.app_context():
            db.engine.dispose(close=False)  # never share a parent's sockets
        _pid = os.getpid()
    return _app


def app_job(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run the job in a fresh app context, so each job has its own database session.

    Under `rq worker` and `python -m jobs.worker` the app is this process's; a worker started
    inside an app context (tests, `flask sync drain`) runs its jobs with that app.
    """
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        app = current_app._get_current_object() if has_app_context() else get_app()
        with app.app_context():
            return func(*args, **kwargs)
    return wrapper
