"""Import now: the run a person asked for, shown at once, and the job that fills it."""

from __future__ import annotations

from redis.exceptions import RedisError

from jobs.queue import enqueue_store_import  # the enqueue adapter; services never import job tasks
from webapp.extensions import db
from webapp.models import ImportRun, Store, User
from webapp.models.base import utcnow
from webapp.services import audit
from webapp.services.unit_of_work import action


def request_run(store_id: int, trigger: str) -> ImportRun:
    """A run row made when a person asks, so the page shows it at once (the job fills it)."""
    run = ImportRun(store_id=store_id, trigger=trigger, started_at=utcnow())
    db.session.add(run)
    db.session.commit()
    return run


def fail_run(run_id: int, error: str) -> None:
    """A requested run that will never start (its job could not be queued): ended, failed,
    with why."""
    db.session.rollback()
    run = db.session.get(ImportRun, run_id)
    run.ok, run.finished_at, run.error = False, utcnow(), error
    db.session.commit()


@action
def request_import(store: Store, *, by: User | None) -> None:
    """Queue an import of the store now (the job does the work; the page shows progress)."""
    audit.record("store.import", user=by, store_id=store.id, subject=store.name)
    run = request_run(store.id, "manual")
    try:
        enqueue_store_import(store.id, "manual", run.id)
    except (RedisError, OSError):
        # No job will ever fill the run: end it now, or the page shows "Importing…" for
        # half an hour. The caller's error page says jobs are unavailable.
        fail_run(run.id, "not started: background jobs are unavailable (Redis cannot be "
                         "reached)")
        raise
