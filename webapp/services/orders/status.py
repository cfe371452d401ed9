"""The one function that derives an order's status and Status details; whether an order differs
from what is stored (its Last Update moves only then)."""

from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Order, OrderStatus, SyncTask, TaskState
from webapp.services.returns import refund_amounts
from webapp.services.stores.credentials import problem
from webapp.walmart.enums import cancellation_label


def tries_text(task) -> str:
    """A task's tries as the sync tables count them (the Attempts and Read-backs columns),
    for Status details and the Sync page's words: "4 attempts (4 read-backs)"."""
    n, backs = task.attempts, getattr(task, "read_backs", 0) or 0
    text = f"{n} attempt{'' if n == 1 else 's'}"
    return f"{text} ({backs} read-back{'' if backs == 1 else 's'})" if backs else text


def derive_status(order: Order, failed: bool) -> OrderStatus:
    """Error › Canceled › Return requested › Shipped › Partially Shipped › Open.

    Any update still in Error holds the order in Error — a later success must not hide an
    earlier failure — until it is retried successfully or resolved in Seller Center."""
    if order.import_error or failed:
        return OrderStatus.ERROR
    ordered = sum(line.quantity for line in order.lines)
    shipped = sum(line.shipped_qty for line in order.lines)
    canceled = sum(line.canceled_qty for line in order.lines)
    if ordered and canceled >= ordered:
        return OrderStatus.CANCELED
    if order.return_open:
        return OrderStatus.RETURN_REQUESTED
    if shipped and shipped + canceled >= ordered:
        return OrderStatus.SHIPPED
    if shipped:
        return OrderStatus.PARTIALLY_SHIPPED
    return OrderStatus.OPEN


def details(order: Order, tasks: list[SyncTask]) -> str | None:
    # The kinds' behaviour stores orders: sync.task_kinds → orders.storing → orders.status.
    from webapp.services.sync.task_kinds import kind_of

    parts: list[str] = []
    if order.import_error:
        parts.append(f"Could not import: {order.import_error}")
    for task in tasks:
        if task.state == TaskState.ERROR:
            text = task.last_error_message or "Walmart refused the update"
            parts.append(f"Walmart {task.kind} failed: {text}")
    pending = [t for t in tasks if t.state == TaskState.PENDING]
    for task in pending:
        text = kind_of(task).in_flight_text
        store = getattr(task, "store", None)  # (an import's sketch of a task has none)
        if store is not None and store.credentials_problem:  # paused, not failing
            text = f"{text} waiting: {problem(store).title} (see Stores)"
        elif task.last_error_message:  # a real failure, being retried
            text = f"{text} retrying after {tries_text(task)}: {task.last_error_message}"
        elif task.stuck:
            text = f"{text} delayed (waiting for Walmart's rate limit)"
        parts.append(text)
    if order.intent_to_cancel and order.status not in (OrderStatus.CANCELED,):
        parts.append("Buyer asked to cancel")
    canceled = sum(line.canceled_qty for line in order.lines)
    if canceled and canceled < sum(line.quantity for line in order.lines):
        parts.append(f"{canceled} unit{'s' if canceled != 1 else ''} canceled")
    if any(line.refunded_qty for line in order.lines) and getattr(order, "id", None):
        if refunded := refund_amounts.for_order(order.id):  # price, tax and shipping
            parts.append(f"Refunded ${refunded:,.2f}")
    if order.return_open:
        parts.append("Return requested")
    reasons = {line.cancellation_reason for line in order.lines if line.cancellation_reason}
    if canceled and reasons:
        parts.append("Reason: " + ", ".join(sorted(cancellation_label(r) for r in reasons)))
    return "; ".join(parts) or None


def changed(order: Order) -> bool:
    """Whether anything of the order or its lines differs from what is stored. A column set to
    the value it already has is no change (SQLAlchemy compares, and then writes nothing): an
    import that reads an order again unchanged leaves it — and its Last Update — alone."""
    return db.session.is_modified(order) or any(
        db.session.is_modified(line) for line in order.lines)


def refresh(order: Order, tasks: list[SyncTask] | None = None) -> None:
    """Recompute status, Status details and the in-flight flag (the caller commits).
    `tasks`: the order's sync tasks, newest first, when the caller already has them."""
    if tasks is None:
        tasks = list(db.session.scalars(select(SyncTask).where(SyncTask.order_id == order.id)
                                        .order_by(SyncTask.id.desc()))) if order.id else []
    # Resolved and synced tasks never hold an Error.
    order.status = derive_status(order, any(t.state == TaskState.ERROR for t in tasks))
    order.in_flight = any(t.state == TaskState.PENDING for t in tasks)
    order.status_details = details(order, tasks)
