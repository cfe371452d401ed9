"""What people do with sync tasks: retry a failed one."""

from __future__ import annotations

from webapp.extensions import db
from webapp.models import Order, SyncTask, TaskState, User
from webapp.models.base import utcnow
from webapp.services import audit, order_queries, order_status, outbox
from webapp.services.errors import ActionRefused


def retry_task(task_id: int, *, by: User | None) -> SyncTask:
    """Send a failed task again. Walmart is read back first, so nothing is sent twice."""
    task = db.session.get(SyncTask, task_id)
    if task is None:
        raise ActionRefused("There is no such update.")
    if task.state != TaskState.ERROR.value:
        raise ActionRefused("Only a failed update can be retried; this one is "
                            f"{task.state}.")
    task.state = TaskState.PENDING.value
    task.next_attempt_at, task.lease_until = utcnow(), None
    task.ambiguous, task.stuck, task.attempts = True, False, 0
    task.last_error_code = task.last_error_field = task.last_error_message = None
    if task.order_id:
        order = db.session.get(Order, task.order_id)
        order_status.refresh(order)
        order.updated_at = utcnow()
    if task.kind == "refund":
        from webapp.services.sync_engine import _refund_failed
        _refund_failed(task)  # the return's status follows its refund again
    audit.record("sync.retry", user=by, store_id=task.store_id,
                 subject=task.order.number if task.order else task.target, task=task.id,
                 kind=task.kind)
    db.session.commit()
    order_queries.invalidate_counts()
    outbox.publish([task])  # an existing task, not a new one
    return task
