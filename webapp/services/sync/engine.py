"""The sync engine: claim a task, respect Walmart's limits, send once, settle the outcome.

A task is claimed by a conditional UPDATE that sets a lease and counts the attempt
(sync_lease); nothing happens unless it is still due. An attempt that may have reached Walmart
(a timeout after sending, a lease that expired because a worker died) is settled by reading the
order back before anything is sent again. A store whose credentials Walmart refuses pauses its
tasks (credentials), without counting attempts or the time towards giving up.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Order, Store, SyncTask, TaskState
from webapp.models.base import utcnow
from webapp.services.orders import status as order_status
from webapp.services.stock.levels import TASK_NODE, task_node
from webapp.services.stores import credentials, notifications
from webapp.services.stores import mode as store_mode
from webapp.services.stores.walmart_access import client_for
from webapp.services.sync import outbox, rate_limit
from webapp.services.sync.lease import STUCK_AFTER, LeaseLost, claim, count_attempt, sweep  # noqa: F401
from webapp.services.sync.lease import tries_since_retry as tries
from webapp.services.sync.task_kinds import TaskKindDef, kind_of
from webapp.walmart import AuthenticationError, DataError, RateLimited, TransientError, WalmartError
from webapp.walmart.client import WalmartClient
from webapp.walmart.errors import AddressRefused

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 15
ADDRESS_RECHECK = timedelta(minutes=5)  # a store whose address may not be used: look again


@dataclass(frozen=True)
class Outcome:
    state: str          # synced, retry, error, waiting, paused, skipped
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.state in ("retry", "error")


def backoff_delay(attempts: int) -> float:
    """Exponential backoff with jitter (half to full delay), capped (10 minutes by default)."""
    base, cap = current_app.config["SYNC_BACKOFF_BASE"], current_app.config["SYNC_BACKOFF_CAP"]
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    return delay * random.uniform(0.5, 1.0)


def _finish(task: SyncTask, **values) -> None:
    for key, value in values.items():
        setattr(task, key, value)
    task.lease_until = None
    failed = task.state == TaskState.ERROR
    if failed:
        task.failed_at = utcnow()
        kind_of(task).on_error(task)
    if task.order_id:
        order = db.session.get(Order, task.order_id)
        order_status.refresh(order)
        order.updated_at = utcnow()
    db.session.commit()  # (publishing e.g. stock pushes that the order's new state asked for)
    if failed:
        notifications.task_failed(task)


def _gives_up(task: SyncTask) -> bool:
    """Walmart unreachable or failing: keep trying (with backoff) for SYNC_GIVE_UP_HOURS, and
    at least MAX_ATTEMPTS times, before the task waits for a person in Error. A burst of
    failures never ends a young task; a long outage shows as stuck meanwhile. Time spent
    waiting for the store's credentials to be fixed does not count."""
    hours = current_app.config["SYNC_GIVE_UP_HOURS"]
    now = utcnow()
    paused = credentials.paused_for(task, db.session.get(Store, task.store_id), now)
    return tries(task) >= MAX_ATTEMPTS and (
        now - task.created_at - timedelta(seconds=paused) >= timedelta(hours=hours))


