"""The demo `make run` sets up: tracked stock, the demo seller's scaled limits (only its own),
and returned orders whose shipments show as Walmart has them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from devserver import demo
from simulator import control

DEMO_ORDERS = 60  # two of them shipped, delivered and returned at Walmart


@pytest.fixture
def demo_seller(sim):
    """The demo seller at the session's simulator (seeded once), and its client secret."""
    return demo.prepare_seller(sim.conn, DEMO_ORDERS)


@pytest.fixture
def walmart_speed(sim):
    """Walmart's real limits for this test, then the fast test scale again."""
    control.set_rate_scale(sim.conn, 1)
    yield
    control.set_rate_scale(sim.conn, 1000)


def _demo_store(app, sim, secret) -> int:
    from webapp.extensions import db
    from webapp.models import Store
    from webapp.walmart.client import forget_tokens

    forget_tokens()
    app.config["SIMULATOR_URL"] = sim.url
    with app.app_context():
        assert demo.prepare_store(sim.url, secret).startswith("created")
        return db.session.scalar(select(Store.id).where(Store.name == demo.DEMO_STORE))


def test_the_demo_store_tracks_stock_with_the_demo_limits(app, sim, demo_seller, worker):
    """Every demo SKU starts tracked (so cancelling and refunding move stock that Walmart is
    told of); the store's own limits are the demo seller's scaled ones; the import reserves
    and the available quantities reach the simulator."""
    from webapp.extensions import db
    from webapp.models import SkuStock, Store
    from webapp.services.orders.importer import import_store

    store_id = _demo_store(app, sim, demo_seller)
    wanted = demo.demo_stock()
    with app.app_context():
        store = db.session.get(Store, store_id)
        assert store.rate_limits == demo.demo_limits()
        assert store.rate_limits["acknowledge"] == 60 * demo.DEMO_RATE_SCALE
        rows = db.session.scalars(select(SkuStock).where(SkuStock.store_id == store_id)).all()
        assert {row.sku: row.on_hand for row in rows} == wanted
        import_store(store_id)
    worker()
    with app.app_context():
        rows = db.session.scalars(select(SkuStock).where(SkuStock.store_id == store_id)).all()
        assert all(row.tracked for row in rows) and sum(row.reserved for row in rows) > 0
        pushed = control.inventory(sim.conn, demo.DEMO_SELLER)
        assert {row.sku: pushed.get((row.sku, "")) for row in rows} == \
            {row.sku: row.available for row in rows}
        # A second start leaves the stock people set alone.
        db.session.get(SkuStock, rows[0].id).on_hand = 3
        db.session.commit()
        assert demo.prepare_store(sim.url, demo_seller).endswith(f"ready on {sim.url}")
        assert db.session.get(SkuStock, rows[0].id).on_hand == 3


def test_only_the_demo_seller_has_scaled_limits(sim, demo_seller, walmart_speed):
    """At Walmart's limits (scale 1) a seller is refused its 61st acknowledgement within a
    minute; the demo seller, scaled ×10, is not: the exception is that seller's alone."""
    from webapp.walmart import RateLimited, WalmartClient

    demo_client = WalmartClient(sim.url, demo.DEMO_CLIENT_ID, demo_seller)
    po = sim.conn.execute("SELECT po FROM orders WHERE seller_id = ? ORDER BY order_ms DESC "
                          "LIMIT 1", (demo.DEMO_SELLER,)).fetchone()["po"]
    for _ in range(70):
        demo_client.acknowledge(po)
    assert demo_client.rate.token_count >= 60 * demo.DEMO_RATE_SCALE - 71

    seller = sim.seller(seed_orders=1)
    client = seller.client()
    other = client.released_orders().orders[0].purchase_order_id
    for _ in range(60):
        client.acknowledge(other)
    with pytest.raises(RateLimited):
        client.acknowledge(other)


