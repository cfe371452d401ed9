"""Writing outbox rows with the change they carry, and handing them to RQ after commit.

The unit of work (webapp/services/unit_of_work.py) calls committed() after every commit and
rolled_back() after every rollback: a service adds its tasks and commits, nothing more."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import inspect, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction

from jobs.queue import (  # the enqueue adapter; services never import job tasks
    enqueue_new_sync_tasks,
    enqueue_sync_batch,
    enqueue_sync_task,
    promote,
)
from webapp.extensions import db
from webapp.models import Order, Store, SyncTask, TaskKind, TaskState
from webapp.models.base import utcnow
from webapp.services.errors import StoreReadOnly

log = logging.getLogger(__name__)
# session.info: what the open transaction queued, published after its commit.
PENDING_KEY = "orderdeck_unpublished_tasks"      # new tasks (SyncTask objects)
BATCH_KEY = "orderdeck_unpublished_batches"      # new tasks run in one job ([ids])
RESTART_KEY = "orderdeck_unpublished_restarts"   # existing tasks set going again (id, job id)
KEYS = (PENDING_KEY, BATCH_KEY, RESTART_KEY)
HOLD_KEY = "orderdeck_held_tasks"                # committed, published when held() ends
MARKS_KEY = "orderdeck_outbox_savepoints"        # open savepoint → what was queued before it


def add_task(store_id: int, kind: TaskKind, target: str, *, order: Order | None = None,
             payload: dict[str, Any] | None = None, urgent: bool = True,
             order_id: int | None = None) -> SyncTask:
    """Add a task to the current transaction; it is published after the commit. Tasks a person
    started are urgent; background ones (acknowledging imports) are not. `order_id` instead
    of `order`: the order was bulk-inserted and marked in flight already. A read-only store
    sends nothing: its callers check first; this refusal is the last line of defence."""
    _refuse_if_read_only(store_id)
    task = SyncTask(store_id=store_id, kind=kind, target=target, payload=payload,
                    next_attempt_at=utcnow(), urgent=urgent)
    if order is not None:
        task.order = order
    else:  # never set the relationship to None: its flush would clear order_id
        task.order_id = order_id
    db.session.add(task)
    db.session.info.setdefault(PENDING_KEY, []).append(task)
    if order is not None:
        order.in_flight = True
    return task


def add_batch(store_id: int, kind: TaskKind,
              targets: list[tuple[str, int]] | list[tuple[str, int | None, dict | None]]
              ) -> list[int]:
    """Background tasks for many at once — an import page's acknowledgements, [(target,
    order id)], or a stock file's pushes, [(SKU, None, payload)] — in one INSERT; after
    the commit, one job runs their first attempts one after another (Walmart's rate limit
    spaces them anyway)."""
    if not targets:
        return []
    _refuse_if_read_only(store_id)
    table = SyncTask.__table__
    now = utcnow()
    ids = list(db.session.execute(table.insert().returning(table.c.id), [
        {"store_id": store_id, "kind": kind, "target": item[0], "order_id": item[1],
         "payload": item[2] if len(item) > 2 else None,
         "urgent": False, "next_attempt_at": now, "created_at": now, "updated_at": now}
        for item in targets]).scalars())
    db.session.info.setdefault(BATCH_KEY, []).append(sorted(ids))
    return ids


def _refuse_if_read_only(store_id: int) -> None:
    store = db.session.get(Store, store_id)
    if store is not None and store.read_only:
        raise StoreReadOnly(store.name)


def lease_seconds() -> float:
    """Longer than the longest attempt: up to six calls (tokens, read-back, send, a resend
    after a 401) at the configured timeouts. The job's own timeout ends before the lease."""
    config = current_app.config
    return 6 * (config["WALMART_CONNECT_TIMEOUT"] + config["WALMART_READ_TIMEOUT"]) + 60


def schedule(task: SyncTask, at: datetime | None = None) -> bool:
    """Enqueue the task's next attempt (job id = task id + attempt, unique).

    Redis being down loses nothing: the row is pending and the sweeper enqueues it later.
    """
    return _enqueue(task.id, task.job_id, at)


