"""Cancel Order with Walmart's reason, and stock pushed back to Walmart."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from simulator import control


def _pick(app, lines: int = 1, qty: int | None = None):
    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        for order in db.session.scalars(select(Order).order_by(Order.id)).unique():
            if len(order.lines) == lines and not order.intent_to_cancel and (
                    qty is None or order.lines[0].quantity == qty):
                return order.id, order.purchase_order_id, [(x.sku, x.quantity)
                                                            for x in order.lines]
    raise AssertionError("no such order")


def _statuses(seller, po):
    state = control.order_state(seller.sim.conn, seller.seller_id, po)
    return [(x["lineNumber"], s["status"], int(s["statusQuantity"]["amount"]),
             s["cancellationReason"]) for x in state["orderLines"]["orderLine"]
            for s in x["orderLineStatuses"]["orderLineStatus"]]


def _inventory(seller):
    return [(r["path"], r["body"]) for r in seller.requests() if r["endpoint"] == "inventory"]


def _token(client, url):
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(url).text).group(1)


def test_cancel_an_open_order_releases_and_pushes_stock(app, signed_in, client, shop, worker):
    """Cancel Order with a reason: Walmart has every line Cancelled with it; the tracked SKU's
    available quantity rises and is pushed."""
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.stock.levels import set_on_hand

    store_id, seller = shop
    order_id, po, lines = _pick(app, lines=2)
    sku, qty = lines[0]
    with app.app_context():
        held = set_on_hand(store_id, sku, 50, by=None)
        before = held.available
    worker()
    signed_in("operator")
    form = client.get(f"/orders/{order_id}/cancel", headers={"HX-Request": "true"})
    assert "Cancel Order" in form.text and "<html" not in form.text
    assert "Out of stock" in form.text and "Walmart then marks the SKU out of stock" in form.text
    response = client.post(f"/orders/{order_id}/cancel", data={
        "csrf_token": _token(client, f"/orders/{order_id}"),
        "reason": "SELLER_CANCEL_OUT_OF_STOCK"})
    assert response.status_code == 303
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order.status == "Canceled"
        assert "Reason: Out of stock" in order.status_details
    worker()
    assert {(s, r) for _n, s, _q, r in _statuses(seller, po)} == {
        ("Cancelled", "SELLER_CANCEL_OUT_OF_STOCK")}
    pushed = _inventory(seller)[-1]
    assert sku.replace("-", "") in pushed[0].replace("-", "")
    assert f'"amount": {before + qty}' in pushed[1]
    page = client.get(f"/orders/{order_id}").text
    assert "<dt>Cancellation reason</dt><dd>Out of stock</dd>" in page


def test_cancel_a_partially_shipped_order_cancels_only_the_rest(app, shop, worker):
    """After shipping 1 of 3, cancelling cancels 2 at Walmart; the order stays Shipped with
    '2 units canceled'."""
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order
    from webapp.services.stock.cancelling import cancel_order

    _store_id, seller = shop
    order_id, po, lines = _pick(app, qty=3)
    with app.app_context():
        ship_order(order_id, [PackageInput("1Z999AA10123456784", "Standard", {"1": 1}, "UPS")],
                   utcnow(), by=None, actor="test")
        cancel_order(order_id, "SELLER_CANCEL_PRICING_ERROR", by=None, actor="test")
    worker()
    assert sorted(_statuses(seller, po)) == [
        ("1", "Cancelled", 2, "SELLER_CANCEL_PRICING_ERROR"), ("1", "Shipped", 1, None)]
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order.status == "Shipped" and "2 units canceled" in order.status_details


@pytest.mark.parametrize("case", ["bad reason", "shipped", "viewer", "twice"])
def test_refused_cancellations_change_and_send_nothing(app, signed_in, client, shop, worker,
                                                       case):
    """A reason outside Walmart's five, a fully shipped order, a viewer, or a second cancel
    while one is in flight: refused with a message; nothing changes or goes to Walmart."""
    from webapp.extensions import db
    from webapp.models import Cancellation, SyncTask
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order
    from webapp.services.stock.cancelling import cancel_order

    _store_id, seller = shop
    order_id, po, lines = _pick(app)
    if case == "shipped":
        with app.app_context():
            ship_order(order_id, [PackageInput("1Z999AA10123456784", "Standard",
                                               {"1": lines[0][1]}, "UPS")],
                       utcnow(), by=None, actor="test")
    if case == "twice":
        with app.app_context():
            cancel_order(order_id, "SELLER_CANCEL_PRICING_ERROR", by=None, actor="test")
    signed_in("viewer" if case == "viewer" else "operator")
    with app.app_context():
        tasks_before = db.session.scalar(select(func.count(SyncTask.id)))
        cancellations_before = db.session.scalar(select(func.count(Cancellation.id)))
    response = client.post(f"/orders/{order_id}/cancel", data={
        "csrf_token": _token(client, f"/orders/{order_id}"),
        "reason": "CUSTOMER_CHANGED_MIND" if case == "bad reason" else
        "SELLER_CANCEL_OUT_OF_STOCK"})
    expected = {"bad reason": (422, "Not a valid choice"),
                "shipped": (422, "Nothing is left to cancel"),
                "viewer": (403, "Your role does not allow this"),
                "twice": (422, "already on its way to Walmart")}[case]
    assert response.status_code == expected[0] and expected[1] in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count(SyncTask.id))) == tasks_before
        assert db.session.scalar(select(func.count(Cancellation.id))) == cancellations_before


def test_buyer_request_preselects_customer_requested(app, signed_in, client, shop):
    """A buyer's cancellation request pre-selects the customer-requested reason."""
    from webapp.services.orders.importer import import_store

    store_id, seller = shop
    order_id, po, _lines = _pick(app)
    control.intent_to_cancel(seller.sim.conn, seller.seller_id, po)
    with app.app_context():
        import_store(store_id)
    signed_in("operator")
    html = client.get(f"/orders/{order_id}/cancel").text
    assert re.search(r'value="CUSTOMER_REQUESTED_SELLER_TO_CANCEL" selected', html)
    assert "The buyer asked Walmart to cancel this order." in html


