"""Order and return searches with Walmart's filters, windows and nextCursor paging."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from urllib.parse import quote, unquote_to_bytes, urlencode

from flask import request

from simulator import gateway, orders, returns
from simulator.data import MAX_PER_QUERY, MAX_WINDOW_MS
from simulator.db import get_setting, now_ms
from simulator.errors import WalmartFault

DAY_MS = 24 * 3600 * 1000
LINE_STATUSES = {"Created", "Acknowledged", "Shipped", "Delivered", "Cancelled"}


def parse_date(value: str, name: str, service: str = "GMP_ORDER_API") -> int:
    """`yyyy-MM-dd` or an ISO-8601 UTC timestamp → epoch ms."""
    text = value.strip()
    try:
        if len(text) == 10:
            moment = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+"))
            if moment.tzinfo is None:
                raise ValueError("no time zone")
    except ValueError as exc:
        raise WalmartFault(400, "INVALID_REQUEST_PARAM", f"Invalid Date format value for "
                           f"{name}: {value!r}", field=name, service=service) from exc
    return int(moment.timestamp() * 1000)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{ms % 1000:03d}Z"


def raw_arg(name: str) -> str | None:
    """A query parameter percent-decoded only, as Walmart reads a SKU: `+` stays a plus (a
    space is `%20`; walmart-api.md §5.1, §11). Flask's `request.args` would make `+` a space."""
    for pair in request.query_string.split(b"&"):
        key, _, value = pair.partition(b"=")
        if unquote_to_bytes(key).decode("utf-8", "replace") == name:
            return unquote_to_bytes(value).decode("utf-8", "replace")
    return None


def _limit(default: int, service: str) -> int:
    raw = request.args.get("limit", str(default))
    if not raw.isdigit() or int(raw) < 1:
        raise WalmartFault(400, "INVALID_REQUEST_PARAM", f"Invalid limit {raw!r}",
                           field="limit", service=service)
    return min(int(raw), 200)


def _offset(name: str) -> int:
    raw = request.args.get(name, "0")
    return int(raw) if raw.isdigit() else 0


def _matches(order: dict, args) -> bool:
    sku, status = raw_arg("sku"), args.get("status")
    lines = order["lines"]
    if sku and not any(line["sku"] == sku for line in lines):
        return False
    if status:
        rendered = orders.render(order)["orderLines"]["orderLine"]
        if not any(s["status"] == status for line in rendered
                   for s in line["orderLineStatuses"]["orderLineStatus"]):
            return False
    esd = order["shippingInfo"]["estimatedShipDate"]
    if args.get("fromExpectedShipDate") and esd < parse_date(args["fromExpectedShipDate"],
                                                             "fromExpectedShipDate"):
        return False
    if args.get("toExpectedShipDate") and esd > parse_date(args["toExpectedShipDate"],
                                                           "toExpectedShipDate"):
        return False
    return True


def _search_index(released: bool, args) -> str:
    """The table as a search reads it: through the index that holds its filters and its order
    (db.py), so counting and paging read index entries, never documents. A search by purchase
    order id is left to SQLite's planner (the primary key finds the order), and so is the rare
    one by customer order id."""
    if args.get("purchaseOrderId") or args.get("customerOrderId"):
        return "orders"
    if released:
        return "orders INDEXED BY ix_orders_released_page"
    if args.get("lastModifiedStartDate"):  # the window of changes: its entries are adjacent
        return "orders INDEXED BY ix_orders_modified_page"
    return "orders INDEXED BY ix_orders_created_page"


def _page_docs(conn: sqlite3.Connection, source: str, sql: str, params: list, limit: int,
               at: int) -> list[dict]:
    """The search's orders at [at, at + limit) in (order date, purchase order) order: their
    rowids from the index first, then only their documents (an OFFSET over whole rows would
    read every earlier document of the search, page after page)."""
    ids = [r[0] for r in conn.execute(
        f"SELECT rowid FROM {source} WHERE {sql} ORDER BY order_ms, po LIMIT ? OFFSET ?",
        [*params, limit, at])]
    if not ids:
        return []
    docs = dict(conn.execute(f"SELECT rowid, doc FROM orders WHERE rowid IN "
                             f"({', '.join('?' * len(ids))})", ids).fetchall())
    return [json.loads(docs[rowid]) for rowid in ids]