def _enqueue(task_id: int, job_id: str, at: datetime | None = None) -> bool:
    try:
        if at is not None:  # RQ's schedule has whole seconds: never wake before it is due
            at = at.replace(microsecond=0) + timedelta(seconds=1) if at.microsecond else at
        job = enqueue_sync_task(task_id, job_id, at=at,
                                job_timeout=int(lease_seconds()) - 30)
    except (RedisError, OSError) as exc:
        log.warning("could not enqueue sync task %s (%s); the sweeper will", task_id, exc)
        return False
    return job is not None


def expedite(task: SyncTask) -> None:
    """A person's update waits for this one: make it urgent and run it first — once it is due.

    A job run before its task is due is skipped by the claim, and then nothing but the sweeper
    runs the task again: so a job is moved to the front only while its task is due, nobody
    holds it, and its claim count (which names the job) is still the one we looked at.
    """
    now, claims = utcnow(), task.claims
    ours = (SyncTask.id == task.id, SyncTask.state == TaskState.PENDING,
            SyncTask.claims == claims, SyncTask.lease_until.is_(None))
    if not task.urgent:  # background work a person now waits for: no more waiting
        db.session.execute(update(SyncTask).where(*ours).values(urgent=True)
                           .execution_options(synchronize_session=False))
        db.session.execute(update(SyncTask).where(*ours, SyncTask.next_attempt_at > now)
                           .values(next_attempt_at=now)
                           .execution_options(synchronize_session=False))
    due = db.session.scalar(select(SyncTask.id).where(*ours, SyncTask.next_attempt_at <= now))
    db.session.commit()
    if due is None:  # in backoff, or being sent: its own job runs it in time
        return
    job_id = f"sync-{task.id}-{claims + 1}"
    try:
        # A first attempt riding in a batch job has no job of its own: give it one, in front.
        if not promote(job_id) and _enqueue(task.id, job_id):
            promote(job_id)
    except (RedisError, OSError) as exc:
        log.warning("could not expedite sync task %s (%s)", task.id, exc)


def wake(task_ids: list[int]) -> int:
    """Tasks that waited for something now put right (a store's credentials): due now, and
    run now — a job scheduled for later is moved to the front of the queue. A task being
    sent keeps its course. Returns how many were woken."""
    if not task_ids:
        return 0
    now = utcnow()
    free = (SyncTask.id.in_(task_ids), SyncTask.state == TaskState.PENDING,
            SyncTask.lease_until.is_(None))
    db.session.execute(update(SyncTask).where(*free, SyncTask.next_attempt_at > now)
                       .values(next_attempt_at=now).execution_options(synchronize_session=False))
    rows = db.session.execute(select(SyncTask.id, SyncTask.claims).where(*free)).all()
    db.session.commit()
    for task_id, claims in rows:
        job_id = f"sync-{task_id}-{claims + 1}"
        try:
            if not promote(job_id):
                _enqueue(task_id, job_id)
        except (RedisError, OSError) as exc:  # the sweeper enqueues it within a minute
            log.warning("could not wake sync task %s (%s)", task_id, exc)
    return len(rows)


def start(tasks: Iterable[SyncTask]) -> None:
    """Existing tasks set going again in this transaction (Retry, a store back to
    read-write): after the commit each gets the job of its next attempt."""
    db.session.info.setdefault(RESTART_KEY, []).extend((t.id, t.job_id) for t in tasks)


def committed(session: Session) -> None:
    """After a commit: hand what it queued to RQ — or keep it for the end of held()."""
    work = tuple(session.info.pop(key, []) for key in KEYS)
    if not any(work):
        return
    held_work = session.info.get(HOLD_KEY)
    if held_work is not None:
        held_work.append(work)
        return
    # Its new tasks were written by this very commit, so nobody has claimed one yet: no
    # query needed (and none may run in the commit's own event).
    _publish(work, claims=None)


