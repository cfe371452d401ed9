"""The simulator answers the reads a reconciliation makes as Walmart does, and changes
orders, returns and stock behind Orderdeck's back as Seller Center would."""

from __future__ import annotations

from simulator import control


def test_inventory_reads_have_their_own_limit_apart_from_updates(sim):
    seller = sim.seller()
    client = seller.client()
    client.update_inventory("MUG-1", {"sku": "MUG-1", "quantity": {"unit": "EACH",
                                                                    "amount": 5}})
    control.set_rate_scale(sim.conn, 0.01, seller.seller_id)  # 2 a minute each
    try:
        assert client.inventory_level("MUG-1").amount == 5
        assert client.inventory_level("MUG-1").amount == 5
        from webapp.walmart import RateLimited
        try:
            client.inventory_level("MUG-1")
            raise AssertionError("a third read went through a bucket of two")
        except RateLimited:
            pass
        # Reads used up their bucket; updates still have theirs.
        assert client.update_inventory("MUG-1", {"sku": "MUG-1", "quantity": {
            "unit": "EACH", "amount": 6}}).amount == 6
    finally:
        control.set_rate_scale(sim.conn, 1000, seller.seller_id)
    assert client.inventory_level("NEVER-PUSHED") is None  # Walmart's 404: no inventory
    control.seller_center_stock(sim.conn, seller.seller_id, "MUG-1", 2)
    assert client.inventory_level("MUG-1").amount == 2


def test_quiet_changes_leave_searches_alone_and_show_on_the_order(sim):
    from datetime import UTC, datetime, timedelta

    seller = sim.seller(seed_orders=2, seed=7)
    client = seller.client()
    [first, second] = sorted(o.purchase_order_id for o in client.orders(
        createdStartDate=datetime.now(UTC) - timedelta(days=30)).orders)
    before = control.order_state(sim.conn, seller.seller_id, first)
    since = datetime.now(UTC) + timedelta(seconds=2)
    control.seller_center_acknowledge(sim.conn, seller.seller_id, first, quiet=True)
    control.seller_center_cancel(sim.conn, seller.seller_id, second, quiet=True)
    import time
    time.sleep(2.1)
    assert client.orders(lastModifiedStartDate=since).orders == ()
    assert all(line.quantity_in("Created") == 0 for line in client.get_order(first).lines)
    assert all(line.quantity_in("Cancelled") == line.quantity
               for line in client.get_order(second).lines)
    assert control.order_state(sim.conn, seller.seller_id, first)["orderDate"] == \
        before["orderDate"]


def test_lost_update_and_seller_center_refund(sim):
    from tests.factories import make_walmart_order

    seller = sim.seller()
    po = make_walmart_order(seller, (2,))
    control.seller_center_ship(sim.conn, seller.seller_id, po, "1ZABC123")
    control.deliver(sim.conn, seller.seller_id, po)
    rma = control.open_return(sim.conn, seller.seller_id, po, seed=1)["rma"]
    control.seller_center_refund(sim.conn, seller.seller_id, rma, {1: 1})
    [ret] = seller.client().returns(returnOrderId=rma).returns
    assert [x.refunded_quantity for x in ret.lines] == [1]
    po2 = make_walmart_order(seller, (1,))
    control.seller_center_ship(sim.conn, seller.seller_id, po2, "1ZDEF456")
    assert control.lose_update(sim.conn, seller.seller_id, po2) == 1
    [line] = seller.client().get_order(po2).lines
    assert [s.status for s in line.statuses] == ["Created"]
