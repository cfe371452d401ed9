"""What goes on the wire as the real Walmart reads it: headers and query strings
(walmart-api.md §11)."""

from __future__ import annotations

import json
import uuid

import requests


def _business_writes(seller) -> list[dict]:
    """Every POST and PUT the simulator received from the seller, but the token call."""
    return [r for r in seller.requests()
            if r["method"] in ("POST", "PUT") and r["endpoint"] != "token"]


def test_simulator_fails_an_acknowledge_without_json_content_type(sim):
    """As Walmart's gateway: acknowledge without Content-Type: application/json → 500
    SYSTEM_ERROR.GMP_GATEWAY_API with Walmart's error body; with it → 200."""
    seller = sim.seller(seed_orders=1, seed=5)
    client = seller.client()
    [order] = client.released_orders().orders
    url = f"{sim.url}/v3/orders/{order.purchase_order_id}/acknowledge"
    headers = {"WM_SEC.ACCESS_TOKEN": client._token(), "WM_SVC.NAME": "Walmart Marketplace",
               "WM_QOS.CORRELATION_ID": str(uuid.uuid4()), "Accept": "application/json"}
    bare = requests.post(url, headers=headers, timeout=10)
    assert bare.status_code == 500
    [error] = bare.json()["errors"]["error"]
    assert (error["code"], error["category"]) == ("SYSTEM_ERROR.GMP_GATEWAY_API", "SYSTEM")
    typed = requests.post(url, headers={**headers, "Content-Type": "application/json"},
                          timeout=10)
    assert typed.status_code == 200


def test_acknowledge_carries_json_content_type(sim):
    """The client's acknowledge (no body) sends Content-Type: application/json and succeeds."""
    seller = sim.seller(seed_orders=1, seed=5)
    client = seller.client()
    [order] = client.released_orders().orders
    acked = client.acknowledge(order.purchase_order_id)
    assert {s.status for x in acked.lines for s in x.statuses} == {"Acknowledged"}
    [call] = [r for r in seller.requests() if r["endpoint"] == "acknowledge"]
    assert call["status"] == 200 and call["body"] is None
    assert json.loads(call["headers"])["Content-Type"] == "application/json"


def test_every_write_of_a_real_flow_carries_json_content_type(app, returned, worker,
                                                              walmart_order):
    """Acknowledge, ship, cancel, a return's refund and a stock push, made through Orderdeck:
    every POST/PUT Walmart received carried Content-Type: application/json and succeeded."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Return
    from webapp.services.returns.refunding import refund_return
    from webapp.services.stock.cancelling import cancel_order
    from webapp.services.stock.levels import set_on_hand

    store_id, seller, _order_id, rma = returned
    other_id, _po = walmart_order((store_id, seller), [("MUG-CER-12", 1)])
    with app.app_context():
        cancel_order(other_id, "SELLER_CANCEL_OUT_OF_STOCK", by=None, actor="test")
        ret = db.session.scalar(select(Return).where(Return.rma == rma))
        refund_return(ret.id, {1: 2}, by=None, actor="test")
        set_on_hand(store_id, "MUG-CER-12", 30, by=None)
    worker()
    writes = _business_writes(seller)
    assert {r["endpoint"] for r in writes} == {"acknowledge", "shipping", "cancel",
                                                "return_refund", "inventory"}
    assert {r["status"] for r in writes} == {200}
    assert {json.loads(r["headers"]).get("Content-Type") for r in writes} == {
        "application/json"}



SKU = "MUG 12+OZ"


def test_inventory_sku_with_a_space_and_a_plus_is_sent_exactly(sim):
    """PUT /v3/inventory for `MUG 12+OZ` goes as sku=MUG%2012%2BOZ, and Walmart (reading `+`
    as a plus) stores that very SKU."""
    from webapp.walmart import payloads

    seller = sim.seller()
    level = seller.client().update_inventory(SKU, payloads.inventory(SKU, 4))
    assert (level.sku, level.amount) == (SKU, 4)
    stored = sim.conn.execute("SELECT sku, amount FROM inventory WHERE seller_id = ?",
                              (seller.seller_id,)).fetchall()
    assert [tuple(row) for row in stored] == [(SKU, 4)]
    [call] = [r for r in seller.requests() if r["endpoint"] == "inventory"]
    assert call["path"] == "/v3/inventory?sku=MUG%2012%2BOZ"


def test_order_search_by_a_sku_with_a_space_and_a_plus(sim):
    """Searching orders for `MUG 12+OZ` finds exactly the orders with that SKU, on every page
    (not `MUG 12 OZ`, which a `+` for the space would mean); spaces go as %20."""
    from simulator import control

    seller = sim.seller(seed_orders=5, seed=2)
    pos = [r["po"] for r in sim.conn.execute(
        "SELECT po FROM orders WHERE seller_id = ? ORDER BY order_ms, po", (seller.seller_id,))]

    def give(po: str, sku: str) -> None:
        def change(order, _now):
            order["lines"][0]["sku"] = sku
        control.update_order(sim.conn, seller.seller_id, po, change)

    for po in (pos[0], pos[2], pos[3]):
        give(po, SKU)
    give(pos[1], "MUG 12 OZ")
    pages = list(seller.client().iter_pages(sku=SKU, limit=2))
    assert [sorted(o.purchase_order_id for o in p.orders) for p in pages] == [
        sorted([pos[0], pos[2]]), [pos[3]]]
    calls = [r for r in seller.requests() if r["endpoint"] == "orders"]
    assert [r["status"] for r in calls] == [200, 200]
    assert all("sku=MUG%2012%2BOZ" in r["path"] for r in calls)