def test_cli_cancel_and_stock_set(app, runner, shop, worker):
    """`orders cancel` with a bad reason lists the five; `stock set` tracks and pushes."""
    store_id, seller = shop
    order_id, po, lines = _pick(app)
    bad = runner.invoke(args=["orders", "cancel", po, "--reason", "CUSTOMER_CHANGED_MIND"])
    assert bad.exit_code != 0 and "SELLER_CANCEL_OUT_OF_STOCK" in bad.output
    ok = runner.invoke(args=["orders", "cancel", po, "--reason",
                             "SELLER_CANCEL_ADDRESS_NOT_SERVICEABLE"])
    assert ok.exit_code == 0 and "unit(s) canceled" in ok.output
    from webapp.extensions import db
    from webapp.models import Store
    with app.app_context():
        name = db.session.get(Store, store_id).name
    result = runner.invoke(args=["stock", "set", "--store", name, "NEW-SKU", "7"])
    assert result.exit_code == 0 and "available 7" in result.output
    worker()
    assert any("sku=NEW-SKU" in path and '"amount": 7' in body
               for path, body in _inventory(seller))


def test_twenty_quick_changes_send_few_updates_and_the_last_wins(app, walmart_store, runner):
    """Twenty quick changes of one SKU send far fewer than twenty updates; Walmart ends with
    the last quantity."""
    from webapp.services.stock.levels import set_on_hand

    store_id, seller = walmart_store()
    with app.app_context():
        for quantity in range(1, 21):
            set_on_hand(store_id, "BULK-SKU", quantity * 3, by=None)
    assert runner.invoke(args=["sync", "drain", "--timeout", "30"]).exit_code == 0
    calls = [body for path, body in _inventory(seller) if "BULK-SKU" in path]
    assert 1 <= len(calls) <= 3
    assert '"amount": 60' in calls[-1]
    level = seller.sim.conn.execute("SELECT amount FROM inventory WHERE seller_id = ? AND "
                                    "sku = 'BULK-SKU'", (seller.seller_id,)).fetchone()
    assert level["amount"] == 60


def test_untracked_skus_are_never_pushed(app, shop, worker):
    """Importing orders reserves stock but sends nothing for SKUs nobody has set."""
    _store_id, seller = shop
    assert _inventory(seller) == []
    from webapp.extensions import db
    from webapp.models import SkuStock
    with app.app_context():
        rows = db.session.scalars(select(SkuStock)).all()
        assert rows and all(r.on_hand is None for r in rows)
        assert sum(r.reserved for r in rows) > 0


