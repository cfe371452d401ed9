"""The sync engine: claim a task, respect Walmart's limits, send once, settle the outcome.

A task is claimed by a conditional UPDATE that sets a lease and counts the attempt; nothing
happens unless it is still due. An attempt that may have reached Walmart (a timeout after
sending, a lease that expired because a worker died) is settled by reading the order back
before anything is sent again.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, or_, select, update

from webapp.extensions import db
from webapp.models import Order, Store, SyncTask, TaskState
from webapp.models.base import utcnow
from webapp.services import notifications, order_queries, order_status, outbox, rate_limit
from webapp.services.stock import TASK_NODE, task_node
from webapp.services.sync_handlers import HANDLERS
from webapp.services.walmart_access import client_for
from webapp.walmart import AuthenticationError, DataError, RateLimited, TransientError, WalmartError

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 15
STUCK_AFTER = timedelta(minutes=10)


class SyncFailed(Exception):
    """Raised by the job after the failure is recorded in the task (RQ keeps the trace)."""


@dataclass(frozen=True)
class Outcome:
    state: str          # synced, retry, error, waiting, skipped
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.state in ("retry", "error")


def claim(task_id: int, now: datetime) -> bool:
    """Take the task if it is still due and nobody holds it; count the claim."""
    lease = now + timedelta(seconds=outbox.lease_seconds())
    result = db.session.execute(
        update(SyncTask)
        .where(SyncTask.id == task_id, SyncTask.state == TaskState.PENDING.value,
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


def _count_attempt(task: SyncTask) -> None:
    """One more call to Walmart, counted only while the task is still ours (same claim and a
    lease that has not run out); committed before the call is made."""
    claims = task.claims
    db.session.commit()
    result = db.session.execute(
        update(SyncTask).where(SyncTask.id == task.id, SyncTask.claims == claims,
                               SyncTask.lease_until >= utcnow())
        .values(attempts=SyncTask.attempts + 1).execution_options(synchronize_session=False))
    db.session.commit()
    if result.rowcount != 1:
        raise LeaseLost(f"task {task.id} was taken over by another worker")
    db.session.refresh(task)


def backoff_delay(attempts: int) -> float:
    """Exponential backoff with jitter (half to full delay), capped (10 minutes by default)."""
    base, cap = current_app.config["SYNC_BACKOFF_BASE"], current_app.config["SYNC_BACKOFF_CAP"]
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    return delay * random.uniform(0.5, 1.0)


def _finish(task: SyncTask, **values) -> None:
    for key, value in values.items():
        setattr(task, key, value)
    task.lease_until = None
    failed = task.state == TaskState.ERROR.value
    if failed:
        task.failed_at = utcnow()
        if task.kind == "refund":
            _refund_failed(task)
    if task.order_id:
        order = db.session.get(Order, task.order_id)
        order_status.refresh(order)
        order.updated_at = utcnow()
    db.session.commit()
    if task.order_id:
        order_queries.invalidate_counts()
    outbox.publish_pending()  # e.g. stock pushes that the order's new state asked for
    if failed:
        notifications.task_failed(task)


def _refund_failed(task: SyncTask) -> None:
    """Walmart refused a refund: the return shows Error (and the units are refundable again
    only after Retry succeeds or someone resolves it)."""
    from webapp.models import Refund, Return
    from webapp.services.return_status import refresh

    refund = db.session.scalar(select(Refund).where(Refund.task_id == task.id))
    if refund is not None:
        refresh(db.session.get(Return, refund.return_id))


def _gives_up(task: SyncTask) -> bool:
    """Walmart unreachable or failing: keep trying (with backoff) for SYNC_GIVE_UP_HOURS, and
    at least MAX_ATTEMPTS times, before the task waits for a person in Error. A burst of
    failures never ends a young task; a long outage shows as stuck meanwhile."""
    hours = current_app.config["SYNC_GIVE_UP_HOURS"]
    return task.attempts >= MAX_ATTEMPTS and (
        utcnow() - task.created_at >= timedelta(hours=hours))


def _retry_at(task: SyncTask, at: datetime, code: str, message: str,
              ambiguous: bool = False) -> Outcome:
    if _gives_up(task):
        _finish(task, state=TaskState.ERROR.value, last_error_code=code, last_error_field=None,
                last_error_message=f"Gave up after {task.attempts} attempts: {message}",
                ambiguous=task.ambiguous or ambiguous)
        return Outcome("error", message)
    _finish(task, next_attempt_at=at, last_error_code=code, last_error_field=None,
            last_error_message=message, ambiguous=task.ambiguous or ambiguous)
    outbox.schedule(task, at=at)
    return Outcome("retry", message)


def _wait(task: SyncTask, seconds: float) -> Outcome:
    """Our own bucket is empty: come back when it has a token (not an error, not sleeping)."""
    at = utcnow() + timedelta(seconds=max(seconds, 0.05))
    task.next_attempt_at, task.lease_until = at, None
    db.session.commit()
    outbox.schedule(task, at=at)
    return Outcome("waiting", f"rate limit: next call in {seconds:.1f}s")


def _earlier_pending(task: SyncTask) -> SyncTask | None:
    """An earlier update of the same order (or the same SKU's stock at the same node) still
    on its way: Walmart wants them in order (an order is acknowledged before it ships)."""
    same = (SyncTask.order_id == task.order_id) if task.order_id is not None else (
        (SyncTask.store_id == task.store_id) & (SyncTask.kind == task.kind)
        & (SyncTask.target == task.target))
    if task.kind == "inventory":  # a SKU's stock at another ship node is another quantity
        same = same & (TASK_NODE == task_node(task))
    return db.session.scalar(select(SyncTask).where(
        same, SyncTask.id < task.id, SyncTask.state == TaskState.PENDING.value)
        .order_by(SyncTask.id).limit(1))


def _succeed(task: SyncTask, result, handler) -> Outcome:
    handler.on_success(task, result)
    _finish(task, state=TaskState.SYNCED.value, synced_at=utcnow(), ambiguous=False,
            stuck=False, last_error_code=None, last_error_field=None, last_error_message=None)
    return Outcome("synced")


def _recheck(client, task: SyncTask, handler, exc: DataError) -> Outcome | None:
    """Some refusals mean 'already done' (acknowledging an order that moved on): look."""
    if not getattr(handler, "recheck_on_data_error", False):
        return None
    try:
        current = handler.read_back(client, task)
    except WalmartError:
        return None
    return _succeed(task, current, handler) if handler.applied(task, current) else None


def process_task(task_id: int) -> Outcome:
    """One attempt at one task; every outcome is written to the task row."""
    if not claim(task_id, utcnow()):
        return Outcome("skipped", "not due, or held by another worker")
    task = db.session.get(SyncTask, task_id)
    db.session.refresh(task)
    store = db.session.get(Store, task.store_id)
    handler = HANDLERS[task.kind]
    blocker = _earlier_pending(task)
    if blocker is not None:
        outbox.expedite(blocker)
        wake = max((blocker.next_attempt_at - utcnow()).total_seconds(), 0) + 0.5
        return _wait(task, min(wake, 30.0))
    try:
        client = client_for(store)
        if task.ambiguous and handler.read_back is not None:
            took = rate_limit.take(store, handler.read_endpoint, task.urgent)
            if not took.allowed:
                return _wait(task, took.wait_seconds)
            _count_attempt(task)
            current = handler.read_back(client, task)
            if handler.applied(task, current):
                log.info("task %s was already applied at Walmart (read back)", task.id)
                return _succeed(task, current, handler)
            task.ambiguous = False
        took = rate_limit.take(store, handler.endpoint, task.urgent)
        if not took.allowed:
            # Many background tasks wait on one bucket: spread their wake-ups out.
            return _wait(task, took.wait_seconds if task.urgent else
                         took.wait_seconds + random.uniform(0, 20))
        _count_attempt(task)
        result = handler.send(client, task)
    except LeaseLost as exc:
        db.session.rollback()
        return Outcome("skipped", str(exc))
    except RateLimited as exc:
        return _retry_at(task, exc.retry_at, "RATE_LIMITED",
                         "Walmart's rate limit was reached; retrying when it refills")
    except TransientError as exc:
        at = utcnow() + timedelta(seconds=backoff_delay(task.attempts))
        code = f"HTTP_{exc.status}" if exc.status else "TRANSIENT"
        return _retry_at(task, at, code, str(exc), ambiguous=exc.ambiguous)
    except AuthenticationError as exc:
        _finish(task, state=TaskState.ERROR.value, last_error_code=exc.code or "UNAUTHORIZED",
                last_error_field=None, last_error_message=str(exc))
        return Outcome("error", str(exc))
    except DataError as exc:
        settled = _recheck(client, task, handler, exc)
        if settled is not None:
            return settled
        _finish(task, state=TaskState.ERROR.value, last_error_code=exc.code or str(exc.status),
                last_error_field=exc.field,
                last_error_message=exc.description or exc.info or str(exc))
        return Outcome("error", str(exc))
    except WalmartError as exc:  # anything else Walmart-shaped: retry, reading back first
        at = utcnow() + timedelta(seconds=backoff_delay(task.attempts))
        return _retry_at(task, at, "WALMART", str(exc), ambiguous=True)
    except Exception as exc:
        db.session.rollback()
        task = db.session.get(SyncTask, task_id)
        at = utcnow() + timedelta(seconds=backoff_delay(task.attempts))
        _retry_at(task, at, "INTERNAL", f"{type(exc).__name__}: {exc}", ambiguous=True)
        raise
    return _succeed(task, result, handler)


def sweep(now: datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Every minute: expire dead leases, flag stuck tasks, enqueue due tasks without a job."""
    now = now or utcnow()
    expired = db.session.execute(
        update(SyncTask).where(SyncTask.state == TaskState.PENDING.value,
                               SyncTask.lease_until < now)
        .values(lease_until=None, ambiguous=True)
        .execution_options(synchronize_session=False)).rowcount
    stuck = db.session.execute(
        update(SyncTask).where(SyncTask.state == TaskState.PENDING.value,
                               SyncTask.stuck.is_(False),
                               SyncTask.created_at < now - STUCK_AFTER)
        .values(stuck=True).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    due = db.session.scalars(
        select(SyncTask).where(SyncTask.state == TaskState.PENDING.value,
                               SyncTask.next_attempt_at <= now, SyncTask.lease_until.is_(None))
        .order_by(SyncTask.next_attempt_at).limit(batch)).all()
    enqueued = sum(1 for task in due if outbox.schedule(task))
    if expired or stuck:
        log.warning("sweep: %d expired lease(s), %d task(s) pending over %s", expired, stuck,
                    STUCK_AFTER)
    return {"expired": expired, "stuck": stuck, "due": len(due), "enqueued": enqueued}
