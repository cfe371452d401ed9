"""Order import from the simulator over real HTTP, and acknowledgement through the outbox."""

from __future__ import annotations

from sqlalchemy import func, select

from simulator import control


def _orders(app):
    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        orders = db.session.scalars(select(Order).order_by(Order.id)).unique().all()
        for order in orders:
            _ = order.lines, order.store
            db.session.expunge(order)
        return orders


def _import(app, store_id):
    from webapp.services.orders.importer import import_store

    with app.app_context():
        run = import_store(store_id, trigger="test")
        return {k: getattr(run, k) for k in ("ok", "pages", "seen", "created", "updated",
                                             "failed")}


def test_import_creates_every_released_order_once(app, walmart_store):
    """250 released orders arrive with their lines, customer, dates and our own numbers."""
    store_id, seller = walmart_store(orders=250)
    summary = _import(app, store_id)
    assert summary["ok"] and summary["created"] == 250 and summary["failed"] == 0
    # No older released order (counted, so not walked); 200 changed orders a page: each
    # downloaded once.
    assert summary["pages"] == 2
    orders = _orders(app)
    assert len(orders) == 250
    assert len({o.number for o in orders}) == 250 and all(o.number.isdigit() for o in orders)
    first = orders[0]
    walmart = control.order_state(sim_conn(seller), seller.seller_id, first.purchase_order_id)
    assert first.customer_order_id == walmart["customerOrderId"]
    assert first.customer_name == walmart["shippingInfo"]["postalAddress"]["name"]
    assert first.ship_by is not None and first.order_date is not None
    assert [x.line_number for x in first.lines] == [
        x["lineNumber"] for x in walmart["orderLines"]["orderLine"]]
    assert first.status == "Open" and first.in_flight  # acknowledgement queued


def sim_conn(seller):
    return seller.sim.conn


def test_import_twice_never_duplicates(app, walmart_store):
    """Running the import again finds the same orders: nothing new, nothing twice."""
    store_id, _seller = walmart_store(orders=30)
    first = _import(app, store_id)
    again = _import(app, store_id)
    assert (first["seen"], first["created"], first["updated"]) == (30, 30, 0)
    assert (again["seen"], again["created"], again["updated"]) == (30, 0, 30)
    assert len(_orders(app)) == 30
    from webapp.extensions import db
    from webapp.models import OrderLine, SyncTask
    with app.app_context():
        lines = db.session.scalar(select(func.count(OrderLine.id)))
        tasks = db.session.scalar(select(func.count(SyncTask.id)))
    assert tasks == 30  # one acknowledgement per order, not per import
    assert lines == sum(len(o.lines) for o in _orders(app))


def test_acknowledgements_reach_walmart_through_the_outbox(app, walmart_store, worker):
    """After import, a worker acknowledges every order at Walmart, exactly once each."""
    store_id, seller = walmart_store(orders=20)
    _import(app, store_id)
    worker()
    orders = _orders(app)
    assert all(not o.in_flight for o in orders)
    assert all(line.acknowledged for o in orders for line in o.lines)
    calls = [r for r in seller.requests() if r["endpoint"] == "acknowledge"]
    assert len(calls) == 20 and {r["status"] for r in calls} == {200}
    for order in orders:
        state = control.order_state(seller.sim.conn, seller.seller_id, order.purchase_order_id)
        statuses = {s["status"] for x in state["orderLines"]["orderLine"]
                    for s in x["orderLineStatuses"]["orderLineStatus"]}
        assert statuses == {"Acknowledged"}


