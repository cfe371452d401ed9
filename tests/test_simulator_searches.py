"""The simulator's order searches: the same pages, counts and cursors as a plain sort of its
orders would give, read through indexes so that a page deep in a large search costs what the
first page costs (its doubles-as-Walmart answers must not change with how they are read)."""

from __future__ import annotations

import json
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from simulator import control, create_app, rules
from simulator.listing import iso

SELLER = "search-seller"


@pytest.fixture
def sim_app(tmp_path):
    """The simulator in-process (its test client), one seller with 230 orders over three days:
    six of them share one order date (the purchase order id breaks the tie), 40 are
    acknowledged (off the released list, modified later than placed)."""
    db = tmp_path / "sim.sqlite"
    app = create_app(str(db))
    conn = control.conn_for(db)
    control.set_rate_scale(conn, 1000)
    control.add_seller(conn, SELLER, f"{SELLER}-id", f"{SELLER}-secret")
    control.seed_orders(conn, SELLER, 230, seed=5, days=3, intent_rate=0.0)
    pos = [r["po"] for r in conn.execute("SELECT po FROM orders ORDER BY order_ms")]
    tied = conn.execute("SELECT order_ms FROM orders WHERE po = ?", (pos[100],)).fetchone()[0]
    for po in pos[101:106]:
        control.update_order(conn, SELLER, po, lambda order, _now: order.update(orderDate=tied))
    for po in pos[::6][:40]:
        control.update_order(conn, SELLER, po, rules.acknowledge)
    client = app.test_client()
    headers = {"WM_SVC.NAME": "test", "Accept": "application/json"}
    token = client.post("/v3/token", auth=(f"{SELLER}-id", f"{SELLER}-secret"),
                        data={"grant_type": "client_credentials"},
                        headers={**headers, "WM_QOS.CORRELATION_ID": "t"}).get_json()
    headers["WM_SEC.ACCESS_TOKEN"] = token["access_token"]
    return client, headers, conn


def _walk(client, headers, path: str, query: dict) -> tuple[list[str], list[int], list[str]]:
    """Every page of one search: the purchase orders in order, each page's totalCount and
    soIndex of each nextCursor."""
    pos, totals, offsets = [], [], []
    response = client.get(path, query_string=query,
                          headers={**headers, "WM_QOS.CORRELATION_ID": str(uuid.uuid4())})
    while True:
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()["list"]
        pos += [o["purchaseOrderId"] for o in body["elements"]["order"]]
        totals.append(body["meta"]["totalCount"])
        cursor = body["meta"]["nextCursor"]
        if not cursor:
            return pos, totals, offsets
        offsets.append(parse_qs(urlsplit(cursor).query)["soIndex"][0])
        response = client.get(path + cursor,
                              headers={**headers, "WM_QOS.CORRELATION_ID": str(uuid.uuid4())})


def _expected(conn, keep) -> list[str]:
    """The seller's orders a search selects, sorted as Walmart pages them: by order date, then
    purchase order id — computed from the stored documents, without the searches' SQL."""
    rows = [(r["order_ms"], r["modified_ms"], json.loads(r["doc"])) for r in conn.execute(
        "SELECT order_ms, modified_ms, doc FROM orders WHERE seller_id = ?", (SELLER,))]
    return [doc["purchaseOrderId"] for order_ms, modified_ms, doc in sorted(
        rows, key=lambda row: (row[0], row[2]["purchaseOrderId"])) if keep(order_ms, modified_ms,
                                                                         doc)]


def _window(conn) -> tuple[int, int, int]:
    """(earliest order date, a moment inside the orders' modification span, the latest
    modification): a changed-orders window that holds some orders but not all."""
    low, high = conn.execute("SELECT min(order_ms), max(modified_ms) FROM orders").fetchone()
    return low, low + (high - low) // 2, high


def test_pages_are_the_orders_sorted_by_date_then_purchase_order(sim_app):
    """Released, created-window and changed-window searches, read 7 at a time, give every
    order once, in (order date, purchase order id) order, with a steady totalCount and
    soIndex cursors advancing by the page size."""
    client, headers, conn = sim_app
    low, middle, high = _window(conn)
    searches = [
        ("/v3/orders/released", {"createdStartDate": iso(low)},
         lambda _o, _m, doc: any(line["created"] for line in doc["lines"])),
        ("/v3/orders", {"createdStartDate": iso(low), "createdEndDate": iso(middle)},
         lambda order_ms, _m, _doc: order_ms <= middle),
        ("/v3/orders", {"createdStartDate": iso(low), "lastModifiedStartDate": iso(middle),
                        "lastModifiedEndDate": iso(high)},
         lambda _o, modified_ms, _doc: middle <= modified_ms <= high),
    ]
    for path, query, keep in searches:
        expected = _expected(conn, keep)
        assert 7 < len(expected) < 230  # several pages; a real filter
        pos, totals, offsets = _walk(client, headers, path, {**query, "limit": "7"})
        assert pos == expected, path
        assert set(totals) == {len(expected)}
        assert offsets == [str(n) for n in range(7, len(expected), 7)]


def test_a_search_by_purchase_order_finds_that_order(sim_app):
    """purchaseOrderId narrows /v3/orders to that order (its own lookup, not a range)."""
    client, headers, conn = sim_app
    po = conn.execute("SELECT po FROM orders ORDER BY order_ms LIMIT 1 OFFSET 50").fetchone()[0]
    low, _middle, _high = _window(conn)
    pos, totals, _ = _walk(client, headers, "/v3/orders",
                           {"createdStartDate": iso(low), "purchaseOrderId": po})
    assert (pos, totals) == ([po], [1])


def _plans(conn, statements: list[str]) -> list[str]:
    """SQLite's plan for each statement over the orders table, one line per step."""
    return [" | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
            for sql in statements if " orders" in sql and sql.lstrip().upper().startswith(
                "SELECT")]


def test_searches_read_their_pages_from_indexes(sim_app):
    """Counting and paging a search read index entries only, the page's documents by rowid, and
    the auto-cancel check looks up due orders by ship date: no statement walks the orders'
    rows (an OFFSET over rows read every earlier document again, page after page)."""
    client, headers, conn = sim_app
    low, middle, high = _window(conn)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        for path, query in [
                ("/v3/orders/released", {"createdStartDate": iso(low)}),
                ("/v3/orders", {"createdStartDate": iso(low), "createdEndDate": iso(middle)}),
                ("/v3/orders", {"createdStartDate": iso(low), "lastModifiedStartDate":
                                iso(middle), "lastModifiedEndDate": iso(high)})]:
            _walk(client, headers, path, {**query, "limit": "20"})
    finally:
        conn.set_trace_callback(None)
    plans = _plans(conn, statements)
    assert len(plans) > 20
    for plan in plans:
        steps = [step for step in plan.split(" | ") if "orders" in step]
        for step in steps:
            assert "COVERING INDEX" in step or "PRIMARY KEY" in step, plan
    due = [plan for plan in plans if "ix_orders_due" in plan]
    assert due and all("esd_ms<?" in plan for plan in due)
