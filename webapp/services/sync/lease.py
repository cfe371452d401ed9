"""Leases on sync tasks: claiming a task, counting its attempts while the lease holds, and the
sweeper that frees dead workers' leases, flags tasks pending too long and enqueues due tasks
that have no job."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import case, or_, select, update

from webapp.extensions import db
from webapp.models import SyncTask, TaskState
from webapp.models.base import utcnow
from webapp.services.sync import outbox

log = logging.getLogger(__name__)
STUCK_AFTER = timedelta(minutes=10)


def claim(task_id: int, now: datetime) -> bool:
    """Take the task if it is still due and nobody holds it; count the claim."""
    lease = now + timedelta(seconds=outbox.lease_seconds())
    result = db.session.execute(
        update(SyncTask)
        .where(SyncTask.id == task_id, SyncTask.state == TaskState.PENDING,
               SyncTask.next_attempt_at <= now,
               or_(SyncTask.lease_until.is_(None), SyncTask.lease_until < now))
        # A lease still set means a worker died mid-attempt: that attempt may have sent.
        .values(lease_until=lease, claims=SyncTask.claims + 1,
                ambiguous=case((SyncTask.lease_until.is_not(None), True),
                               else_=SyncTask.ambiguous))
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


class LeaseLost(Exception):
    """Another worker took the task over (our lease ran out): this one must not send."""


def count_attempt(task: SyncTask, *, read_back: bool = False, new_try: bool = True) -> None:
    """One more call to Walmart, counted only while the task is still ours (same claim and a
    lease that has not run out); committed before the call is made. `attempts` counts tries,
    which set the backoff and the limit: a read-back and the send it allows are one try (the
    send is made with `new_try=False`); `read_backs` counts the read-backs among them."""
    claims = task.claims
    db.session.commit()
    values = {"attempts": SyncTask.attempts + (1 if new_try else 0)}
    if read_back:
        values["read_backs"] = SyncTask.read_backs + 1
    result = db.session.execute(
        update(SyncTask).where(SyncTask.id == task.id, SyncTask.claims == claims,
                               SyncTask.lease_until >= utcnow())
        .values(**values).execution_options(synchronize_session=False))
    db.session.commit()
    if result.rowcount != 1:
        raise LeaseLost(f"task {task.id} was taken over by another worker")
    db.session.refresh(task)


def tries_since_retry(task: SyncTask) -> int:
    """Tries since a person last pressed Retry: what the backoff and the limit count (the
    history keeps every try, so the sync table never reads 0 during a manual retry)."""
    return max(task.attempts - task.attempts_before_retry, 0)


def sweep(now: datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Every minute: expire dead leases, flag stuck tasks, enqueue due tasks without a job."""
    now = now or utcnow()
    expired = db.session.execute(
        update(SyncTask).where(SyncTask.state == TaskState.PENDING,
                               SyncTask.lease_until < now)
        .values(lease_until=None, ambiguous=True)
        .execution_options(synchronize_session=False)).rowcount
    stuck = db.session.execute(
        update(SyncTask).where(SyncTask.state == TaskState.PENDING,
                               SyncTask.stuck.is_(False),
                               SyncTask.created_at < now - STUCK_AFTER)
        .values(stuck=True).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    due = db.session.scalars(
        select(SyncTask).where(SyncTask.state == TaskState.PENDING,
                               SyncTask.next_attempt_at <= now, SyncTask.lease_until.is_(None))
        .order_by(SyncTask.next_attempt_at).limit(batch)).all()
    enqueued = sum(1 for task in due if outbox.schedule(task))
    if expired or stuck:
        log.warning("sweep: %d expired lease(s), %d task(s) pending over %s", expired, stuck,
                    STUCK_AFTER)
    return {"expired": expired, "stuck": stuck, "due": len(due), "enqueued": enqueued}
