"""Refunding a return, fully or partly, with an optional return to stock."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import update

from webapp.extensions import db
from webapp.models import Refund, Return, ReturnLine, Store, SyncTask, TaskKind, TaskState, User
from webapp.services import audit, order_queries, outbox, ship_nodes, stock
from webapp.services.errors import ActionRefused
from webapp.services.return_status import refresh as refresh_return
from webapp.services.store_mode import refuse_if_read_only
from webapp.walmart import payloads


def refund_return(return_id: int, quantities: dict[int, int], restock: set[int] | None = None,
                  *, by: User | None, actor: str | None = None) -> Refund:
    """Refund `quantities` ({return line number: units}) of a return through one sync task."""
    from webapp.services.returns_import import link_order

    ret = db.session.get(Return, return_id)
    if ret is None:
        raise ActionRefused("There is no such return.")
    refuse_if_read_only(db.session.get(Store, ret.store_id))
    if any(t.state == TaskState.PENDING.value for t in (
            db.session.get(SyncTask, r.task_id) for r in
            db.session.scalars(db.select(Refund).where(Refund.return_id == ret.id))) if t):
        raise ActionRefused("A refund of this return is already on its way to Walmart.")
    lines = {x.number: x for x in ret.lines}
    wanted = {}
    for number, quantity in quantities.items():
        line = lines.get(int(number))
        if line is None:
            raise ActionRefused(f"This return has no line {number}.", field="lines")
        if not isinstance(quantity, int) or quantity < 0:
            raise ActionRefused("Quantities are whole numbers, 0 or more.", field="lines")
        if quantity > line.refundable:
            raise ActionRefused(f"Line {number} ({line.sku}): only {line.refundable} unit(s) "
                                f"can still be refunded, not {quantity}.", field="lines")
        if quantity:
            wanted[line.number] = quantity
    if not wanted:
        raise ActionRefused("Refund at least one unit.", field="lines")
    expected = {}
    for number, quantity in wanted.items():
        line = lines[number]
        result = db.session.execute(
            update(ReturnLine).where(ReturnLine.id == line.id,
                                     ReturnLine.quantity - ReturnLine.refunded_qty >= quantity)
            .values(refunded_qty=ReturnLine.refunded_qty + quantity)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            db.session.rollback()
            outbox.forget_pending()
            raise ActionRefused("The return changed meanwhile; reload it and refund again.")
        db.session.refresh(line, ["refunded_qty"])
        expected[str(number)] = line.refunded_qty
    restocked = sorted(n for n in (restock or set()) if n in wanted)
    for number in restocked:  # the units are back on the shelf
        line = lines[number]
        if line.sku:  # back at the node the order shipped from
            node = ship_nodes.stock_node(ret.store, line.order.ship_node if line.order else None)
            stock.adjust(ret.store_id, line.sku, on_hand=wanted[number], node=node)
    amount = sum((lines[n].unit_price * q for n, q in wanted.items()), Decimal("0"))
    body = payloads.return_refund(ret.customer_order_id, sorted(wanted.items()))
    task = outbox.add_task(ret.store_id, TaskKind.REFUND, ret.rma, payload=body)
    refund = Refund(return_id=ret.id, task=task, amount=amount,
                    lines={str(n): q for n, q in wanted.items()}, restocked=restocked,
                    expected=expected, created_by_id=by.id if by else None,
                    created_by=actor or (by.email if by else "system"))
    db.session.add(refund)
    db.session.flush()
    refresh_return(ret)
    for order in {x.order for x in ret.lines if x.order}:
        link_order(order)
    audit.record("return.refund", user=by, actor=actor, store_id=ret.store_id, subject=ret.rma,
                 amount=str(amount), lines=refund.lines, restocked=restocked)
    db.session.commit()
    order_queries.invalidate_counts()
    outbox.publish_pending()
    return refund
