"""Reconciliation jobs: a pass's slices, the nightly start of every store's pass, and
Adopt Walmart's state (services/reconcile)."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from sqlalchemy import select

from jobs.app import app_job
from jobs.queue import enqueue_reconcile, enqueue_reconcile_adopt
from webapp.extensions import db
from webapp.models import Store
from webapp.models.base import utcnow
from webapp.services.reconcile import actions, run

log = logging.getLogger(__name__)


# A wait this short is slept here, in the same job, rather than handed to RQ's scheduler
# (which moves due jobs about once a second, and only while its lock is held): a bucket that
# refills in a fraction of a second, a quick retry. At most this many slices per job.
SHORT_WAIT = timedelta(seconds=2)
SLICES_PER_JOB = 3


@app_job
def run_slice(run_id: int) -> str:
    """One slice of a pass; the next is queued for when it can go on (a bucket refilled, a
    retry round due), so the pass is spread over time without holding a worker."""
    for _ in range(SLICES_PER_JOB):
        at = run.step(run_id)
        if at is None:
            return "finished"
        wait = at - utcnow()
        if wait > SHORT_WAIT:
            break
        time.sleep(max(wait.total_seconds(), 0))
    enqueue_reconcile(run_id, at=at)
    return f"goes on at {at:%H:%M:%S}"


def start_store(store_id: int, trigger: str, days: int | None = None):
    """Start a pass of the store (unless one is going) and queue its first slice."""
    found, new = run.start(store_id, trigger, days)
    db.session.commit()
    if new:
        enqueue_reconcile(found.id)
    return found, new


@app_job
def reconcile_all() -> int:
    """Nightly: a pass of every store whose import is on. Returns how many started."""
    started = 0
    for store_id in db.session.scalars(select(Store.id).where(Store.import_enabled.is_(True))
                                       .order_by(Store.id)).all():
        _run, new = start_store(store_id, "schedule")
        started += int(new)
    return started


@app_job
def adopt(finding_id: int, attempt: int = 1) -> str:
    """Adopt Walmart's state for a difference; tried again later when Walmart fails or a
    bucket is empty."""
    at = actions.run_adopt(finding_id, attempt)
    if at is None:
        return "done"
    enqueue_reconcile_adopt(finding_id, attempt + 1, at=at)
    return f"again at {at:%H:%M:%S}"


def queue_due() -> int:
    """Passes whose next slice is overdue (its job lost while Redis was away): queued again
    (the sweeper)."""
    due = run.due_runs()
    for run_id in due:
        enqueue_reconcile(run_id)
    return len(due)