def order_page(conn: sqlite3.Connection, seller_id: str, released: bool) -> dict:
    args = request.args
    limit, offset, now = _limit(100, "GMP_ORDER_API"), _offset("soIndex"), now_ms(conn)
    if args.get("status") and args["status"] not in LINE_STATUSES:
        raise WalmartFault(400, "INVALID_REQUEST_PARAM", f"Invalid status {args['status']!r}",
                           field="status")
    start = parse_date(args["createdStartDate"], "createdStartDate") \
        if args.get("createdStartDate") else now - 7 * DAY_MS
    end = parse_date(args["createdEndDate"], "createdEndDate") \
        if args.get("createdEndDate") else now
    start = max(start, now - MAX_WINDOW_MS)  # Walmart keeps 180 days
    where, params = ["seller_id = ?", "order_ms >= ?", "order_ms <= ?"], [seller_id, start, end]
    if released:
        where.append("has_created = 1")
    else:
        for name, op in (("lastModifiedStartDate", ">="), ("lastModifiedEndDate", "<=")):
            if args.get(name):
                where.append(f"modified_ms {op} ?")
                params.append(parse_date(args[name], name))
    for name, column in (("purchaseOrderId", "po"), ("customerOrderId", "customer_order_id")):
        if args.get(name):
            where.append(f"{column} = ?")
            params.append(args[name])
    sql = " AND ".join(where)
    doc_filters = {k for k in ("sku", "status", "fromExpectedShipDate", "toExpectedShipDate")
                   if args.get(k)}
    if released and args.get("status") == "Created":
        doc_filters.discard("status")  # what has_created = 1 already selects (the cursor says so)
    needs_docs = bool(doc_filters)
    if needs_docs:
        docs = [json.loads(r["doc"]) for r in conn.execute(
            f"SELECT doc FROM orders WHERE {sql} ORDER BY order_ms, po", params)]
        docs = [d for d in docs if _matches(d, args)]
        total = len(docs)

        def rows(at: int) -> list[dict]:
            return docs[at:at + limit]
    else:
        source = _search_index(released, args)
        total = conn.execute(f"SELECT count(*) FROM {source} WHERE {sql}", params).fetchone()[0]

        def rows(at: int) -> list[dict]:
            return _page_docs(conn, source, sql, params, limit, at)
    cap = int(get_setting(conn, "max_per_query", MAX_PER_QUERY))
    # At most 10,000 orders per query: the search counts them all, but asking for an order
    # past the cap is refused.
    if total > cap and min(offset + limit, total) > cap:
        raise WalmartFault(400, "INVALID_REQUEST_PARAM", f"Query matches {total} orders; at most "
                           f"{cap} per query. Narrow the date range.",
                           field="createdStartDate")
    fault = gateway.draw_paging_fault(conn, "released" if released else "orders") \
        if "soIndex" in args else None
    page = rows(max(offset - limit, 0) if fault == "replay_page" else offset)
    if fault == "short_count":
        page = page[:-1]
    if not page and fault is None:
        raise WalmartFault(404, "CONTENT_NOT_FOUND", "Failed when called getAllOrders. Orders "
                           "not found for given search parameters", severity="INFO")
    cursor = None
    if offset + limit < total or fault == "repeat_cursor":
        seller = conn.execute("SELECT partner_id FROM sellers WHERE seller_id = ?",
                              (seller_id,)).fetchone()
        keep = {k: v for k, v in args.items() if k not in {
            "limit", "hasMoreElements", "soIndex", "poIndex", "partnerId", "sellerId",
            "createdStartDate", "createdEndDate"}}
        if "sku" in keep:
            keep["sku"] = raw_arg("sku")
        at = offset if fault == "repeat_cursor" else offset + limit  # repeat: this page again
        query = {"limit": limit, "hasMoreElements": "true", "soIndex": at, "poIndex": at,
                 "partnerId": seller["partner_id"] if seller else "", "sellerId": seller_id,
                 "createdStartDate": iso(start), "createdEndDate": iso(end), **keep}
        if released:
            query["status"] = "Created"
        cursor = "?" + urlencode(query, quote_via=quote)  # a space as %20, as Walmart reads it
    return {"list": {"meta": {"totalCount": total, "limit": limit, "nextCursor": cursor},
                     "elements": {"order": [orders.render(o) for o in page]}}}


RETURN_DATE_PAIRS = (("returnCreationStartDate", "returnCreationEndDate"),
                     ("returnLastModifiedStartDate", "returnLastModifiedEndDate"))


def return_page(conn: sqlite3.Connection, seller_id: str) -> dict:
    args = request.args
    limit, offset = _limit(10, "GMP_RETURNS_API"), _offset("offset")
    for pair in RETURN_DATE_PAIRS:  # a lone bound is refused (walmart-api.md §11)
        given = [name for name in pair if args.get(name)]
        if len(given) == 1:
            missing = next(name for name in pair if name not in given)
            raise WalmartFault(400, "INVALID_REQUEST_PARAM", f"{given[0]} needs {missing}: "
                               "send both dates of the range", field=missing,
                               service="GMP_RETURNS_API")
    where, params = ["seller_id = ?"], [seller_id]
    for name, column, op in (("returnCreationStartDate", "created_ms", ">="),
                             ("returnCreationEndDate", "created_ms", "<="),
                             ("returnLastModifiedStartDate", "modified_ms", ">="),
                             ("returnLastModifiedEndDate", "modified_ms", "<=")):
        if args.get(name):
            where.append(f"{column} {op} ?")
            params.append(parse_date(args[name], name, "GMP_RETURNS_API"))
    for name, column in (("returnOrderId", "rma"), ("customerOrderId", "customer_order_id")):
        if args.get(name):
            where.append(f"{column} = ?")
            params.append(args[name])
    docs = [json.loads(r["doc"]) for r in conn.execute(
        f"SELECT doc FROM returns WHERE {' AND '.join(where)} ORDER BY created_ms, rma", params)]
    if args.get("status"):
        docs = [d for d in docs if returns.status(d) == args["status"]]
    total, page = len(docs), docs[offset:offset + limit]
    # Pages read through a cursor may repeat it, as order pages may (walmart-api.md §11).
    fault = gateway.draw_paging_fault(conn, "returns") if "offset" in args else None
    cursor = None
    if offset + limit < total or fault == "repeat_cursor":
        keep = {k: v for k, v in args.items() if k not in {"limit", "offset", "sellerId"}}
        at = offset if fault == "repeat_cursor" else offset + limit
        cursor = "?" + urlencode({"sellerId": seller_id, "limit": limit, "offset": at, **keep})
    return {"meta": {"totalCount": total, "limit": limit, "nextCursor": cursor},
            "returnOrders": [returns.render(d) for d in page]}
