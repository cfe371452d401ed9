"""Storing what Walmart says about an order: create it once, then keep it current."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace

from sqlalchemy import String, cast, select, update
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.models import Order, OrderLine, Store, SyncTask, TaskKind, TaskState
from webapp.models.base import utcnow
from webapp.services.orders import status as order_status
from webapp.services.orders import walmart_differences, walmart_shipments
from webapp.services.orders.status import changed
from webapp.services.reconcile import findings as reconcile_findings
from webapp.services.returns import linking
from webapp.services.stock import levels as stock
from webapp.services.stock import ship_nodes
from webapp.services.text_fit import fit
from webapp.walmart.schema import OrderLine as WalmartLine
from webapp.walmart.schema import PurchaseOrder

NUMBER_BASE = 100000  # our order numbers: 100001, 100002, …


def find(store_id: int, purchase_order_id: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.store_id == store_id,
                                                 Order.purchase_order_id == purchase_order_id))


def _money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _line_values(data: WalmartLine, old: OrderLine | None = None) -> dict:
    """A line's columns from Walmart's view (prices only when the line is new: they are fixed
    when the order arrives, later charges shrink on cancel)."""
    counts: dict[str, int] = {}
    for status in data.statuses:
        counts[status.status] = counts.get(status.status, 0) + status.quantity
    reasons = [s.cancellation_reason for s in data.statuses if s.cancellation_reason]
    # Walmart is the truth for what happened there; our own pending work may be ahead of it.
    values = {
        "shipped_qty": max(old.shipped_qty if old else 0,
                           counts.get("Shipped", 0) + counts.get("Delivered", 0)),
        "delivered_qty": counts.get("Delivered", 0),
        "canceled_qty": max(old.canceled_qty if old else 0, counts.get("Cancelled", 0)),
        "acknowledged": counts.get("Created", 0) == 0,
        "intent_to_cancel": data.intent_to_cancel,
        "cancellation_reason": reasons[0] if reasons else (
            old.cancellation_reason if old else None),
        "walmart_statuses": counts,
        # Walmart names it on some statuses only: a later read without it keeps it.
        "return_center": data.return_center or (old.return_center if old else None),
    }
    if old is None:
        # Walmart's charges cover the units it still charges: a line first read with units
        # already cancelled is priced by the rest (all cancelled: Walmart zeroed them).
        charged = max(data.quantity - counts.get("Cancelled", 0), 1)
        values.update(line_number=data.line_number, sku=data.sku,
                      product_name=data.product_name, quantity=data.quantity,
                      unit_price=_money(data.product_total / charged),
                      tax=_money(data.tax_total * max(data.quantity, 1) / charged),
                      shipping=_money(data.shipping_total), refunded_qty=0)
    return fit(OrderLine, values)


def _order_values(data: PurchaseOrder) -> dict:
    address = data.address
    values = {"customer_order_id": data.customer_order_id, "customer_name": address.name,
            "customer_email": data.customer_email, "phone": data.phone,
            "ship_name": address.name, "address1": address.address1,
            "address2": address.address2, "city": address.city, "state": address.state,
            "postal_code": address.postal_code, "country": address.country,
            "address_type": address.address_type, "order_date": data.order_date,
            "ship_by": data.estimated_ship_date, "deliver_by": data.estimated_delivery_date,
            "ship_method": data.method_code, "import_error": None, "raw": None}
    if node := ship_nodes.order_node(data.ship_node):  # else the node read before is kept
        values["ship_node"] = node
    return fit(Order, values)


def _open(values) -> int:
    return max(values.quantity - values.shipped_qty - values.canceled_qty, 0)


def _apply(store: Store, order: Order, data: PurchaseOrder,
           created: bool) -> dict[tuple[str, str], int]:
    """Copy Walmart's view onto the order; returns the change of open units per (SKU, stock
    node) (what stock must reserve or release; an order moved to another node moves them)."""
    before = {line.line_number: (line.sku, line.open_qty) for line in order.lines}
    node_before = ship_nodes.stock_node(store, order.ship_node)
    for key, value in _order_values(data).items():
        setattr(order, key, value)
    by_number = {line.line_number: line for line in order.lines}
    for walmart_line in data.lines:
        line = by_number.get(walmart_line.line_number)
        values = _line_values(walmart_line, line)
        if line is None:
            line = by_number[walmart_line.line_number] = OrderLine(**values)
            order.lines.append(line)
        else:  # (also a line number Walmart repeats within the order: its last entry wins)
            for key, value in values.items():
                setattr(line, key, value)
    if created:
        order.currency = next((c.currency for x in data.lines for c in x.charges), "USD")
        order.order_value = sum((line.total for line in order.lines), Decimal("0"))
    order.intent_to_cancel = any(line.intent_to_cancel and line.open_qty for line in order.lines)
    node = ship_nodes.stock_node(store, order.ship_node)
    deltas: dict[tuple[str, str], int] = {}
    for line in order.lines:
        sku, was_open = before.get(line.line_number, (line.sku, 0))
        if line.open_qty != was_open or node != node_before:
            deltas[(sku, node_before)] = deltas.get((sku, node_before), 0) - was_open
            deltas[(sku, node)] = deltas.get((sku, node), 0) + line.open_qty
    return {key: delta for key, delta in deltas.items() if delta}


def _new_order(store: Store, data: PurchaseOrder) -> Order:
    order = Order(store_id=store.id, purchase_order_id=data.purchase_order_id,
                  return_open=False, in_flight=False)
    db.session.add(order)
    return order


def _tasks_of(order_ids: list[int]) -> dict[int, list[SyncTask]]:
    """The orders' sync tasks, newest first, by order id."""
    tasks: dict[int, list[SyncTask]] = {}
    if order_ids:
        for task in db.session.scalars(select(SyncTask).where(SyncTask.order_id.in_(order_ids))
                                       .order_by(SyncTask.id.desc())):
            tasks.setdefault(task.order_id, []).append(task)
    return tasks