def test_changes_at_walmart_show_up_on_the_next_import(app, walmart_store, worker):
    """A buyer cancellation and an intent to cancel made at Walmart appear after import."""
    store_id, seller = walmart_store(orders=5)
    _import(app, store_id)
    worker()
    first, second = _orders(app)[:2]
    control.buyer_cancel(seller.sim.conn, seller.seller_id, first.purchase_order_id)
    control.intent_to_cancel(seller.sim.conn, seller.seller_id, second.purchase_order_id)
    _import(app, store_id)
    by_po = {o.purchase_order_id: o for o in _orders(app)}
    canceled = by_po[first.purchase_order_id]
    assert canceled.status == "Canceled"
    assert {x.cancellation_reason for x in canceled.lines} == {
        "CUSTOMER_REQUESTED_SELLER_TO_CANCEL"}
    assert by_po[second.purchase_order_id].intent_to_cancel
    assert "Buyer asked to cancel" in by_po[second.purchase_order_id].status_details


def test_auto_cancel_at_walmart_shows_up(app, walmart_store, worker):
    """Walmart's auto-cancel of unshipped lines (ship-by + 4 days) is imported."""
    store_id, seller = walmart_store(orders=3)
    _import(app, store_id)
    worker()
    control.advance_clock(seller.sim.conn, 24 * 9)
    try:
        _import(app, store_id)
    finally:
        control.advance_clock(seller.sim.conn, -24 * 9)
    assert {o.status for o in _orders(app)} == {"Canceled"}


def test_unstorable_order_is_shown_as_error_and_retried(app, walmart_store):
    """An order Walmart sends without a required field shows as Error with the reason,
    never stops the page, and imports once Walmart sends it whole."""
    import json

    store_id, seller = walmart_store(orders=4)
    conn = seller.sim.conn
    po, doc = conn.execute("SELECT po, doc FROM orders WHERE seller_id = ? ORDER BY order_ms "
                           "LIMIT 1", (seller.seller_id,)).fetchone()
    broken = json.loads(doc)
    good_name = broken["shippingInfo"]["postalAddress"]["postalCode"]
    broken["shippingInfo"]["postalAddress"]["postalCode"] = None
    conn.execute("UPDATE orders SET doc = ? WHERE seller_id = ? AND po = ?",
                 (json.dumps(broken), seller.seller_id, po))
    summary = _import(app, store_id)
    assert summary["created"] == 3 and summary["failed"] == 1
    assert (summary["seen"], summary["updated"]) == (4, 0)  # a failed order is not updated
    bad = next(o for o in _orders(app) if o.purchase_order_id == po)
    assert bad.status == "Error" and "postalCode" in bad.status_details
    broken["shippingInfo"]["postalAddress"]["postalCode"] = good_name
    conn.execute("UPDATE orders SET doc = ?, modified_ms = modified_ms + 1 WHERE seller_id = ? "
                 "AND po = ?", (json.dumps(broken), seller.seller_id, po))
    _import(app, store_id)
    fixed = next(o for o in _orders(app) if o.purchase_order_id == po)
    assert fixed.status == "Open" and fixed.import_error is None and fixed.lines


def test_a_line_number_walmart_repeats_is_stored_once(app, walmart_store):
    """Walmart repeats a line number within an order: the order is stored with that line
    once (its last entry), like every other order of the page."""
    from webapp.extensions import db
    from webapp.models import Order

    store_id, seller = walmart_store(orders=6)
    conn = sim_conn(seller)
    po = _first_po(conn, seller)

    def repeat_first_line(order, _now):
        order["lines"].append({**order["lines"][0]})
    control.update_order(conn, seller.seller_id, po, repeat_first_line)
    summary = _import(app, store_id)
    assert summary["ok"] and summary["created"] == 6 and summary["failed"] == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 6
        order = db.session.scalars(select(Order).where(Order.purchase_order_id == po)).one()
        numbers = [x.line_number for x in order.lines]
        assert len(numbers) == len(set(numbers))
        assert order.in_flight  # its acknowledgement is queued like the others'


def _first_po(conn, seller) -> str:
    return conn.execute("SELECT po FROM orders WHERE seller_id = ? ORDER BY order_ms LIMIT 1",
                        (seller.seller_id,)).fetchone()[0]


