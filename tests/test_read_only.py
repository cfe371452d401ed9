"""Read-only stores: imported and shown, nothing sent to Walmart; a confirmed switch back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from simulator import control
from tests.conftest import csrf_from


def _sent(seller) -> list[tuple[str, str]]:
    """Every call the seller's store made to Walmart that is not a read."""
    return [(r["method"], r["endpoint"]) for r in seller.requests()
            if r["method"] in ("POST", "PUT") and r["endpoint"] != "token"]


def _read_only_shop(app, walmart_store, orders: int = 6):
    from webapp.services.orders.importer import import_store

    store_id, seller = walmart_store(orders=orders, seed=41, read_only=True)
    with app.app_context():
        import_store(store_id)
    return store_id, seller


def test_read_only_store_imports_everything_and_sends_nothing(app, walmart_store, worker):
    """A read-only store's import stores every order, queues no acknowledgement, leaves
    nothing in flight, and Walmart receives no POST or PUT."""
    from webapp.extensions import db
    from webapp.models import Order, SyncTask

    store_id, seller = _read_only_shop(app, walmart_store)
    worker()
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 6
        assert db.session.scalar(select(func.count(SyncTask.id))) == 0
        assert not db.session.scalar(select(func.count(Order.id)).where(Order.in_flight))
        assert all("Acknowledging" not in (o.status_details or "")
                   for o in db.session.scalars(select(Order)).unique())
    assert _sent(seller) == []


def test_every_sending_action_is_refused_for_a_read_only_store(app, shop, worker):
    """Ship, cancel, stock set and stock import are refused with the read-only message, and
    nothing changes."""
    from webapp.extensions import db
    from webapp.models import Order, Shipment, SkuStock, Store
    from webapp.models.base import utcnow
    from webapp.services.errors import StoreReadOnly
    from webapp.services.shipping.ship import PackageInput, ship_order
    from webapp.services.stock import levels as stock
    from webapp.services.stock.cancelling import cancel_order

    store_id, seller = shop
    with app.app_context():
        db.session.get(Store, store_id).read_only = True
        db.session.commit()
        order = db.session.scalars(select(Order).order_by(Order.id)).first()
        line = order.lines[0]
        calls = [
            lambda: ship_order(order.id, [PackageInput("1Z999AA10123456784", "Standard",
                                                       {line.line_number: 1}, "UPS")],
                               utcnow(), by=None),
            lambda: cancel_order(order.id, "SELLER_CANCEL_OUT_OF_STOCK", by=None),
            lambda: stock.set_on_hand(store_id, line.sku, 5, by=None),
            lambda: stock.import_csv(store_id, f"{line.sku},5\n", by=None),
        ]
        for call in calls:
            with pytest.raises(StoreReadOnly, match="is read-only"):
                call()
            db.session.rollback()
        assert db.session.scalar(select(func.count(Shipment.id))) == 0
        assert db.session.get(Order, order.id).lines[0].canceled_qty == 0
        assert db.session.scalar(select(func.count(SkuStock.id)).where(
            SkuStock.on_hand.is_not(None))) == 0
    before = len(_sent(seller))
    worker()
    assert len(_sent(seller)) == before


def test_refund_and_retry_are_refused_for_a_read_only_store(app, returned):
    """A refund, and a retry of a failed update, are refused once the store is read-only."""
    from webapp.extensions import db
    from webapp.models import Refund, Return, Store, SyncTask
    from webapp.services.errors import StoreReadOnly
    from webapp.services.returns.refunding import refund_return
    from webapp.services.sync.actions import retry_task

    store_id, _seller, _order_id, rma = returned
    with app.app_context():
        task = db.session.scalars(select(SyncTask).order_by(SyncTask.id)).first()
        task.state, task.last_error_message = "error", "refused"
        db.session.get(Store, store_id).read_only = True
        db.session.commit()
        ret = db.session.scalar(select(Return).where(Return.rma == rma))
        with pytest.raises(StoreReadOnly):
            refund_return(ret.id, {ret.lines[0].number: 1}, by=None)
        db.session.rollback()
        with pytest.raises(StoreReadOnly):
            retry_task(task.id, by=None)
        db.session.rollback()
        assert db.session.scalar(select(func.count(Refund.id))) == 0
        assert db.session.get(SyncTask, task.id).state == "error"


def test_pending_updates_wait_while_read_only_and_go_after_the_switch(app, shop, worker,
                                                                      walmart_order):
    """A shipment pending when the store turns read-only is not sent (parked, uncounted);
    switching back to read-write sends it."""
    from tests.factories import make_shipment
    from webapp.extensions import db
    from webapp.models import Store, SyncTask
    from webapp.services.stores.mode import set_read_write

    store_id, seller = shop
    order_id, _po = walmart_order(shop)
    with app.app_context():
        make_shipment(order_id)
        db.session.get(Store, store_id).read_only = True
        db.session.commit()
    worker()
    assert ("POST", "shipping") not in _sent(seller)
    with app.app_context():
        task = db.session.scalar(select(SyncTask).where(SyncTask.kind == "ship"))
        assert (task.state, task.attempts, task.last_error_code) == ("pending", 0, "READ_ONLY")
        set_read_write(db.session.get(Store, store_id), by=None)
    worker()
    assert ("POST", "shipping") in _sent(seller)
    with app.app_context():
        assert db.session.scalar(select(SyncTask).where(SyncTask.kind == "ship")).state == \
            "synced"


