"""Writing outbox rows with the change they carry, and handing them to RQ after commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import inspect, select, update

from jobs.queue import (  # the enqueue adapter; services never import job tasks
    enqueue,
    enqueue_new,
    promote,
)
from webapp.extensions import db
from webapp.models import Order, Store, SyncTask, TaskKind, TaskState
from webapp.models.base import utcnow
from webapp.services.errors import StoreReadOnly

log = logging.getLogger(__name__)
SYNC_JOB = "jobs.sync.run_task"
BATCH_JOB = "jobs.sync.run_tasks"
PENDING_KEY = "orderdeck_unpublished_tasks"
BATCH_KEY = "orderdeck_unpublished_batches"


def add_task(store_id: int, kind: TaskKind, target: str, *, order: Order | None = None,
             payload: dict[str, Any] | None = None, urgent: bool = True,
             order_id: int | None = None) -> SyncTask:
    """Add a task to the current transaction; publish() it after the commit. Tasks a person
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
    order id)], or a stock file's pushes, [(SKU, None, payload)] — in one INSERT;
    publish_pending() hands them to one job that runs their first attempts one after another
    (Walmart's rate limit spaces them anyway)."""
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
        job = enqueue(SYNC_JOB, task_id, job_id=job_id, unique=True, at=at,
                      result_ttl=0, failure_ttl=86400, job_timeout=int(lease_seconds()) - 30)
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


def publish(tasks: Iterable[SyncTask]) -> None:
    """After the commit that wrote them: start each task now."""
    for task in tasks:
        schedule(task)


def publish_pending() -> None:
    """After a commit: start every task this session added (orders, stock pushes …)."""
    for ids in db.session.info.pop(BATCH_KEY, []):
        _enqueue_batch(ids)
    tasks = db.session.info.pop(PENDING_KEY, [])
    # The commit expired them: read their ids from the identity map, and their claims in one
    # query, instead of one SELECT per task.
    ids = [key[0] for key in (inspect(t).identity for t in tasks) if key]
    if not ids:
        return
    claims = dict(db.session.execute(select(SyncTask.id, SyncTask.claims)
                                     .where(SyncTask.id.in_(ids))).all())
    fresh = [(task_id,) for task_id in ids if claims.get(task_id) == 0]
    try:  # first attempts of new tasks: all in one round trip (an import queues thousands)
        enqueue_new(SYNC_JOB, [(args, f"sync-{args[0]}-1") for args in fresh],
                    result_ttl=0, failure_ttl=86400, job_timeout=int(lease_seconds()) - 30)
    except (RedisError, OSError) as exc:
        log.warning("could not enqueue %d new sync tasks (%s); the sweeper will", len(fresh),
                    exc)
    for task_id in ids:
        if claims.get(task_id):  # taken before we got here: its next attempt, as usual
            _enqueue(task_id, f"sync-{task_id}-{claims[task_id] + 1}")


def hold_pending() -> tuple[list, list]:
    """After a commit: take the tasks this session added aside instead of publishing them
    (an import walk publishes its pages' tasks once it is over); publish_held() sends them."""
    return db.session.info.pop(BATCH_KEY, []), db.session.info.pop(PENDING_KEY, [])


def publish_held(held: list[tuple[list, list]]) -> None:
    """Publish tasks taken aside by hold_pending() (all committed)."""
    for batches, tasks in held:
        db.session.info.setdefault(BATCH_KEY, []).extend(batches)
        db.session.info.setdefault(PENDING_KEY, []).extend(tasks)
    publish_pending()


def _enqueue_batch(ids: list[int]) -> None:
    try:
        enqueue(BATCH_JOB, ids, job_id=f"sync-batch-{ids[0]}-{ids[-1]}", result_ttl=0,
                failure_ttl=86400, job_timeout=int(lease_seconds()) * len(ids))
    except (RedisError, OSError) as exc:
        log.warning("could not enqueue %d new sync tasks (%s); the sweeper will", len(ids), exc)


def forget_pending() -> None:
    """After a rollback: the tasks this session added were never written."""
    db.session.info.pop(PENDING_KEY, None)
    db.session.info.pop(BATCH_KEY, None)