def test_walmart_text_longer_than_our_columns_is_cut_to_fit(app, walmart_store):
    """A 300-character customer order id and a name with a NUL character: stored, cut to the
    column and cleaned, on SQLite and PostgreSQL alike; the page's other orders too."""
    from webapp.extensions import db
    from webapp.models import Order

    store_id, seller = walmart_store(orders=6)
    conn = sim_conn(seller)
    po = _first_po(conn, seller)

    def odd_text(order, _now):
        order["customerOrderId"] = "9" * 300
        order["shippingInfo"]["postalAddress"]["name"] = "Ana\x00 Smith"
    control.update_order(conn, seller.seller_id, po, odd_text)
    summary = _import(app, store_id)
    assert summary["ok"] and summary["created"] == 6 and summary["failed"] == 0
    with app.app_context():
        order = db.session.scalars(select(Order).where(Order.purchase_order_id == po)).one()
        assert order.customer_order_id == "9" * 40 and order.customer_name == "Ana Smith"


def test_a_page_the_batch_cannot_store_is_stored_order_by_order(app, walmart_store,
                                                                monkeypatch):
    """The page's bulk path fails (as when another writer inserts one of its orders first):
    the page is stored order by order, each order once; one the database refuses even alone
    shows as Error with the reason, and the import goes on."""
    from sqlalchemy.exc import IntegrityError

    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.orders import storing as order_import

    store_id, seller = walmart_store(orders=5)
    refused = _first_po(sim_conn(seller), seller)
    single = order_import.upsert

    def collide(*_args, **_kwargs):
        raise IntegrityError("INSERT INTO orders", {}, Exception("duplicate key"))

    def upsert(store, data, *read_at):
        if data.purchase_order_id == refused:
            collide()
        return single(store, data, *read_at)
    monkeypatch.setattr(order_import, "upsert_page", collide)
    monkeypatch.setattr(order_import, "upsert", upsert)
    summary = _import(app, store_id)
    assert summary["ok"] and summary["created"] == 4 and summary["failed"] == 1
    with app.app_context():
        orders = {o.purchase_order_id: o for o in db.session.scalars(select(Order))}
        assert len(orders) == 5
        assert orders[refused].status == "Error"
        assert "could not store this order" in orders[refused].status_details
        assert all(o.in_flight for p, o in orders.items() if p != refused)  # acknowledging


def test_windows_over_walmarts_cap_are_split(app, walmart_store, monkeypatch):
    """Walmart reads at most 10,000 orders a search; here the cap is 40 (at the simulator
    and in the import) and 150 orders placed over 3 days wait. The last import was a day and
    a half ago: the older half are read as released orders, the newer half as changed orders,
    both counted first and read in halves until each window fits — every order once, no
    search refused."""
    from datetime import timedelta

    from webapp.extensions import db
    from webapp.models import Order
    from webapp.models.base import utcnow
    from webapp.services.orders import importer

    store_id, seller = walmart_store(orders=150, import_watermark=utcnow() - timedelta(days=1.5))
    conn = sim_conn(seller)
    control.set_max_per_query(conn, 40)
    monkeypatch.setattr(importer, "MAX_PER_QUERY", 40)
    try:
        summary = _import(app, store_id)
    finally:
        control.set_max_per_query(conn)
    assert summary["ok"] and summary["created"] == 150 and summary["failed"] == 0
    with app.app_context():
        pos = db.session.scalars(select(Order.purchase_order_id)).all()
    assert len(pos) == 150 and len(set(pos)) == 150
    searches = [r for r in seller.requests() if r["endpoint"] in ("released", "orders")]
    assert searches and not [r for r in searches if r["status"] == 400]
    counted = [r for r in searches if r["endpoint"] == "released" and "limit=1&" in r["path"]
               + "&"]
    assert len(counted) > 1  # the released window was counted, then counted in parts
    assert any("lastModifiedEndDate" in r["path"] for r in searches
               if r["endpoint"] == "orders" and r["status"] == 200)
