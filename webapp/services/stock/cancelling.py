"""Cancelling a whole order — every unit not yet shipped — with Walmart's reason."""

from __future__ import annotations

from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import (
    Cancellation,
    CancellationLine,
    Order,
    OrderLine,
    SyncTask,
    TaskKind,
    TaskState,
    User,
)
from webapp.models.base import utcnow
from webapp.services import audit
from webapp.services.errors import ActionRefused
from webapp.services.orders import status as order_status
from webapp.services.stock import levels as stock
from webapp.services.stock import ship_nodes
from webapp.services.stores.mode import refuse_if_read_only
from webapp.services.sync import outbox
from webapp.services.unit_of_work import action
from webapp.walmart import enums, payloads

BUYER_REASON = "CUSTOMER_REQUESTED_SELLER_TO_CANCEL"
NOT_BUYER_REQUESTED = (
    "“Customer asked to cancel” (CUSTOMER_REQUESTED_SELLER_TO_CANCEL) is for use only when the "
    "buyer asked Walmart to cancel, and this buyer did not: Walmart says not to use it for any "
    "other order. Choose the seller's reason (out of stock, pricing error, address not "
    "serviceable or confirmed fraud).")


def buyer_asked(order: Order) -> bool:
    """The buyer asked Walmart to cancel: an intent to cancel on the order or any line."""
    return bool(order.intent_to_cancel or any(line.intent_to_cancel for line in order.lines))


def reasons_for(order: Order) -> tuple[enums.CancellationReason, ...]:
    """The reasons a person may give for this order: the buyer's one only when the buyer asked
    (Walmart's spec: never for an order without an intent to cancel)."""
    return tuple(r for r in enums.CANCELLATION_REASONS
                 if r.code != BUYER_REASON or buyer_asked(order))


def cancellable(order: Order) -> list[tuple[OrderLine, int]]:
    """Every line with units neither shipped nor canceled, and how many."""
    return [(line, line.open_qty) for line in order.lines if line.open_qty]


def cancel_in_flight(order: Order) -> bool:
    return db.session.scalar(select(SyncTask.id).where(
        SyncTask.order_id == order.id, SyncTask.kind == TaskKind.CANCEL,
        SyncTask.state == TaskState.PENDING).limit(1)) is not None


@action
def cancel_order(order_id: int, reason: str, *, by: User | None,
                 actor: str | None = None) -> Cancellation:
    """Cancel everything not yet shipped; Walmart hears of it through one sync task, and the
    released stock is pushed."""
    if reason not in enums.CANCELLATION_CODES:
        raise ActionRefused("Choose one of Walmart's cancellation reasons: "
                            + ", ".join(sorted(enums.CANCELLATION_CODES)) + ".", field="reason")
    order = db.session.get(Order, order_id)
    if order is None:
        raise ActionRefused("There is no such order.")
    refuse_if_read_only(order.store)
    if order.import_error:
        raise ActionRefused("This order could not be imported from Walmart; cancel it in "
                            "Seller Center.")
    if reason not in {r.code for r in reasons_for(order)}:
        raise ActionRefused(NOT_BUYER_REQUESTED, field="reason")
    if cancel_in_flight(order):
        raise ActionRefused("A cancellation of this order is already on its way to Walmart.")
    lines = cancellable(order)
    if not lines:
        raise ActionRefused("Nothing is left to cancel: every unit is shipped or canceled.")
    for line, quantity in lines:  # conditional: a shipment made meanwhile wins, cleanly
        result = db.session.execute(
            update(OrderLine).where(
                OrderLine.id == line.id,
                OrderLine.quantity - OrderLine.shipped_qty - OrderLine.canceled_qty == quantity)
            .values(canceled_qty=OrderLine.canceled_qty + quantity, cancellation_reason=reason)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            db.session.rollback()
            raise ActionRefused("The order changed meanwhile (someone shipped or canceled part "
                                "of it). Reload it and cancel again.")
    cancellation = Cancellation(order_id=order.id, reason=reason,
                                created_by_id=by.id if by else None,
                                created_by=actor or (by.email if by else "system"),
                                lines=[CancellationLine(order_line_id=line.id, quantity=q)
                                       for line, q in lines])
    body = payloads.cancellation([(line.line_number, q) for line, q in lines], reason)
    task = outbox.add_task(order.store_id, TaskKind.CANCEL, order.purchase_order_id,
                           order=order, payload=body)
    cancellation.task = task
    db.session.add(cancellation)
    # The units stay reserved until Walmart accepts the cancellation (release_stock): a
    # refused one must not raise the available quantity pushed to Walmart (oversell).
    for line in order.lines:
        db.session.refresh(line, ["canceled_qty", "cancellation_reason"])
    order_status.refresh(order)
    order.updated_at = utcnow()
    audit.record("order.cancel", user=by, actor=actor, store_id=order.store_id,
                 subject=order.number, reason=reason, units=sum(q for _l, q in lines))
    db.session.commit()
    return cancellation


def release_stock(task: SyncTask) -> None:
    """The cancellation this task carries is done at Walmart (synced, read back, or fixed in
    Seller Center by hand): its units leave the reservation at the order's node, and the
    higher available quantity is pushed. Never earlier: Walmart may refuse it."""
    cancellation = db.session.scalar(select(Cancellation).where(Cancellation.task_id == task.id))
    if cancellation is None:
        return
    order = db.session.get(Order, cancellation.order_id)
    node = ship_nodes.stock_node(order.store, order.ship_node)  # where the import reserved
    for entry in cancellation.lines:
        stock.change_reserved(order.store_id, entry.order_line.sku, -entry.quantity, node)
