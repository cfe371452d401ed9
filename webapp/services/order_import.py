"""Storing what Walmart says about an order: create it once, then keep it current."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Order, OrderLine, Store
from webapp.models.base import utcnow
from webapp.services import order_status, stock
from webapp.walmart.schema import OrderLine as WalmartLine
from webapp.walmart.schema import PurchaseOrder

NUMBER_BASE = 100000  # our order numbers: 100001, 100002, …


def find(store_id: int, purchase_order_id: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.store_id == store_id,
                                                 Order.purchase_order_id == purchase_order_id))


def _money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _apply_line(order: Order, line: OrderLine | None, data: WalmartLine) -> OrderLine:
    if line is None:  # prices are fixed when the order arrives (later charges shrink on cancel)
        quantity = max(data.quantity, 1)
        line = OrderLine(line_number=data.line_number, sku=data.sku,
                         product_name=data.product_name[:500], quantity=data.quantity,
                         unit_price=_money(data.product_total / quantity),
                         tax=_money(data.tax_total), shipping=_money(data.shipping_total),
                         shipped_qty=0, delivered_qty=0, canceled_qty=0, refunded_qty=0)
        order.lines.append(line)
    counts: dict[str, int] = {}
    for status in data.statuses:
        counts[status.status] = counts.get(status.status, 0) + status.quantity
    # Walmart is the truth for what happened there; our own pending work may be ahead of it.
    line.shipped_qty = max(line.shipped_qty,
                           counts.get("Shipped", 0) + counts.get("Delivered", 0))
    line.delivered_qty = counts.get("Delivered", 0)
    line.canceled_qty = max(line.canceled_qty, counts.get("Cancelled", 0))
    line.acknowledged = counts.get("Created", 0) == 0
    line.intent_to_cancel = data.intent_to_cancel
    reasons = [s.cancellation_reason for s in data.statuses if s.cancellation_reason]
    line.cancellation_reason = reasons[0] if reasons else line.cancellation_reason
    line.walmart_statuses = counts
    return line


def upsert(store: Store, data: PurchaseOrder) -> tuple[Order, bool]:
    """Create or update the order from Walmart's view; returns (order, created)."""
    order = find(store.id, data.purchase_order_id)
    created = order is None
    if created:
        order = Order(store_id=store.id, purchase_order_id=data.purchase_order_id,
                      return_open=False, in_flight=False)
        db.session.add(order)
    before = {line.line_number: (line.sku, line.open_qty) for line in order.lines}
    address = data.address
    order.customer_order_id = data.customer_order_id
    order.customer_name = address.name
    order.customer_email = data.customer_email
    order.phone = data.phone
    order.ship_name, order.address1, order.address2 = address.name, address.address1, \
        address.address2
    order.city, order.state, order.postal_code = address.city, address.state, address.postal_code
    order.country, order.address_type = address.country, address.address_type
    order.order_date = data.order_date
    order.ship_by, order.deliver_by = data.estimated_ship_date, data.estimated_delivery_date
    order.ship_method = data.method_code
    order.import_error = None
    order.raw = None
    by_number = {line.line_number: line for line in order.lines}
    for walmart_line in data.lines:
        _apply_line(order, by_number.get(walmart_line.line_number), walmart_line)
    if created:
        order.currency = next((c.currency for x in data.lines for c in x.charges), "USD")
        order.order_value = sum((line.total for line in order.lines), Decimal("0"))
    order.intent_to_cancel = any(line.intent_to_cancel and line.open_qty for line in order.lines)
    for line in order.lines:
        sku, was_open = before.get(line.line_number, (line.sku, 0))
        if line.open_qty != was_open:
            stock.change_reserved(store.id, sku, line.open_qty - was_open)
    db.session.flush()
    if created:
        order.number = str(NUMBER_BASE + order.id)
        from webapp.services.returns_import import adopt  # returns read before their order
        adopt(order)
    order_status.refresh(order)
    order.updated_at = utcnow()
    return order, created


def record_failure(store: Store, purchase_order_id: str, reason: str, raw: dict) -> Order:
    """Walmart sent an order we cannot store: show it as Error with the reason until it imports."""
    order = find(store.id, purchase_order_id)
    if order is None:
        order = Order(store_id=store.id, purchase_order_id=purchase_order_id)
        db.session.add(order)
        db.session.flush()
        order.number = str(NUMBER_BASE + order.id)
        order.order_date = utcnow()  # when it arrived, so it sorts with the others
    order.import_error = reason[:1000]
    order.raw = raw
    order_status.refresh(order)
    order.updated_at = utcnow()
    return order
