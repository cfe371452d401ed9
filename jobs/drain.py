"""`flask sync drain`: work through pending sync tasks now, waiting through backoff."""

from __future__ import annotations

import time
from datetime import datetime

from rq import SimpleWorker
from sqlalchemy import func, select

from jobs.queue import QUEUE_NAME
from webapp.extensions import db, redis_connection
from webapp.models import SyncTask, TaskState
from webapp.models.base import utcnow
from webapp.services.sync import engine as sync_engine


def pending_tasks() -> list[SyncTask]:
    return list(db.session.scalars(select(SyncTask).where(
        SyncTask.state == TaskState.PENDING).order_by(SyncTask.id)))


def drain(timeout: float = 300.0, poll: float = 0.5) -> list[SyncTask]:
    """Run burst workers until no task is pending (returns []) or the timeout passes
    (returns what is still pending)."""
    deadline = time.monotonic() + timeout
    while True:
        sync_engine.sweep()  # due tasks whose job was lost get one again
        SimpleWorker([QUEUE_NAME], connection=redis_connection()).work(
            burst=True, with_scheduler=True, logging_level="WARNING")
        db.session.expire_all()
        waiting = db.session.scalar(select(func.min(SyncTask.next_attempt_at)).where(
            SyncTask.state == TaskState.PENDING))
        if waiting is None:
            return []
        if time.monotonic() >= deadline:
            return pending_tasks()
        until_due = (waiting - utcnow()).total_seconds() if isinstance(waiting, datetime) else 0
        time.sleep(min(max(until_due, poll), max(deadline - time.monotonic(), 0), 5.0))