def upsert(store: Store, data: PurchaseOrder,
           read_at: datetime | None = None) -> tuple[Order, bool]:
    """Create or update the order from Walmart's view (read at `read_at`, now if not said);
    returns (order, created)."""
    order = find(store.id, data.purchase_order_id)
    created = order is None
    if created:
        order = _new_order(store, data)
    with db.session.no_autoflush:  # (so that changed() sees what _apply changed)
        deltas = _apply(store, order, data, created)
        touched = created or changed(order)
    for (sku, node), delta in deltas.items():
        stock.change_reserved(store.id, sku, delta, node)
    db.session.flush()
    if created:
        order.number = str(NUMBER_BASE + order.id)
        linking.adopt(order)  # returns read before their order
    walmart_shipments.record({order.id: data})  # shipped elsewhere: shown how
    tasks = _tasks_of([order.id]).get(order.id, [])
    order_status.refresh(order, tasks)
    walmart_differences.check(order, data, tasks, read_at or utcnow())
    reconcile_findings.recheck_after_import(order, data)
    if touched or changed(order):
        order.updated_at = utcnow()
    return order, created


def needs_acknowledging(data: PurchaseOrder) -> bool:
    """A new order with units still in Created gets an acknowledgement."""
    return any(x.quantity_in("Created") for x in data.lines)


# The acknowledgement the importer adds for a new order, as order_status sees a task: a bulk-
# inserted order's Status details say it is on its way from the start.
ACKNOWLEDGING = [SimpleNamespace(kind=TaskKind.ACKNOWLEDGE, state=TaskState.PENDING,
                                 last_error_message=None,
                                 stuck=False, attempts=0, read_backs=0)]


@dataclass
class Stored:
    """One order of an import page as upsert_page() stored it."""
    order_id: int
    purchase_order_id: str
    created: bool