def test_the_demo_returns_show_their_shipments(app, sim, demo_seller, worker, client,
                                               signed_in):
    """The demo's returned orders were shipped at Walmart (Seller Center): after the import
    each shows its shipment — carrier, tracking number, lines — not "No shipment yet"."""
    from webapp.extensions import db
    from webapp.models import Order, Return
    from webapp.services.orders.detail import shipments_of
    from webapp.services.orders.importer import import_store
    from webapp.services.returns.importer import import_returns

    store_id = _demo_store(app, sim, demo_seller)
    with app.app_context():
        import_store(store_id)
        assert import_returns(store_id) == DEMO_ORDERS // 30
        returned = db.session.scalars(select(Order).where(
            Order.store_id == store_id, Order.customer_order_id.in_(
                select(Return.customer_order_id).where(Return.store_id == store_id)))
        ).unique().all()
        assert len(returned) == DEMO_ORDERS // 30
        pages = {}
        for order in returned:
            shipments = shipments_of(order)
            assert len(shipments) == 1 and shipments[0].task is None
            packages = shipments[0].packages
            assert [p.carrier for p in packages] == ["UPS"]
            assert packages[0].tracking_number.startswith("1Z")
            assert {x.order_line.line_number: x.quantity for x in packages[0].lines} == \
                {line.line_number: line.shipped_qty for line in order.lines}
            pages[order.id] = packages[0].tracking_number
    signed_in("viewer")
    for order_id, tracking in pages.items():
        html = client.get(f"/orders/{order_id}").text
        assert tracking in html and "At Walmart" in html and "Outside Orderdeck" in html
        assert "No shipment yet" not in html


def test_make_run_subscribes_the_demo_store_to_instant_orders(app, sim, demo_seller, worker,
                                                              live_server):
    """`make run` subscribes the demo store at its own web address: a new order at the
    simulator reaches Orderdeck through its notification (no import pass); run again, it
    keeps the subscription, and renews it when the address moved."""
    from types import SimpleNamespace

    from tests.factories import make_walmart_order
    from tests.receivers import wait_for
    from webapp.extensions import db
    from webapp.models import Order, Store, WalmartEvent

    store_id = _demo_store(app, sim, demo_seller)
    app.config["PUBLIC_URL"] = live_server
    with app.app_context():
        said = demo.subscribe_store()
        assert "receives orders instantly" in said and f"{live_server}/walmart/events/" in said
        store = db.session.get(Store, store_id)
        first = (store.events_subscription_id, store.events_password_encrypted)
        assert store.events_status == "ACTIVE"
        demo.subscribe_store()  # a second run on the same address changes nothing
        store = db.session.get(Store, store_id)
        assert (store.events_subscription_id, store.events_password_encrypted) == first
        db.session.remove()
    po = make_walmart_order(SimpleNamespace(sim=sim, seller_id=demo.DEMO_SELLER), (1,))

    def arrived() -> bool:
        with app.app_context():
            found = db.session.scalar(select(WalmartEvent.id).where(
                WalmartEvent.purchase_order_id == po))
            db.session.remove()
            return found is not None
    assert wait_for(arrived)
    worker()
    with app.app_context():
        assert db.session.scalar(select(Order.id).where(Order.purchase_order_id == po))
        app.config["PUBLIC_URL"] = "http://127.0.0.1:5999"  # the next run's port
        assert "127.0.0.1:5999" in demo.subscribe_store()
        assert db.session.get(Store, store_id).events_url.startswith("http://127.0.0.1:5999/")
        db.session.remove()



def test_the_demo_opens_on_todays_work_not_a_backlog(app, sim, demo_seller, worker):
    """The demo shop shipped what was due (in Seller Center, on each order's ship date): after
    the first import no open order is past its Ship By, the shipped ones were on time, and
    some orders are still to ship."""
    from webapp.extensions import db
    from webapp.models import Order, OrderStatus
    from webapp.models.base import utcnow
    from webapp.services.orders.detail import shipments_of
    from webapp.services.orders.importer import import_store

    store_id = _demo_store(app, sim, demo_seller)
    with app.app_context():
        import_store(store_id)
        orders = db.session.scalars(select(Order).where(Order.store_id == store_id)
                                    ).unique().all()
        assert len(orders) >= DEMO_ORDERS  # (another test may have added one)
        now = utcnow()
        overdue = [o.number for o in orders if o.status == OrderStatus.OPEN and o.ship_by < now]
        assert overdue == []
        shipped = [o for o in orders if o.status in (OrderStatus.SHIPPED,
                                                     OrderStatus.RETURN_REQUESTED)]
        still_open = [o for o in orders if o.status == OrderStatus.OPEN]
        assert len(shipped) >= DEMO_ORDERS // 4 and len(still_open) >= DEMO_ORDERS // 4
        assert all(s.ship_time <= o.ship_by for o in shipped for s in shipments_of(o))
