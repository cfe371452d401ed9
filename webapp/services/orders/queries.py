"""Finding orders: filters, search, keyset pages, cached status counts, plain dicts."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy import Select, func, select, tuple_

from webapp.extensions import db, redis_connection
from webapp.models import Order, OrderLine, OrderStatus, Store
from webapp.numbers import MAX_ID
from webapp.services.orders import search
from webapp.services.orders import status_counts as kept_counts
from webapp.services.orders.dashboard import needs_condition
from webapp.team_time import day_start

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
    needs: str | None = None  # one of dashboard.NEEDS_LABELS: what needs doing
    unprinted: bool = False  # only orders whose packing slip was never printed
    extra: dict = field(default_factory=dict)


def base_query(f: OrderFilter, with_status: bool = True, with_search: bool = True,
               walk_if_many: bool = True) -> Select:
    """The orders of a filter (search included unless `with_search` is False). A search
    matching many orders is tested row by row as a page walks its order (`walk_if_many`);
    a count reads every match, by the indexes (search.py says why)."""
    query = select(Order)
    if f.store_id:
        query = query.where(Order.store_id == f.store_id)
    if f.date_from:
        query = query.where(Order.order_date >= day_start(f.date_from))
    if f.date_to:
        query = query.where(Order.order_date < day_start(f.date_to + timedelta(days=1)))
    if with_status and f.status:
        query = query.where(Order.status == f.status)
    if with_search and f.needs:
        query = query.where(needs_condition(f.needs))
    if with_search and f.unprinted:  # partial indexes serve it under each sort (models)
        query = query.where(Order.printed_at.is_(None))
    q = (f.q or "").strip()
    if with_search and q:
        query = query.where(search.condition(search.read(q), walk_if_many=walk_if_many))
    return query


@dataclass
class Page:
    orders: list[OrderRow]
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
        if type(order_id) is not int or not 0 < order_id <= MAX_ID:  # a forged cursor
            return None
        return datetime.fromisoformat(value), order_id
    except (ValueError, TypeError):
        return None


@dataclass(slots=True)
class ListLine:
    """What the Orders page shows of a line."""
    line_number: str
    sku: str
    quantity: int
    shipped_qty: int
    canceled_qty: int

    @property
    def open_qty(self) -> int:
        return max(self.quantity - self.shipped_qty - self.canceled_qty, 0)


@dataclass(slots=True)
class OrderRow:
    """A row of the Orders page: plain values read with one query (no ORM objects, so a page
    of 50 costs two indexed queries and no identity-map bookkeeping)."""
    id: int
    store_id: int
    number: str | None
    purchase_order_id: str
    customer_order_id: str | None
    customer_name: str | None
    order_date: datetime | None
    ship_by: datetime | None
    deliver_by: datetime | None
    ship_method: str | None
    currency: str
    order_value: object
    status: str
    status_details: str | None
    intent_to_cancel: bool
    in_flight: bool
    open_return_id: int | None
    import_error: str | None
    updated_at: datetime | None
    walmart_disagrees: bool
    printed_at: datetime | None
    store_name: str = ""
    lines: list[ListLine] = field(default_factory=list)

    @property
    def status_enum(self) -> OrderStatus:
        return OrderStatus(self.status)

    @property
    def status_slug(self) -> str:
        return STATUS_SLUGS.get(self.status, "")

    def content_key(self) -> tuple:
        """Everything a row of the Orders page shows (webapp/row_cache.py keys on it)."""
        return (tuple(getattr(self, name) for name in ROW_FIELDS), self.store_name,
                tuple((x.line_number, x.sku, x.quantity, x.shipped_qty, x.canceled_qty)
                      for x in self.lines))

    @property
    def row_class(self) -> str:
        return " ".join(name for name, on in (("in-flight", self.in_flight),
                                              ("buyer-cancel", self.intent_to_cancel)) if on)

    @property
    def item_labels(self) -> list[str]:
        """'SKU × 2' for the first three lines, then '+N more'."""
        labels = [f"{line.sku} × {line.quantity}" for line in self.lines[:3]]
        if len(self.lines) > 3:
            labels.append(f"+{len(self.lines) - 3} more")
        return labels


STATUS_SLUGS = {status: status.slug for status in OrderStatus}
ROW_FIELDS = tuple(name for name in OrderRow.__dataclass_fields__
                   if name not in ("store_name", "lines"))
ROW_COLUMNS = tuple(getattr(Order, name) for name in ROW_FIELDS)


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
    query = query.with_only_columns(*ROW_COLUMNS, Store.name).join(
        Store, Store.id == Order.store_id).order_by(*order_by).limit(size + 1)
    # Core execution on the session's connection: plain rows, no ORM bookkeeping.
    connection = db.session.connection()
    rows = [OrderRow(*values[:-1], store_name=values[-1])
            for values in connection.execute(query).all()]
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    _add_lines(rows)
    has_next = more if forward else True
    has_prev = (key is not None) if forward else more
    return Page(rows, _encode(rows[-1], column) if rows and has_next else None,
                _encode(rows[0], column) if rows and has_prev else None)


def count(f: OrderFilter) -> int:
    """How many orders page() walks through for this filter, over all its pages."""
    column, _direction = SORTS.get(f.sort, SORTS["ordered"])
    return db.session.scalar(select(func.count()).select_from(
        base_query(f, walk_if_many=False).where(column.is_not(None))
        .with_only_columns(Order.id).subquery()))


def _add_lines(rows: list[OrderRow]) -> None:
    by_id = {row.id: row for row in rows}
    if not by_id:
        return
    for order_id, *values in db.session.connection().execute(
            select(OrderLine.order_id, OrderLine.line_number, OrderLine.sku,
                   OrderLine.quantity, OrderLine.shipped_qty, OrderLine.canceled_qty)
            .where(OrderLine.order_id.in_(by_id)).order_by(OrderLine.id)):
        by_id[order_id].lines.append(ListLine(*values))


def stamp(orders: list[Order]) -> int:
    """The latest change among these orders, in microseconds (what a poll was rendered at)."""
    return max((int(o.updated_at.timestamp() * 1_000_000) for o in orders if o.updated_at),
               default=0)


def unchanged_since(order_ids: list[int], since: int) -> bool:
    """True when every watched order is still in flight and none changed after `since`: a
    poll then has nothing new to show (one indexed query, no rendering)."""
    if not order_ids:
        return False
    rows = db.session.execute(select(Order.updated_at, Order.in_flight)
                              .where(Order.id.in_(order_ids))).all()
    return len(rows) == len(set(order_ids)) and all(
        in_flight and updated and int(updated.timestamp() * 1_000_000) <= since
        for updated, in_flight in rows)


def invalidate_counts() -> None:
    """Orders changed: the cached status counts are stale."""
    try:
        redis_connection().incr(COUNTS_VERSION)
    except RedisError:
        pass


def status_counts(f: OrderFilter) -> dict[str, int]:
    """Orders per status for the store and date filters (not the search). Without a date
    filter, from the counts the database keeps (status_counts.py); within dates, counted in
    that range and cached in Redis until an order changes."""
    if not (f.date_from or f.date_to):
        return kept_counts.per_status(f.store_id)
    try:  # one round trip: the current version, and the counts with the version they are of
        conn = redis_connection()
        key = f"orderdeck:counts:{f.store_id}:{f.date_from}:{f.date_to}"
        version, cached = conn.mget(COUNTS_VERSION, key)
        version = int(version or 0)
        if cached:
            found = json.loads(cached)
            if found.get("version") == version:
                return found["counts"]
    except (RedisError, ValueError):
        conn = key = None
    inner = base_query(f, with_status=False, with_search=False).with_only_columns(
        Order.status, func.count(Order.id)).group_by(Order.status)
    counts = {s: 0 for s in OrderStatus}
    counts.update({status: n for status, n in db.session.execute(inner)})
    if conn is not None:
        try:
            conn.set(key, json.dumps({"version": version, "counts": counts}), ex=300)
        except RedisError:
            pass
    return counts
