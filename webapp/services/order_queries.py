"""Finding orders: filters, search, keyset pages, cached status counts, plain dicts."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import Select, func, or_, select, tuple_
from sqlalchemy.orm import selectinload

from webapp.extensions import db, redis_connection
from webapp.models import (
    Order,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentLine,
    ShipmentPackage,
    SyncTask,
)

SORTS = {"ordered": (Order.order_date, "desc"), "ship_by": (Order.ship_by, "asc"),
         "updated": (Order.updated_at, "desc")}
PAGE_SIZE = 50
COUNTS_VERSION = "orderdeck:counts-version"


@dataclass
class OrderFilter:
    status: OrderStatus | None = None
    store_id: int | None = None
    q: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "ordered"
    extra: dict = field(default_factory=dict)


def _day_start(day: date) -> datetime:
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return datetime.combine(day, time.min, zone)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def base_query(f: OrderFilter, with_status: bool = True, with_search: bool = True) -> Select:
    query = select(Order)
    if f.store_id:
        query = query.where(Order.store_id == f.store_id)
    if f.date_from:
        query = query.where(Order.order_date >= _day_start(f.date_from))
    if f.date_to:
        query = query.where(Order.order_date < _day_start(f.date_to + timedelta(days=1)))
    if with_status and f.status:
        query = query.where(Order.status == f.status.value)
    q = (f.q or "").strip()
    if with_search and q:
        pattern = _like(q)
        skus = select(OrderLine.order_id).where(OrderLine.sku.ilike(f"{pattern}%", escape="\\"))
        tracked = select(Shipment.order_id).join(ShipmentPackage).where(
            ShipmentPackage.tracking_number == q.replace(" ", "").upper())
        query = query.where(or_(
            Order.purchase_order_id == q, Order.number == q, Order.customer_order_id == q,
            Order.customer_name.ilike(f"%{pattern}%", escape="\\"), Order.id.in_(skus),
            Order.id.in_(tracked)))
    return query


@dataclass
class Page:
    orders: list[Order]
    next_cursor: str | None
    prev_cursor: str | None


def _encode(order: Order, column) -> str:
    value = getattr(order, column.key)
    raw = json.dumps([value.isoformat() if value else None, order.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, int] | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, order_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return datetime.fromisoformat(value), int(order_id)
    except (ValueError, TypeError):
        return None


def page(f: OrderFilter, after: str | None = None, before: str | None = None,
         size: int = PAGE_SIZE) -> Page:
    """One page in the chosen order, by keyset (no OFFSET): `after`/`before` are cursors."""
    column, direction = SORTS.get(f.sort, SORTS["ordered"])
    query = base_query(f).where(column.is_not(None))
    forward = before is None
    key = _decode(after if forward else before) if (after or before) else None
    newer_first = direction == "desc"
    if key:
        ahead = tuple_(column, Order.id) < tuple_(*key) if newer_first == forward else \
            tuple_(column, Order.id) > tuple_(*key)
        query = query.where(ahead)
    descending = newer_first == forward
    order_by = (column.desc(), Order.id.desc()) if descending else (column.asc(), Order.id.asc())
    query = query.options(selectinload(Order.lines))
    rows = list(db.session.scalars(query.order_by(*order_by).limit(size + 1)).unique())
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    has_next = more if forward else True
    has_prev = (key is not None) if forward else more
    return Page(rows, _encode(rows[-1], column) if rows and has_next else None,
                _encode(rows[0], column) if rows and has_prev else None)


def invalidate_counts() -> None:
    """Orders changed: the cached status counts are stale."""
    try:
        redis_connection().incr(COUNTS_VERSION)
    except RedisError:
        pass


def status_counts(f: OrderFilter) -> dict[str, int]:
    """Orders per status for the store and date filters (not the search), cached in Redis."""
    try:
        conn = redis_connection()
        version = int(conn.get(COUNTS_VERSION) or 0)
        key = f"orderdeck:counts:{version}:{f.store_id}:{f.date_from}:{f.date_to}"
        cached = conn.get(key)
        if cached:
            return json.loads(cached)
    except RedisError:
        conn = key = None
    inner = base_query(f, with_status=False, with_search=False).with_only_columns(
        Order.status, func.count(Order.id)).group_by(Order.status)
    counts = {s.value: 0 for s in OrderStatus}
    counts.update({status: n for status, n in db.session.execute(inner)})
    if conn is not None:
        try:
            conn.set(key, json.dumps(counts), ex=300)
        except RedisError:
            pass
    return counts


def find(key: str) -> Order | None:
    """An order by our number or Walmart's purchase order id."""
    key = key.strip()
    return db.session.scalar(select(Order).where(
        or_(Order.number == key, Order.purchase_order_id == key)).order_by(Order.id).limit(1))


def shipments_of(order: Order) -> list[Shipment]:
    return list(db.session.scalars(
        select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id)
        .options(selectinload(Shipment.packages).selectinload(ShipmentPackage.lines)
                 .selectinload(ShipmentLine.order_line), selectinload(Shipment.task))))


def tasks_of(order: Order) -> list[SyncTask]:
    return list(db.session.scalars(select(SyncTask).where(SyncTask.order_id == order.id)
                                   .order_by(SyncTask.id)))


def summary(order: Order) -> dict:
    return {"number": order.number, "purchase_order_id": order.purchase_order_id,
            "customer_order_id": order.customer_order_id, "store": order.store.name,
            "status": order.status, "status_details": order.status_details,
            "customer": order.customer_name,
            "order_date": order.order_date.isoformat() if order.order_date else None,
            "ship_by": order.ship_by.isoformat() if order.ship_by else None,
            "order_value": str(order.order_value), "currency": order.currency}


def detail(order: Order) -> dict:
    data = summary(order)
    data["lines"] = [{"line_number": x.line_number, "sku": x.sku, "name": x.product_name,
                      "ordered": x.quantity, "shipped": x.shipped_qty,
                      "canceled": x.canceled_qty, "refunded": x.refunded_qty,
                      "unit_price": str(x.unit_price)} for x in order.lines]
    data["shipments"] = [
        {"id": s.id, "ship_time": s.ship_time.isoformat(), "created_by": s.created_by,
         "state": s.task.state if s.task else None,
         "packages": [{"carrier": p.carrier_name, "method": p.method_code,
                       "tracking_number": p.tracking_number, "tracking_url": p.tracking_url,
                       "lines": {x.order_line.line_number: x.quantity for x in p.lines}}
                      for p in s.packages]} for s in shipments_of(order)]
    data["sync_tasks"] = [{"id": t.id, "kind": t.kind, "state": t.state, "attempts": t.attempts,
                           "last_error": t.last_error_message,
                           "last_error_code": t.last_error_code} for t in tasks_of(order)]
    return data