def test_switch_to_read_write_acknowledges_only_what_walmart_still_has_created(
        app, walmart_store, worker):
    """Switching to read-write reads each waiting order back: orders another tool already
    acknowledged are settled without a call; the others are acknowledged; no stock is pushed."""
    from webapp.extensions import db
    from webapp.models import Order, Store, SyncTask
    from webapp.services.stores.mode import set_read_write, waiting_orders

    store_id, seller = _read_only_shop(app, walmart_store, orders=4)
    with app.app_context():
        pos = [o.purchase_order_id for o in db.session.scalars(
            select(Order).order_by(Order.id)).unique()]
    other_tool = seller.client()
    for po in pos[:2]:
        other_tool.acknowledge(po)
    before = len(seller.requests())
    with app.app_context():
        store = db.session.get(Store, store_id)
        assert len(waiting_orders(store)) == 4
        assert set_read_write(store, by=None) == 4
    worker()
    acknowledged = [r["path"] for r in seller.requests()[before:]
                    if r["endpoint"] == "acknowledge"]
    assert sorted(acknowledged) == sorted(f"/v3/orders/{po}/acknowledge" for po in pos[2:])
    assert not [r for r in seller.requests()[before:] if r["endpoint"] == "inventory"]
    with app.app_context():
        tasks = {t.target: t for t in db.session.scalars(select(SyncTask))}
        assert [t.state for t in tasks.values()] == ["synced"] * 4
        for po in pos[:2]:  # the other tool's: settled by the read-back alone
            assert tasks[po].note == "Synced by read-back: nothing was left to acknowledge " \
                "at Walmart."
        for po in pos[2:]:
            assert tasks[po].note.startswith("Queued when the store was switched to read-write")
        for po in pos:
            state = control.order_state(seller.sim.conn, seller.seller_id, po)
            assert {s["status"] for x in state["orderLines"]["orderLine"]
                    for s in x["orderLineStatuses"]["orderLineStatus"]} == {"Acknowledged"}


def test_stores_and_order_pages_say_read_only_and_offer_no_actions(
        app, walmart_store, signed_in, client):
    """The Stores page marks the store read-only; its order page says so and shows no Ship or
    Cancel; a ship POST is refused with the read-only words."""
    from webapp.extensions import db
    from webapp.models import Order

    store_id, _seller = _read_only_shop(app, walmart_store, orders=2)
    signed_in("admin")
    page = client.get("/stores/").text
    assert "Read-only</span>" in page and "Switch to read-write…" in page
    assert "Read-only</span>" in client.get("/").text  # Home's imports say so too
    with app.app_context():
        order_id = db.session.scalars(select(Order).order_by(Order.id)).first().id
    html = client.get(f"/orders/{order_id}").text
    assert "Read-only store." in html
    assert "Add tracking number" not in html and ">Cancel</button>" not in html
    response = client.post(f"/orders/{order_id}/cancel", data={
        "csrf_token": csrf_from(html), "reason": "SELLER_CANCEL_OUT_OF_STOCK"})
    assert response.status_code == 422
    assert "is read-only" in response.text


def test_unticking_read_only_asks_for_confirmation_first(app, walmart_store, signed_in,
                                                         client, worker):
    """Saving the store form with Read-only unticked keeps the store read-only and leads to
    the confirmation page; confirming switches it and starts the read-backs."""
    from webapp.extensions import db
    from webapp.models import Store, SyncTask

    store_id, seller = _read_only_shop(app, walmart_store, orders=2)
    signed_in("admin")
    with app.app_context():
        store = db.session.get(Store, store_id)
        fields = {"name": store.name, "environment": "simulator", "base_url": store.base_url,
                  "client_id": store.client_id, "import_enabled": "y"}
    page = client.get(f"/stores/{store_id}/edit")
    response = client.post(f"/stores/{store_id}/edit",
                           data={**fields, "csrf_token": csrf_from(page.text)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/stores/{store_id}/read-write")
    with app.app_context():
        assert db.session.get(Store, store_id).read_only
    confirm = client.get(f"/stores/{store_id}/read-write")
    assert "2 order(s) imported while read-only" in confirm.text
    response = client.post(f"/stores/{store_id}/read-write",
                           data={"csrf_token": csrf_from(confirm.text)})
    assert response.status_code == 302
    with app.app_context():
        assert not db.session.get(Store, store_id).read_only
        assert db.session.scalar(select(func.count(SyncTask.id))) == 2
    worker()
    assert [e for _m, e in _sent(seller)] == ["acknowledge", "acknowledge"]


def test_cli_adds_read_only_and_switches_with_confirmation(app, runner, sim):
    """`stores add --read-only`, `stores set --read-write` (asks; no means no), and
    `stores set --read-only`."""
    from webapp.extensions import db
    from webapp.models import Store

    app.config["SIMULATOR_URL"] = sim.url
    result = runner.invoke(args=["stores", "add", "Trial", "--environment", "simulator",
                                 "--client-id", "cid", "--client-secret-stdin", "--read-only"],
                           input="secret\n")
    assert result.exit_code == 0, result.output
    assert "read-only: nothing is sent to Walmart" in result.output
    result = runner.invoke(args=["stores", "set", "Trial", "--read-write"], input="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output
    with app.app_context():
        assert db.session.scalar(select(Store).where(Store.name == "Trial")).read_only
    result = runner.invoke(args=["stores", "set", "Trial", "--read-write"], input="y\n")
    assert result.exit_code == 0 and "is read-write" in result.output
    result = runner.invoke(args=["stores", "list"])
    assert "read-only" not in result.output
    result = runner.invoke(args=["stores", "set", "Trial", "--read-only"])
    assert result.exit_code == 0 and "is read-only" in result.output
    with app.app_context():
        assert db.session.scalar(select(Store).where(Store.name == "Trial")).read_only