def _retry_at(task: SyncTask, at: datetime, code: str, message: str,
              ambiguous: bool = False) -> Outcome:
    if _gives_up(task):
        _finish(task, state=TaskState.ERROR, last_error_code=code, last_error_field=None,
                last_error_message=f"Gave up after {tries(task)} attempts: {message}",
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


def _park(task: SyncTask) -> Outcome:
    """A read-only store sends nothing: the task waits, unsent and uncounted, until the store
    is switched to read-write (which makes it due at once)."""
    message = "Waiting: the store is read-only, so nothing is sent to Walmart."
    task.next_attempt_at = utcnow() + timedelta(seconds=store_mode.PARK_SECONDS)
    task.lease_until, task.last_error_code = None, store_mode.PARKED
    task.last_error_field, task.last_error_message = None, message
    db.session.commit()
    return Outcome("waiting", message)


def _pause(task: SyncTask) -> Outcome:
    """The store's credentials are refused: wait for the next check (or for a person to
    change them, which wakes the task at once), without calling Walmart or counting an
    attempt. The order's Status details say why it waits."""
    at = utcnow() + timedelta(seconds=credentials.PROBE_SECONDS + random.uniform(0, 30))
    task.next_attempt_at, task.lease_until = at, None
    if task.order_id:
        order_status.refresh(db.session.get(Order, task.order_id))
    db.session.commit()
    outbox.schedule(task, at=at)
    return Outcome("paused", "waiting for the store's credentials")


def _credentials_refused(task: SyncTask, store: Store, exc: AuthenticationError) -> Outcome:
    """Not the update's fault: the store shows the problem and its updates wait for it. The
    call is not counted as one of the task's attempts."""
    task.attempts = max(task.attempts - 1, 0)
    credentials.record_refusal(store, exc)
    return _pause(task)


def _earlier_pending(task: SyncTask) -> SyncTask | None:
    """An earlier update of the same order (or the same SKU's stock at the same node) still
    on its way: Walmart wants them in order (an order is acknowledged before it ships).

    Asked before every send, so it reads no history. SQLite plans without statistics, and
    would rather read every pending task through the state's index (or the store's) given
    the state or an id range in SQL: so an order's few tasks come through the order's index
    and their state is looked at here, and for a SKU or a return the first of its pending
    ones comes through ix_sync_tasks_pending and is compared here."""
    node = task_node(task) if kind_of(task).queued_per_ship_node else None
    if task.order_id is not None:
        earlier = db.session.execute(select(SyncTask.id, SyncTask.state, TASK_NODE).where(
            SyncTask.order_id == task.order_id, SyncTask.id < task.id)
            .order_by(SyncTask.id)).all()
        first = next((task_id for task_id, state, at in earlier
                      if state == TaskState.PENDING and node in (None, at)), None)
        return db.session.get(SyncTask, first) if first is not None else None
    same = (SyncTask.store_id == task.store_id) & (SyncTask.kind == task.kind) \
        & (SyncTask.target == task.target)
    if node is not None:
        same = same & (TASK_NODE == node)
    first = db.session.scalar(select(SyncTask).where(same, SyncTask.state == TaskState.PENDING)
                              .order_by(SyncTask.id).limit(1))
    return first if first is not None and first.id < task.id else None


def _succeed(task: SyncTask, result, kind: TaskKindDef, read_back: bool = False) -> Outcome:
    kind.on_success(task, result)
    # A note made when the task was queued (e.g. after a switch to read-write) stays.
    note = f"Synced by read-back: {kind.read_back_note}." if read_back else task.note
    _finish(task, state=TaskState.SYNCED, synced_at=utcnow(), ambiguous=False,
            stuck=False, last_error_code=None, last_error_field=None, last_error_message=None,
            note=note)
    return Outcome("synced")


def _recheck(client, task: SyncTask, kind: TaskKindDef, exc: DataError) -> Outcome | None:
    """Some refusals mean 'already done' (acknowledging an order that moved on, shipping or
    cancelling lines that already are): look before calling it an error. The kind may also
    find why Walmart refused (lines it cancelled meanwhile) and say so."""
    if not kind.recheck_on_data_error:
        return None
    try:
        current = kind.read_back(client, task)
    except WalmartError:
        return None
    if kind.applied(task, current):
        log.info("task %s: Walmart refused it as already done (read back)", task.id)
        return _succeed(task, current, kind, read_back=True)
    reason = kind.refusal(task, current)
    if reason is None:
        return None
    said = exc.description or exc.info or str(exc)
    _finish(task, state=TaskState.ERROR, last_error_code=exc.code or str(exc.status),
            last_error_field=exc.field, last_error_message=f"{reason} Walmart said: {said}")
    return Outcome("error", reason)


def process_task(task_id: int) -> Outcome:
    """One attempt at one task; every outcome is written to the task row."""
    if not claim(task_id, utcnow()):
        return Outcome("skipped", "not due, or held by another worker")
    task = db.session.get(SyncTask, task_id)
    db.session.refresh(task)
    store = db.session.get(Store, task.store_id)
    db.session.refresh(store)  # its credentials may have been refused (or fixed) meanwhile
    if store.read_only:
        return _park(task)
    if store.credentials_problem and not credentials.probe_turn(store.id):
        return _pause(task)
    kind = kind_of(task)
    blocker = _earlier_pending(task)
    if blocker is not None:
        outbox.expedite(blocker)
        wake = max((blocker.next_attempt_at - utcnow()).total_seconds(), 0) + 0.5
        return _wait(task, min(wake, 30.0))
    try:
        client = client_for(store)
    except AddressRefused as exc:  # nothing sent: a person must correct the store's address
        return _retry_at(task, utcnow() + ADDRESS_RECHECK, "ADDRESS_REFUSED", str(exc))
    except Exception as exc:
        _internal(task_id, exc)
        raise
    outcome = _attempt(task, store, kind, client)
    if store.credentials_problem and client.authenticated and outcome.state != "paused":
        # Walmart took a token: the credentials work again, every paused update resumes.
        credentials.resume_updates(store.id, checked_by=task.id)
    return outcome


def _internal(task_id: int, exc: Exception) -> None:
    """A bug of ours: recorded on the task and retried like a Walmart fault (the caller
    re-raises, so RQ keeps the trace)."""
    db.session.rollback()
    task = db.session.get(SyncTask, task_id)
    at = utcnow() + timedelta(seconds=backoff_delay(tries(task)))
    _retry_at(task, at, "INTERNAL", f"{type(exc).__name__}: {exc}", ambiguous=True)


def _attempt(task: SyncTask, store: Store, kind: TaskKindDef, client: WalmartClient) -> Outcome:
    """Read back when the last try may have reached Walmart, send, and settle the outcome."""
    task_id = task.id  # (readable after a failed transaction too)
    read_back = False  # this try began with a read-back: the send below is part of it
    try:
        if task.ambiguous and kind.read_endpoint is not None:
            took = rate_limit.take(store, kind.read_endpoint, task.urgent)
            if not took.allowed:
                return _wait(task, took.wait_seconds)
            count_attempt(task, read_back=True)
            read_back = True
            current = kind.read_back(client, task)
            if kind.applied(task, current):
                log.info("task %s was already applied at Walmart (read back)", task.id)
                return _succeed(task, current, kind, read_back=True)
            task.ambiguous = False
        took = rate_limit.take(store, kind.endpoint, task.urgent)
        if not took.allowed:
            # Many background tasks wait on one bucket: spread their wake-ups out.
            return _wait(task, took.wait_seconds if task.urgent else
                         took.wait_seconds + random.uniform(0, 20))
        count_attempt(task, new_try=not read_back)
        result = kind.send(client, task)
    except LeaseLost as exc:
        db.session.rollback()
        return Outcome("skipped", str(exc))
    except RateLimited as exc:
        return _retry_at(task, exc.retry_at, "RATE_LIMITED",
                         "Walmart's rate limit was reached; retrying when it refills")
    except TransientError as exc:
        at = utcnow() + timedelta(seconds=backoff_delay(tries(task)))
        code = f"HTTP_{exc.status}" if exc.status else "TRANSIENT"
        return _retry_at(task, at, code, str(exc), ambiguous=exc.ambiguous)
    except AuthenticationError as exc:
        return _credentials_refused(task, store, exc)
    except DataError as exc:
        settled = _recheck(client, task, kind, exc)
        if settled is not None:
            return settled
        _finish(task, state=TaskState.ERROR, last_error_code=exc.code or str(exc.status),
                last_error_field=exc.field,
                last_error_message=exc.description or exc.info or str(exc))
        return Outcome("error", str(exc))
    except WalmartError as exc:  # anything else Walmart-shaped: retry, reading back first
        at = utcnow() + timedelta(seconds=backoff_delay(tries(task)))
        return _retry_at(task, at, "WALMART", str(exc), ambiguous=True)
    except Exception as exc:
        _internal(task_id, exc)
        raise
    return _succeed(task, result, kind)
