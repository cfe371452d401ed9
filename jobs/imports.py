"""Import jobs: every store on schedule, one store on demand."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from jobs.app import app_job
from jobs.queue import enqueue_returns_import, enqueue_store_import, enqueue_walmart_event
from webapp.extensions import db
from webapp.models import Store
from webapp.models.base import utcnow
from webapp.services.orders import events, importer
from webapp.services.returns import importer as returns_importer
from webapp.services.stores import credentials
from webapp.walmart import WalmartError

log = logging.getLogger(__name__)


@app_job
def import_store(store_id: int, trigger: str = "schedule", run_id: int | None = None) -> str:
    """One import pass of one store. Walmart failing is expected: the importer records it on
    the store and its run (Stores and Home show it, alerts follow), so it makes one log line;
    any other exception fails the job with its traceback."""
    try:
        run = importer.import_store(store_id, trigger, run_id)
    except importer.ImportDeferred as exc:
        enqueue_store_import(store_id, trigger,
                             at=utcnow() + timedelta(seconds=exc.wait_seconds + 1))
        return f"deferred: {exc}"
    except WalmartError as exc:
        log.warning("store %s: import failed (recorded on the store): %s", store_id,
                    " ".join(str(exc).split())[:300])
        return f"failed: {exc}"
    if run is None:
        return "already running"
    summary = f"{run.seen} seen, {run.created} new, {run.updated} updated, {run.failed} failed"
    return f"{summary}; {run.error}" if run.error else summary


@app_job
def handle_walmart_event(event_id: int) -> str:
    """Read back the purchase order a Walmart notification names (services/orders/events).
    Walmart failing is expected: the event records it and is tried again later, by this job
    scheduled again (or the sweeper); a bug of ours fails the job with its traceback."""
    handled = events.handle(event_id)
    if handled.retry_at is not None:
        enqueue_walmart_event(event_id, handled.retry_at, at=handled.retry_at)
        return f"retry at {handled.retry_at:%H:%M:%S} (attempt {handled.attempts})"
    return handled.outcome


@app_job
def import_returns(store_id: int) -> str:
    """One returns pass of one store."""
    try:
        return f"{returns_importer.import_returns(store_id)} return(s) read"
    except importer.ImportDeferred as exc:
        enqueue_returns_import(store_id, at=utcnow() + timedelta(seconds=exc.wait_seconds + 1))
        return f"deferred: {exc}"
    except WalmartError as exc:  # retried by the next scheduled pass (the watermark stayed)
        log.warning("store %s: returns import failed: %s", store_id,
                    " ".join(str(exc).split())[:300])
        return f"failed: {exc}"


def _scheduled_stores() -> list[int]:
    """Stores with import on; one whose credentials Walmart refuses only when it is its turn
    to check them (once every few minutes, shared with its paused updates)."""
    rows = db.session.execute(select(Store.id, Store.credentials_problem)
                              .where(Store.import_enabled.is_(True))).all()
    return [store_id for store_id, problem in rows
            if not problem or credentials.probe_turn(store_id)]


@app_job
def import_all_returns() -> int:
    """Enqueue a returns import of every store with import on (rq cron)."""
    ids = _scheduled_stores()
    for store_id in ids:
        enqueue_returns_import(store_id)
    return len(ids)


@app_job
def import_all() -> int:
    """Enqueue an import of every store with import on (rq cron, every interval)."""
    ids = _scheduled_stores()
    for store_id in ids:
        enqueue_store_import(store_id, "schedule")
    return len(ids)