def test_walmart_cancellations_release_stock(app, shop, worker):
    """An order the buyer canceled at Walmart shows Canceled after import and releases its
    reservation, which a tracked SKU pushes."""
    from webapp.extensions import db
    from webapp.models import SkuStock
    from webapp.services.orders.importer import import_store
    from webapp.services.stock.levels import set_on_hand

    store_id, seller = shop
    order_id, po, lines = _pick(app)
    sku, qty = lines[0]
    with app.app_context():
        set_on_hand(store_id, sku, 100, by=None)
        reserved = db.session.scalar(select(SkuStock.reserved).where(SkuStock.sku == sku))
    control.buyer_cancel(seller.sim.conn, seller.seller_id, po)
    with app.app_context():
        import_store(store_id)
        assert db.session.scalar(select(SkuStock.reserved).where(SkuStock.sku == sku)) == \
            reserved - qty
    worker()
    assert f'"amount": {100 - reserved + qty}' in [b for p, b in _inventory(seller)][-1]


def test_stock_page_sets_and_imports(app, signed_in, client, walmart_store):
    """The Stock page sets one SKU and imports a CSV; bad rows change nothing."""
    import io

    from webapp.extensions import db
    from webapp.models import SkuStock

    store_id, _seller = walmart_store()
    signed_in("operator")
    token = _token(client, "/stock/")
    client.post("/stock/set", data={"csrf_token": token, "store": store_id, "sku": "A-1",
                                    "on_hand": "12"})
    bad = client.post("/stock/import", content_type="multipart/form-data", data={
        "csrf_token": token, "store": store_id,
        "file": (io.BytesIO(b"sku,quantity\nB-1,5\nC-1,-3\n"), "s.csv")}, follow_redirects=True)
    assert "Row 3" in bad.text
    good = client.post("/stock/import", content_type="multipart/form-data", data={
        "csrf_token": token, "store": store_id,
        "file": (io.BytesIO(b"sku,quantity\nB-1,5\nC-1,3\n"), "s.csv")}, follow_redirects=True)
    assert "2 SKU(s) set" in good.text
    with app.app_context():
        levels = {s.sku: s.on_hand for s in db.session.scalars(select(SkuStock))}
    assert levels == {"A-1": 12, "B-1": 5, "C-1": 3}
    page = client.get(f"/stock/?store={store_id}").text
    assert "A-1" in page and "Sending to Walmart…" in page


def test_a_cancellation_walmart_refuses_releases_and_pushes_nothing(app, shop, worker):
    """Oversell guard: while Walmart has not accepted a cancellation its units stay reserved;
    a refused one pushes no higher quantity; 'Fixed in Seller Center' (cancelled there by
    hand) releases them and pushes."""
    from webapp.extensions import db
    from webapp.models import SkuStock, SyncTask
    from webapp.services.stock.cancelling import cancel_order
    from webapp.services.stock.levels import set_on_hand
    from webapp.services.sync.actions import resolve_task

    store_id, seller = shop
    order_id, _po, lines = _pick(app, lines=1)
    sku, qty = lines[0]

    def reserved() -> int:
        with app.app_context():
            return db.session.scalar(select(SkuStock.reserved).where(
                SkuStock.store_id == store_id, SkuStock.sku == sku))

    with app.app_context():
        set_on_hand(store_id, sku, 50, by=None)
    worker()
    held, pushes = reserved(), len(_inventory(seller))
    control.set_faults(seller.sim.conn, "cancel", next={"reject": 1})
    with app.app_context():
        task_id = cancel_order(order_id, "SELLER_CANCEL_OUT_OF_STOCK", by=None,
                               actor="test").task_id
    assert reserved() == held  # not released before Walmart answers
    worker()
    with app.app_context():
        assert db.session.get(SyncTask, task_id).state == "error"
    assert reserved() == held and len(_inventory(seller)) == pushes
    with app.app_context():
        resolve_task(task_id, "Cancelled in Seller Center by hand", by=None)
    worker()
    assert reserved() == held - qty
    assert f'"amount": {50 - (held - qty)}' in _inventory(seller)[-1][1]