def upsert_page(store: Store, page: list[PurchaseOrder],
                read_at: datetime | None = None) -> list[Stored]:
    """upsert() for a page of orders in a handful of statements instead of a dozen per order:
    existing orders, their lines and their sync tasks are read at once and updated through
    the ORM; new orders and their lines are inserted in bulk (the common case, and the one a
    first import is made of); stock changes are summed per SKU. New orders that need an
    acknowledgement are marked in flight: the caller adds the task. The caller wraps it in a
    savepoint and falls back to upsert() order by order if it fails."""
    latest = {data.purchase_order_id: data for data in page}  # one entry per order
    known = {o.purchase_order_id: o for o in db.session.scalars(
        select(Order).where(Order.store_id == store.id, Order.purchase_order_id.in_(latest))
        .options(selectinload(Order.lines)))}
    deltas: dict[tuple[str, str], int] = {}
    stamp = utcnow()
    tasks = _tasks_of([o.id for o in known.values()])
    with db.session.no_autoflush:  # (changed() compares with what is stored)
        for po, order in known.items():
            for key, delta in _apply(store, order, latest[po], False).items():
                deltas[key] = deltas.get(key, 0) + delta
            order_status.refresh(order, tasks.get(order.id, []))
            walmart_differences.check(order, latest[po], tasks.get(order.id, []),
                                      read_at or stamp)
            reconcile_findings.recheck_after_import(order, latest[po])
            if changed(order):  # else nothing is written: Last Update stays
                order.updated_at = stamp
    new = [data for po, data in latest.items() if po not in known]
    ids = _insert_new(store, new, stamp, deltas) if new else {}
    linking.adopt_many(store.id, ids)
    walmart_shipments.record({known[po].id if po in known else ids[po]: data
                              for po, data in latest.items()})
    stock.reserve_many(store.id, deltas)
    return [Stored(known[po].id if po in known else ids[po], po, po not in known)
            for po in latest]


def _insert_new(store: Store, page: list[PurchaseOrder], stamp, deltas: dict) -> dict[str, int]:
    """Bulk INSERT of new orders and their lines; returns their ids by purchase order id."""
    orders, lines = [], {}
    for data in page:
        values = _order_values(data)
        # The importer acknowledges new orders, except in a read-only store (it sends nothing).
        acknowledging = needs_acknowledging(data) and not store.read_only
        # One line per number (a number Walmart repeats: its last entry wins, as in _apply).
        line_values = list({x.line_number: _line_values(x) for x in data.lines}.values())
        view = SimpleNamespace(**values, return_open=False, status=None,
                               lines=[SimpleNamespace(**x) for x in line_values])
        view.intent_to_cancel = any(x.intent_to_cancel and _open(x) for x in view.lines)
        view.status = order_status.derive_status(view, False)  # the one derivation
        node = ship_nodes.stock_node(store, values.get("ship_node"))
        for line in view.lines:
            deltas[(line.sku, node)] = deltas.get((line.sku, node), 0) + _open(line)
        orders.append({
            **values, "store_id": store.id, "purchase_order_id": data.purchase_order_id,
            "ship_node": values.get("ship_node"),  # (every row of one INSERT has every key)
            "currency": next((c.currency for x in data.lines for c in x.charges), "USD"),
            "order_value": sum((x.unit_price * x.quantity + x.tax + x.shipping
                                for x in view.lines), Decimal("0")),
            "status": view.status,
            "status_details": order_status.details(view, ACKNOWLEDGING if acknowledging else []),
            "intent_to_cancel": view.intent_to_cancel, "return_open": False,
            "in_flight": acknowledging, "created_at": stamp, "updated_at": stamp})
        lines[data.purchase_order_id] = line_values
    # Core statements on the tables (the ORM's bulk path would insert row by row here);
    # RETURNING pairs come back in any order: they are matched by purchase order id.
    table = Order.__table__
    ids = {po: order_id for order_id, po in db.session.execute(
        table.insert().returning(table.c.id, table.c.purchase_order_id), orders)}
    db.session.execute(update(Order).where(Order.id.in_(list(ids.values())))
                       .values(number=cast(Order.id + NUMBER_BASE, String))
                       .execution_options(synchronize_session=False))
    db.session.execute(OrderLine.__table__.insert(), [
        {**x, "order_id": ids[po]} for po, values in lines.items() for x in values])
    return ids


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
    with db.session.no_autoflush:
        touched = changed(order)
    order_status.refresh(order)
    if touched or changed(order):  # the same failure read again is no change
        order.updated_at = utcnow()
    return order
