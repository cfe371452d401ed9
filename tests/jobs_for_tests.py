"""Job functions the tests enqueue by dotted name (workers import them like real jobs)."""

from __future__ import annotations

from flask import current_app

from jobs.app import app_job


@app_job
def which_database() -> str:
    """Proves the job ran inside an app context built by the worker side."""
    return current_app.config["SQLALCHEMY_DATABASE_URI"]


@app_job
def fails() -> None:
    """A job that fails before doing anything (a database blip, say)."""
    raise RuntimeError("database is locked")
