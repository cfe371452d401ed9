"""Shipments made outside Orderdeck (Seller Center) are read from Walmart on import: shown with
their carrier, tracking number and lines — and never a second time, nor for Orderdeck's own."""

from __future__ import annotations

from sqlalchemy import select

from simulator import control


def _shipments(app, order_id: int) -> list[tuple[str, str, list[tuple[str, int]], bool]]:
    """(carrier, tracking number, [(line, quantity)], sent from here) per package."""
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.orders.detail import shipments_of

    with app.app_context():
        return [(p.carrier_name, p.tracking_number,
                 [(x.order_line.line_number, x.quantity) for x in p.lines], s.task is not None)
                for s in shipments_of(db.session.get(Order, order_id)) for p in s.packages]


def _import(app, store_id: int) -> None:
    from webapp.services.orders.importer import import_store

    with app.app_context():
        import_store(store_id)


def _ship_here(app, order_id: int, tracking: str, lines: dict[str, int]) -> None:
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order

    with app.app_context():
        ship_order(order_id, [PackageInput(tracking, "Standard", lines, "UPS")], utcnow(),
                   by=None, actor="test")


def test_a_seller_center_shipment_is_recorded_once(app, shop, walmart_order, client, signed_in):
    """Shipped in Seller Center after the first import: the next import shows the shipment
    (Walmart's carrier, tracking number and lines) and the order Shipped; more imports add
    nothing."""
    from webapp.extensions import db
    from webapp.models import Order

    store_id, seller = shop
    order_id, po = walmart_order(shop, (1, 2))
    control.seller_center_ship(seller.sim.conn, seller.seller_id, po, "9400111899223100012345",
                               carrier="USPS")
    _import(app, store_id)
    shipped = _shipments(app, order_id)
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order.status == "Shipped"
        assert shipped == [("USPS", "9400111899223100012345", [("1", 1), ("2", 2)], False)]
    _import(app, store_id)
    _import(app, store_id)
    assert _shipments(app, order_id) == shipped
    signed_in("viewer")
    html = client.get(f"/orders/{order_id}").text
    assert "9400111899223100012345" in html and "No shipment yet" not in html


def test_orderdecks_own_shipments_are_not_read_back_as_walmarts(app, shop, walmart_order, worker):
    """A shipment sent from here and synced, then a tracking correction still on its way
    (Walmart still shows the old number): imports record nothing more."""
    from webapp.services.shipping.tracking_correction import correct_tracking

    store_id, _seller = shop
    order_id, _po = walmart_order(shop, (2,))
    quantity = 2
    _ship_here(app, order_id, "1Z999AA10123456784", {"1": quantity})
    worker()
    _import(app, store_id)
    assert _shipments(app, order_id) == [("UPS", "1Z999AA10123456784", [("1", quantity)], True)]
    with app.app_context():
        correct_tracking(_package_id(order_id), "UPS", None, None, "1Z999AA10123456785",
                         by=None)
    _import(app, store_id)  # Walmart has 1Z…784 still; the correction has not been sent
    assert _shipments(app, order_id) == [("UPS", "1Z999AA10123456785", [("1", quantity)], True)]


def _package_id(order_id: int) -> int:
    from webapp.extensions import db
    from webapp.models import Shipment, ShipmentPackage

    return db.session.scalar(select(ShipmentPackage.id).join(Shipment)
                             .where(Shipment.order_id == order_id))


def test_part_shipped_at_walmart_part_here(app, shop, walmart_order, worker):
    """One unit shipped in Seller Center, the other from here: each shipment once, each with
    its own tracking number and quantity."""
    store_id, seller = shop
    order_id, po = walmart_order(shop, (2,))
    control.seller_center_ship(seller.sim.conn, seller.seller_id, po, "1ZSELLERCENTER0001",
                               lines={"1": 1})
    _import(app, store_id)
    assert _shipments(app, order_id) == [("UPS", "1ZSELLERCENTER0001", [("1", 1)], False)]
    _ship_here(app, order_id, "1Z999AA10123456784", {"1": 1})
    worker()
    _import(app, store_id)
    assert sorted(_shipments(app, order_id)) == [
        ("UPS", "1Z999AA10123456784", [("1", 1)], True),
        ("UPS", "1ZSELLERCENTER0001", [("1", 1)], False)]


def test_a_sellers_history_arrives_shipped_with_walmarts_tracking(app, walmart_store):
    """A first import of orders shipped in Seller Center before Orderdeck was connected (the
    simulator's history: shipped on their ship date) records each one's shipment from Walmart,
    every line with its units, in one go per page."""
    from webapp.extensions import db
    from webapp.models import Order

    store_id, seller = walmart_store()
    conn = seller.sim.conn
    control.seed_orders(conn, seller.seller_id, 40, seed=9, days=20, ship_due=True)
    shipped = {row["po"]: row["modified_ms"] == row["esd_ms"] for row in conn.execute(
        "SELECT po, modified_ms, esd_ms FROM orders WHERE seller_id = ? AND open_units = 0",
        (seller.seller_id,))}
    assert 30 < len(shipped) < 40 and all(shipped.values())  # modified when shipped
    _import(app, store_id)
    with app.app_context():
        orders = {o.purchase_order_id: (o.id, o.status, [(x.line_number, x.quantity)
                                                         for x in o.lines])
                  for o in db.session.scalars(select(Order))}
    assert len(orders) == 40
    for po, (order_id, status, lines) in orders.items():
        if po in shipped:
            assert status == "Shipped"
            assert _shipments(app, order_id) == [("UPS", f"1Z{po}", lines, False)]
        else:
            assert _shipments(app, order_id) == []
