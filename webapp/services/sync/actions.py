"""What people do with sync tasks: retry failed ones, close them as fixed in Seller Center, or
send one waiting out its retry delay now."""

from __future__ import annotations

from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import Order, Store, SyncTask, TaskState, User
from webapp.models.base import utcnow
from webapp.services import audit
from webapp.services.errors import ActionRefused
from webapp.services.orders import status as order_status
from webapp.services.stores import health as store_health
from webapp.services.stores.credentials import problem as credentials_problem
from webapp.services.stores.mode import PARKED, refuse_if_read_only
from webapp.services.sync import outbox
from webapp.services.sync.explain import target
from webapp.services.sync.task_kinds import kind_of
from webapp.services.unit_of_work import action

NOTE_MAX = 500


def _failed_task(task_id: int, verb: str) -> SyncTask:
    task = db.session.get(SyncTask, task_id)
    if task is None:
        raise ActionRefused("There is no such update.")
    if task.state != TaskState.ERROR:
        raise ActionRefused(f"Only a failed update can be {verb}; this one is {task.state}.")
    return task


def claim_failed(task: SyncTask, state: str, **values) -> None:
    """Move a failed task on — only while it is still failed, in one conditional UPDATE: of
    two people acting on it at once (Retry, Correct and send again, Fixed in Seller Center)
    one wins; the other is told, and nothing of theirs is written."""
    result = db.session.execute(
        update(SyncTask).where(SyncTask.id == task.id, SyncTask.state == TaskState.ERROR)
        .values(state=state, **values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise ActionRefused("Someone else acted on this update meanwhile (retried, corrected "
                            "or closed it). Reload the page to see where it is.")
    db.session.refresh(task)


def _follow(task: SyncTask) -> None:
    """The order's status follows the task's new state."""
    if task.order_id:
        order = db.session.get(Order, task.order_id)
        order_status.refresh(order)
        order.updated_at = utcnow()


def _subject(task: SyncTask) -> str:
    return task.order.number if task.order else target(task)


def _reopen(task: SyncTask, by: User | None) -> None:
    refuse_if_read_only(db.session.get(Store, task.store_id))
    claim_failed(task, TaskState.PENDING)
    task.next_attempt_at, task.lease_until = utcnow(), None
    # Read Walmart back first: the failed attempt may have been applied after all.
    task.ambiguous, task.stuck, task.urgent = True, False, True
    # A fresh round of tries (backoff and limit start over); the count of tries goes on.
    task.attempts_before_retry = task.attempts
    task.last_error_code = task.last_error_field = task.last_error_message = None
    _follow(task)
    kind_of(task).on_reopened(task)  # e.g. a refund's return
    audit.record("sync.retry", user=by, store_id=task.store_id, subject=_subject(task),
                 task=task.id, kind=task.kind)


@action
def retry_task(task_id: int, *, by: User | None) -> SyncTask:
    """Send a failed task again. Walmart is read back first, so nothing is sent twice."""
    task = _failed_task(task_id, "retried")
    _reopen(task, by)
    outbox.start([task])  # an existing task, not a new one
    db.session.commit()
    store_health.forget_banner()
    return task


@action
def retry_tasks(task_ids: list[int], *, by: User | None) -> tuple[list[SyncTask], int]:
    """Retry every selected task that is still failed; returns (retried, skipped)."""
    tasks = db.session.scalars(select(SyncTask).where(
        SyncTask.id.in_(task_ids), SyncTask.state == TaskState.ERROR)
        .order_by(SyncTask.id)).all() if task_ids else []
    if not tasks:
        raise ActionRefused("None of the selected updates is failed any more: nothing to "
                            "retry." if task_ids else "Select the failed updates to retry.")
    for task in tasks:
        _reopen(task, by)
    outbox.start(tasks)
    db.session.commit()
    store_health.forget_banner()
    return tasks, len(set(task_ids)) - len(tasks)


@action
def resolve_task(task_id: int, note: str, *, by: User | None) -> SyncTask:
    """'Fixed in Seller Center': the person did it at Walmart by hand; close the task as
    resolved with their note. What Orderdeck recorded locally stands."""
    note = (note or "").strip()
    if not note:
        raise ActionRefused("Say what was done in Seller Center (a short note).")
    if len(note) > NOTE_MAX:
        raise ActionRefused(f"Keep the note under {NOTE_MAX} characters.")
    task = _failed_task(task_id, "resolved")
    claim_failed(task, TaskState.RESOLVED)
    task.resolved_at, task.resolved_by_id, task.resolution_note = utcnow(), \
        by.id if by else None, note
    task.stuck, task.lease_until = False, None
    kind_of(task).on_resolved(task)  # e.g. a cancellation's units released, a refund's return
    _follow(task)
    audit.record("sync.resolve", user=by, store_id=task.store_id, subject=_subject(task),
                 task=task.id, kind=task.kind, note=note)
    db.session.commit()  # (publishing the push of the stock a cancellation released)
    store_health.forget_banner()
    return task


# Waits that Send now cannot cut short: Walmart named the time (its rate limit), or nothing is
# sent for the store until a person changes it (read-only).
WAITS_FOR_WALMART = {"RATE_LIMITED", PARKED}
STATE_WORDS = {TaskState.SYNCED: "synced", TaskState.ERROR: "failed (Retry it)",
               TaskState.RESOLVED: "fixed in Seller Center",
               TaskState.CORRECTED: "corrected and sent again as a new update"}


def waits_to_retry(task: SyncTask) -> bool:
    """A task waiting out the delay before its next try after a failure — not one being sent,
    waiting for Walmart's rate limit or for the store's credentials: Send now is offered."""
    store = task.store
    return (task.state == TaskState.PENDING and task.lease_until is None
            and bool(task.last_error_message) and task.last_error_code not in WAITS_FOR_WALMART
            and task.next_attempt_at > utcnow()
            and not (store is not None and store.credentials_problem))


@action
def send_now(task_id: int, *, by: User | None, actor: str | None = None) -> bool:
    """Send now a task waiting out its retry delay: it is due at once (urgent: a person
    waits) and its job goes to the front of the queue; Walmart is read back first as usual
    when the last try may have reached it. Returns False, doing nothing, when the task is
    already on its way (a second click). Refused when it no longer waits, or waits for
    something a person must put right first."""
    task = db.session.get(SyncTask, task_id)
    if task is None:
        raise ActionRefused("There is no such update.")
    if task.state != TaskState.PENDING:
        raise ActionRefused("This update is no longer waiting: it is "
                            f"{STATE_WORDS.get(task.state, task.state)}.")
    store = db.session.get(Store, task.store_id)
    refuse_if_read_only(store)
    found = credentials_problem(store)
    if found is not None:
        raise ActionRefused(f"This update waits for the store's credentials: {found.title}. "
                            f"{found.fix}")
    if task.last_error_code in WAITS_FOR_WALMART:
        raise ActionRefused("Walmart asked Orderdeck to wait until its rate limit refills; "
                            "the update goes then by itself.")
    now = utcnow()
    # The due time as read: of two clicks at once, the second's `now` may be older than the
    # first's, so "still due later" alone would let both through.
    woken = db.session.execute(
        update(SyncTask).where(SyncTask.id == task.id, SyncTask.state == TaskState.PENDING,
                               SyncTask.lease_until.is_(None), SyncTask.next_attempt_at > now,
                               SyncTask.next_attempt_at == task.next_attempt_at)
        .values(next_attempt_at=now, urgent=True)
        .execution_options(synchronize_session=False)).rowcount
    if woken != 1:  # due already, or being sent: nothing to cut short
        db.session.rollback()
        return False
    audit.record("sync.send_now", user=by, actor=actor, store_id=task.store_id,
                 subject=_subject(task), task=task.id, kind=task.kind)
    db.session.commit()
    outbox.wake([task.id])  # its scheduled job to the front of the queue (or a new one)
    return True