def rolled_back(session: Session, savepoint: SessionTransaction | None = None) -> None:
    """After a rollback: what it queued was never written. A savepoint rolled back forgets
    only what was queued inside it."""
    if savepoint is None:  # (and the end of every transaction, committed or not)
        for key in (*KEYS, MARKS_KEY):
            session.info.pop(key, None)
        return
    before = session.info.get(MARKS_KEY, {}).pop(savepoint, None)
    for key, length in zip(KEYS, before or (), strict=False):
        del session.info.get(key, [])[length:]


def savepoint_opened(session: Session, savepoint: SessionTransaction) -> None:
    session.info.setdefault(MARKS_KEY, {})[savepoint] = tuple(
        len(session.info.get(key, ())) for key in KEYS)


@contextmanager
def held() -> Iterator[None]:
    """Tasks committed inside the block are published when it ends, not at their commit (an
    import walk: acknowledging takes an order off /v3/orders/released and would shift the
    pages still to be read). Left by an exception, it rolls back what was not committed and
    publishes what was, all the same."""
    info = db.session.info
    if HOLD_KEY in info:  # inside another: that one publishes
        yield
        return
    work: list[tuple] = []
    info[HOLD_KEY] = work
    try:
        yield
    except BaseException:
        info.pop(HOLD_KEY, None)
        db.session.rollback()
        try:
            _publish_held(work)
        except SQLAlchemyError as exc:  # the sweeper enqueues them; keep the block's error
            log.warning("%d committed group(s) of tasks left to the sweeper (%s)", len(work),
                        type(exc).__name__)
        raise
    info.pop(HOLD_KEY, None)
    _publish_held(work)


def _publish_held(work: list[tuple]) -> None:
    """Long after their commits: a task may have been claimed meanwhile (the sweeper gave it
    a job), so the claims are read, in one query; and all are published at once."""
    merged = tuple([item for group in work for item in group[n]] for n in range(len(KEYS)))
    ids = [key[0] for key in (inspect(t).identity for t in merged[0]) if key]
    claims = dict(db.session.execute(select(SyncTask.id, SyncTask.claims)
                                     .where(SyncTask.id.in_(ids))).all()) if ids else {}
    _publish(merged, claims)


def _publish(work: tuple, claims: dict[int, int] | None) -> None:
    """Start every task of one commit: batches as one job each, new tasks' first attempts
    in one round trip, tasks set going again each with its own job. Redis being down loses
    nothing: the rows are pending and the sweeper enqueues them later."""
    tasks, batches, restarts = work
    for batch in batches:
        _enqueue_batch(batch)
    # The commit expired them: their ids come from the identity map (a task added in a
    # savepoint that was rolled back has none).
    ids = [key[0] for key in (inspect(t).identity for t in tasks) if key]
    fresh = [i for i in ids if claims is None or claims.get(i) == 0]
    if fresh:
        try:  # first attempts of new tasks: all in one round trip (an import queues thousands)
            enqueue_new_sync_tasks(fresh, job_timeout=int(lease_seconds()) - 30)
        except (RedisError, OSError) as exc:
            log.warning("could not enqueue %d new sync tasks (%s); the sweeper will",
                        len(fresh), exc)
    for task_id in ids:
        if claims and claims.get(task_id):  # taken before we got here: its next attempt
            _enqueue(task_id, f"sync-{task_id}-{claims[task_id] + 1}")
    for task_id, job_id in restarts:
        _enqueue(task_id, job_id)


def _enqueue_batch(ids: list[int]) -> None:
    try:
        enqueue_sync_batch(ids, job_timeout=int(lease_seconds()) * len(ids))
    except (RedisError, OSError) as exc:
        log.warning("could not enqueue %d new sync tasks (%s); the sweeper will", len(ids), exc)


def forget_pending() -> None:
    """Publish none of the tasks added since the last commit (they stay pending rows, left to
    the sweeper): a benchmark's order that must stay in flight."""
    for key in KEYS:
        db.session.info.pop(key, None)
