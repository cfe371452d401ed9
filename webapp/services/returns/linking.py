"""Returns and their orders: return lines that arrive before their order are linked once it
is stored; an order's open return and refunded units come from its returns."""

from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Order, Return, ReturnLine, ReturnStatus
from webapp.models.base import utcnow
from webapp.services.orders import status as order_status
from webapp.services.orders.status import changed


def adopt(order: Order) -> None:
    """Link return lines that arrived before their order was imported."""
    orphans = db.session.scalars(select(ReturnLine).join(Return).where(
        Return.store_id == order.store_id, ReturnLine.order_id.is_(None),
        ReturnLine.purchase_order_id == order.purchase_order_id)).all()
    for line in orphans:
        line.order_id = order.id
        match = next((x for x in order.lines
                      if x.line_number == str(line.purchase_order_line)), None)
        line.order_line_id = match.id if match else None
    if orphans:
        db.session.flush()
        link_order(order)


def adopt_many(store_id: int, ids: dict[str, int]) -> None:
    """adopt() for the new orders of an import page ({purchase order id: order id}): one
    query finds the return lines that arrived before them."""
    if not ids:
        return
    found = db.session.scalars(select(ReturnLine.purchase_order_id).join(Return).where(
        Return.store_id == store_id, ReturnLine.order_id.is_(None),
        ReturnLine.purchase_order_id.in_(ids))).all()
    for po in set(found):
        adopt(db.session.get(Order, ids[po]))


def link_order(order: Order) -> None:
    """The order's open return (Return requested) and refunded units, from its returns."""
    lines = db.session.scalars(select(ReturnLine).where(ReturnLine.order_id == order.id)).all()
    returns = {x.return_id: x.ret for x in lines}
    list(order.lines)  # loaded before anything is set: changed() compares with what is stored
    with db.session.no_autoflush:
        open_return = next((r for r in returns.values() if r.status != ReturnStatus.REFUNDED), None)
        order.return_open = open_return is not None
        order.open_return_id = open_return.id if open_return else None
        refunded: dict[int, int] = {}
        for x in lines:
            if x.order_line_id:
                refunded[x.order_line_id] = refunded.get(x.order_line_id, 0) + x.refunded_qty
        for line in order.lines:
            line.refunded_qty = refunded.get(line.id, 0)
        order_status.refresh(order)
        if changed(order):  # the same return read again is no change: Last Update stays
            order.updated_at = utcnow()
