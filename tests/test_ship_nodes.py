"""Ship nodes: orders keep theirs, stores name a default, stock is kept and pushed per node."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from simulator import control


def _inventory_calls(seller) -> list[tuple[dict, str]]:
    """(query parameters, body) of every inventory update the simulator received."""
    return [({k: v[0] for k, v in parse_qs(urlsplit(r["path"]).query).items()}, r["body"])
            for r in seller.requests() if r["endpoint"] == "inventory" and r["method"] == "PUT"]


def _seeded(app, walmart_store, nodes: list[str], count: int = 12, **store_fields):
    """A store whose seller's orders come from `nodes` in turn, imported; (store_id, seller)."""
    from webapp.services.orders.importer import import_store

    store_id, seller = walmart_store(**store_fields)
    control.seed_orders(seller.sim.conn, seller.seller_id, count, seed=5, ship_nodes=nodes)
    with app.app_context():
        import_store(store_id)
    return store_id, seller


def _open_by_node(app, store_id: int) -> dict[tuple[str, str], int]:
    """Open units of the store's orders per (SKU, stock node), from the orders themselves."""
    from webapp.extensions import db
    from webapp.models import Order, Store
    from webapp.services.stock.ship_nodes import stock_node

    with app.app_context():
        store = db.session.get(Store, store_id)
        totals: dict[tuple[str, str], int] = {}
        for order in db.session.scalars(select(Order).where(Order.store_id == store_id)).unique():
            for line in order.lines:
                key = (line.sku, stock_node(store, order.ship_node))
                totals[key] = totals.get(key, 0) + line.open_qty
        return {k: v for k, v in totals.items() if v}


def _reserved(app, store_id: int) -> dict[tuple[str, str], int]:
    from webapp.extensions import db
    from webapp.models import SkuStock

    with app.app_context():
        return {(s.sku, s.ship_node): s.reserved for s in db.session.scalars(
            select(SkuStock).where(SkuStock.store_id == store_id)) if s.reserved}


def test_simulator_keeps_inventory_per_ship_node(sim):
    """PUT /v3/inventory at two ship nodes keeps both quantities; GET reads each node, and a
    call naming no node reads and writes the seller's default node."""
    from webapp.walmart import payloads

    seller = sim.seller()
    control.set_default_node(sim.conn, seller.seller_id, "WH-A")
    client = seller.client()
    client.update_inventory("MUG-CER-12", payloads.inventory("MUG-CER-12", 5), ship_node="WH-A")
    client.update_inventory("MUG-CER-12", payloads.inventory("MUG-CER-12", 9), ship_node="WH-B")
    assert control.inventory(sim.conn, seller.seller_id) == {
        ("MUG-CER-12", "WH-A"): 5, ("MUG-CER-12", "WH-B"): 9}

    def read(**node):
        return client._call("GET", "/v3/inventory", params={"sku": "MUG-CER-12", **node})

    assert read(shipNode="WH-B")["quantity"]["amount"] == 9
    assert read()["quantity"]["amount"] == 5  # the default node
    client.update_inventory("MUG-CER-12", payloads.inventory("MUG-CER-12", 2))
    assert read(shipNode="WH-A")["quantity"]["amount"] == 2


def test_simulator_orders_name_their_ship_node_only_when_seeded_with_nodes(sim):
    """Orders seeded with ship nodes carry shipNode {type, name, id}, the nodes in turn (""
    = no id); others carry only the type. The nodes leave the seed's orders otherwise alike."""
    from simulator import generator

    plain = generator.make_orders(3, 6, 1_800_000_000_000)
    noded = generator.make_orders(3, 6, 1_800_000_000_000, ship_nodes=["N1", "", "N2"])
    assert [o.get("shipNode", {}).get("id") for o in noded] == ["N1", None, "N2"] * 2
    assert [{k: v for k, v in o.items() if k != "shipNode"} for o in noded] == plain
    seller = sim.seller()
    control.seed_orders(sim.conn, seller.seller_id, 2, seed=3, ship_nodes=["N1"])
    other = sim.seller(seed_orders=2, seed=3)
    for who, expected in ((seller, {"type": "SellerFulfilled", "name": "Warehouse N1",
                                    "id": "N1"}),
                          (other, {"type": "SellerFulfilled"})):
        po = sim.conn.execute("SELECT po FROM orders WHERE seller_id = ? LIMIT 1",
                              (who.seller_id,)).fetchone()["po"]
        assert control.order_state(sim.conn, who.seller_id, po)["shipNode"] == expected


@pytest.mark.parametrize("path", ["bulk", "one by one"])
def test_orders_keep_their_ship_node_and_reserve_there(app, walmart_store, path):
    """Both import paths store each order's ship node id and reserve its open units at that
    node ("" for the store's default node or none named); a later read naming no node keeps
    the stored one."""
    from webapp.extensions import db
    from webapp.models import Order, Store
    from webapp.services.orders.storing import upsert, upsert_page
    from webapp.walmart.schema import parse_order

    store_id, seller = walmart_store(default_ship_node="N1")
    control.seed_orders(seller.sim.conn, seller.seller_id, 9, seed=5,
                        ship_nodes=["N1", "N2", ""])
    pos = [r["po"] for r in seller.sim.conn.execute(
        "SELECT po FROM orders WHERE seller_id = ? ORDER BY order_ms", (seller.seller_id,))]
    docs = [control.order_state(seller.sim.conn, seller.seller_id, po) for po in pos]
    with app.app_context():
        store = db.session.get(Store, store_id)
        if path == "bulk":
            upsert_page(store, [parse_order(doc) for doc in docs])
        else:
            for doc in docs:
                upsert(store, parse_order(doc))
        db.session.commit()
        nodes = {o.purchase_order_id: o.ship_node for o in db.session.scalars(
            select(Order).where(Order.store_id == store_id)).unique()}
    assert nodes == {po: node for po, node in zip(pos, ["N1", "N2", None] * 3, strict=True)}
    expected = _open_by_node(app, store_id)
    assert {node for _sku, node in expected} == {"", "N2"}
    assert _reserved(app, store_id) == expected
    with app.app_context():  # Walmart names no node on a later read: the stored one stays
        doc = dict(docs[1])
        doc.pop("shipNode")
        upsert(db.session.get(Store, store_id), parse_order(doc))
        db.session.commit()
        assert db.session.scalar(select(Order.ship_node).where(
            Order.purchase_order_id == pos[1])) == "N2"
    assert _reserved(app, store_id) == expected


def test_the_ship_nodes_a_store_knows(app, walmart_store):
    """A store knows its default node first, then every node its orders named (once each)."""
    from webapp.extensions import db
    from webapp.models import Store
    from webapp.services.stock.ship_nodes import known_nodes

    store_id, _seller = _seeded(app, walmart_store, ["N3", "N2", "", "N3"], count=8,
                                default_ship_node="N9")
    with app.app_context():
        store = db.session.get(Store, store_id)
        assert known_nodes(store) == ["N9", "N2", "N3"]
        store.default_ship_node = None
        assert known_nodes(store) == ["N2", "N3"]


def test_cancel_and_ship_release_at_the_orders_node(app, walmart_store, worker):
    """Cancelling (once Walmart accepted it) or shipping an order from a non-default node
    changes that node's stock row, not the default row."""
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order
    from webapp.services.stock.cancelling import cancel_order

    store_id, _seller = _seeded(app, walmart_store, ["N1", "N2"], default_ship_node="N1")
    with app.app_context():
        first, second = [o for o in db.session.scalars(select(Order).where(
            Order.ship_node == "N2").order_by(Order.id)).unique() if not o.intent_to_cancel][:2]
        first_id, second_id = first.id, second.id
    before = _reserved(app, store_id)
    with app.app_context():
        cancel_order(first_id, "SELLER_CANCEL_OUT_OF_STOCK", by=None, actor="test")
        order = db.session.get(Order, second_id)
        ship_order(second_id, [PackageInput("1Z999AA10123456784", "Standard", {
            x.line_number: x.quantity for x in order.lines}, "UPS")], utcnow(), by=None,
            actor="test")
    worker()  # the cancellation reaches Walmart: only then are its units released
    assert _reserved(app, store_id) == _open_by_node(app, store_id) != before


def test_stores_default_ship_node_from_the_form(app, signed_in, auth):
    """An admin names the default ship node on the store form; an id that is not a short token
    is refused with a message and nothing changes; an empty field clears it."""
    from webapp.extensions import db
    from webapp.models import Store

    signed_in("admin")
    data = {"name": "Nodes", "environment": "sandbox", "base_url": "",
            "client_id": "abc-client", "client_secret": "s3cret-value-xyz",
            "import_enabled": "y", "default_ship_node": "79897837271126017"}
    assert auth.client.post("/stores/new", data={
        **data, "csrf_token": auth.csrf("/stores/new")}).status_code == 302
    with app.app_context():
        store_id = db.session.scalar(select(Store.id).where(Store.name == "Nodes"))
    edit = f"/stores/{store_id}/edit"
    assert 'value="79897837271126017"' in auth.client.get(edit).text
    bad = auth.client.post(edit, data={**data, "client_secret": "", "name": "Renamed",
                                       "default_ship_node": "north warehouse!",
                                       "csrf_token": auth.csrf(edit)})
    assert bad.status_code == 422
    assert "A ship node id is letters, digits, &#39;-&#39; and &#39;_&#39;" in bad.text
    with app.app_context():
        store = db.session.get(Store, store_id)
        assert (store.name, store.default_ship_node) == ("Nodes", "79897837271126017")
    assert auth.client.post(edit, data={**data, "client_secret": "", "default_ship_node": " ",
                                        "csrf_token": auth.csrf(edit)}).status_code == 302
    with app.app_context():
        assert db.session.get(Store, store_id).default_ship_node is None


def test_stores_set_ship_node_from_the_cli(app, runner):
    """`stores set NAME --ship-node ID` names the default node, `--ship-node ""` clears it,
    and a bad id is refused with a message, leaving it unchanged."""
    from tests.factories import make_store
    from webapp.extensions import db
    from webapp.models import Store

    with app.app_context():
        store = make_store(name="Cli shop")
    ok = runner.invoke(args=["stores", "set", "Cli shop", "--ship-node", "WH_2-b"])
    assert ok.exit_code == 0 and "default ship node WH_2-b" in ok.output
    bad = runner.invoke(args=["stores", "set", "Cli shop", "--ship-node", "x" * 41])
    assert bad.exit_code == 1 and "at most 40 characters" in bad.output
    nothing = runner.invoke(args=["stores", "set", "Cli shop"])
    assert nothing.exit_code == 1 and "Nothing to set" in nothing.output
    with app.app_context():
        assert db.session.get(Store, store.id).default_ship_node == "WH_2-b"
    cleared = runner.invoke(args=["stores", "set", "Cli shop", "--ship-node", ""])
    assert cleared.exit_code == 0
    with app.app_context():
        assert db.session.get(Store, store.id).default_ship_node is None


def test_pushes_name_the_ship_node_only_when_the_store_knows_several(app, walmart_store,
                                                                     runner):
    """With one known node, stock goes to Walmart without shipNode (its default node); once the
    store knows two, each node's quantity is sent with its shipNode (the default row with the
    default node's id) and Walmart holds both."""
    from webapp.services.stock.levels import set_on_hand

    store_id, seller = _seeded(app, walmart_store, ["N1"], count=2, default_ship_node="N1")
    with app.app_context():
        set_on_hand(store_id, "SOLO-1", 4, by=None)
    assert runner.invoke(args=["sync", "drain", "--timeout", "30"]).exit_code == 0
    assert [(q, b) for q, b in _inventory_calls(seller)] == [
        ({"sku": "SOLO-1"}, '{"sku": "SOLO-1", "quantity": {"unit": "EACH", "amount": 4}}')]
    control.seed_orders(seller.sim.conn, seller.seller_id, 2, seed=6, ship_nodes=["N2"])
    with app.app_context():
        from webapp.services.orders.importer import import_store
        import_store(store_id)
        set_on_hand(store_id, "TWO-1", 7, by=None)
        set_on_hand(store_id, "TWO-1", 3, by=None, node="N2")
    assert runner.invoke(args=["sync", "drain", "--timeout", "30"]).exit_code == 0
    sent = {q.get("shipNode"): b for q, b in _inventory_calls(seller) if q["sku"] == "TWO-1"}
    assert set(sent) == {"N1", "N2"} and '"amount": 7' in sent["N1"]
    levels = control.inventory(seller.sim.conn, seller.seller_id)
    assert (levels[("TWO-1", "N1")], levels[("TWO-1", "N2")]) == (7, 3)


def test_pushes_at_two_nodes_of_one_sku_do_not_wait_for_each_other(app, walmart_store):
    """A push waiting at one node neither absorbs nor holds back the same SKU's push at
    another node; a second change at the same node is absorbed by the waiting push."""
    from webapp.extensions import db
    from webapp.models import SyncTask
    from webapp.services.stock.levels import set_on_hand, task_node
    from webapp.services.sync.engine import _earlier_pending

    store_id, _seller = _seeded(app, walmart_store, ["N1", "N2"], count=4,
                                default_ship_node="N1")
    with app.app_context():
        set_on_hand(store_id, "PAIR-1", 4, by=None)
        set_on_hand(store_id, "PAIR-1", 5, by=None, node="N2")
        set_on_hand(store_id, "PAIR-1", 6, by=None, node="N2")
        tasks = db.session.scalars(select(SyncTask).where(SyncTask.target == "PAIR-1")
                                   .order_by(SyncTask.id)).all()
        assert [task_node(t) for t in tasks] == ["", "N2"]
        assert _earlier_pending(tasks[1]) is None
        later = SyncTask(store_id=store_id, kind="inventory", target="PAIR-1",
                         payload={"shipNode": "N2"})
        db.session.add(later)
        db.session.flush()
        assert _earlier_pending(later).id == tasks[1].id
        db.session.rollback()


def test_setting_stock_at_a_node_the_store_does_not_know_is_refused(app, walmart_store,
                                                                    runner):
    """Stock set at a node that is neither the store's default nor on its orders (CLI or CSV)
    is refused with a message, and nothing changes."""
    from webapp.extensions import db
    from webapp.models import SkuStock, Store

    store_id, _seller = _seeded(app, walmart_store, ["N1", "N2"], count=4,
                                default_ship_node="N1")
    with app.app_context():
        name = db.session.get(Store, store_id).name
    result = runner.invoke(args=["stock", "set", "--store", name, "--ship-node", "N7",
                                 "X-1", "3"])
    assert result.exit_code == 1 and "knows no ship node 'N7'" in result.output
    ok = runner.invoke(args=["stock", "set", "--store", name, "--ship-node", "N2", "X-1", "3"])
    assert ok.exit_code == 0 and "X-1 at ship node N2: on hand 3" in ok.output
    with app.app_context():
        from webapp.services.errors import ActionRefused
        from webapp.services.stock.levels import import_csv
        with pytest.raises(ActionRefused, match="Row 3: .*knows no ship node 'N8'"):
            import_csv(store_id, "sku,quantity,ship_node\nY-1,2,N2\nY-2,2,N8\n", by=None)
        db.session.rollback()
        assert import_csv(store_id, "sku,quantity,ship_node\nY-1,2,N2\nY-2,5,\n", by=None) == 2
        rows = {(s.sku, s.ship_node): s.on_hand for s in db.session.scalars(
            select(SkuStock).where(SkuStock.on_hand.is_not(None)))}
    assert rows == {("X-1", "N2"): 3, ("Y-1", "N2"): 2, ("Y-2", ""): 5}


def test_stock_page_shows_ship_nodes_when_the_store_knows_several(app, signed_in, client,
                                                                  walmart_store):
    """With two known nodes the Stock page has a Ship node column (the default row named as
    the default node) and the Set a SKU form offers the nodes; setting at a node keeps it
    apart. A store with one node shows no node column."""
    from tests.factories import make_store
    from webapp.extensions import db
    from webapp.models import SkuStock
    from webapp.services.stock.levels import set_on_hand

    store_id, _seller = _seeded(app, walmart_store, ["N1", "N2"], count=6,
                                default_ship_node="N1")
    with app.app_context():
        single_id = make_store(name="One node").id
        set_on_hand(single_id, "ONE-1", 3, by=None)
    signed_in("operator")
    page = client.get(f"/stock/?store={store_id}").text
    assert "<th>Ship node</th>" in page
    assert re.search(r"<td>Default node \(N1\)</td>", page)
    assert re.search(r"<td>N2</td>", page)
    assert '<option value="">Default node (N1)</option><option value="N2">N2</option>' in page
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/stock/set", data={"csrf_token": token, "store": store_id,
                                               "sku": "NODE-1", "on_hand": "8",
                                               "ship_node": "N2"}, follow_redirects=True)
    assert "NODE-1 at ship node N2: 8 on hand" in response.text
    with app.app_context():
        assert db.session.scalar(select(SkuStock.ship_node).where(
            SkuStock.sku == "NODE-1")) == "N2"
    single = client.get(f"/stock/?store={single_id}").text
    assert "ONE-1" in single and "<th>Ship node</th>" not in single


def test_changing_the_default_node_moves_stock_with_it(app, walmart_store, runner):
    """Naming a default node merges that node's rows into the default row (on hand added);
    changing it again gives the old default its own rows back. Reservations always match the
    open orders per node, and Walmart receives each node's new quantity."""
    from webapp.extensions import db
    from webapp.models import SkuStock, Store
    from webapp.services.stock.levels import set_on_hand

    store_id, seller = _seeded(app, walmart_store, ["N1", "N2"], count=8)
    sku = _pick_sku(app, store_id)
    with app.app_context():
        name = db.session.get(Store, store_id).name
        set_on_hand(store_id, sku, 10, by=None, node="N1")
        set_on_hand(store_id, sku, 5, by=None)  # the default row, no default named yet
        set_on_hand(store_id, sku, 20, by=None, node="N2")

    def on_hand():
        with app.app_context():
            return {s.ship_node: s.on_hand for s in db.session.scalars(
                select(SkuStock).where(SkuStock.sku == sku))}

    assert runner.invoke(args=["stores", "set", name, "--ship-node", "N1"]).exit_code == 0
    assert on_hand() == {"": 15, "N2": 20}
    assert _reserved(app, store_id) == _open_by_node(app, store_id)
    assert runner.invoke(args=["stores", "set", name, "--ship-node", "N2"]).exit_code == 0
    assert on_hand() == {"": 20, "N1": 15}
    reserved = _reserved(app, store_id)
    assert reserved == _open_by_node(app, store_id)
    assert runner.invoke(args=["sync", "drain", "--timeout", "30"]).exit_code == 0
    levels = control.inventory(seller.sim.conn, seller.seller_id)
    assert (levels[(sku, "N1")], levels[(sku, "N2")]) == (
        max(15 - reserved.get((sku, "N1"), 0), 0), max(20 - reserved.get((sku, ""), 0), 0))


def _pick_sku(app, store_id: int) -> str:
    """A SKU the store's orders reserve at both N1 and N2."""
    from webapp.extensions import db
    from webapp.models import SkuStock

    with app.app_context():
        nodes: dict[str, set[str]] = {}
        for row in db.session.scalars(select(SkuStock).where(SkuStock.store_id == store_id)):
            nodes.setdefault(row.sku, set()).add(row.ship_node)
    return next(sku for sku, at in sorted(nodes.items()) if {"N1", "N2"} <= at)


def test_stock_page_asks_for_a_default_node_when_orders_name_nodes(app, signed_in, client,
                                                                    walmart_store):
    """A store whose orders name a ship node but which has no default node says so on the
    Stock page, with a link to its settings; once the default is named the notice is gone."""
    from webapp.extensions import db
    from webapp.models import Store

    store_id, _seller = _seeded(app, walmart_store, ["N1"], count=2)
    signed_in("admin")
    page = client.get(f"/stock/?store={store_id}").text
    assert "come from ship node N1, but the store has no default ship node" in page
    assert f'href="/stores/{store_id}/edit"' in page
    with app.app_context():
        db.session.get(Store, store_id).default_ship_node = "N1"
        db.session.commit()
    assert "has no default ship node" not in client.get(f"/stock/?store={store_id}").text


def test_a_refund_restocks_at_the_node_the_order_shipped_from(app, returned):
    """Units a refund puts back on the shelf go to the stock row of the order's ship node."""
    from webapp.extensions import db
    from webapp.models import Order, Return, SkuStock, Store
    from webapp.services.returns.refunding import refund_return
    from webapp.services.stock.levels import set_on_hand

    store_id, _seller, order_id, rma = returned
    with app.app_context():
        order = db.session.get(Order, order_id)
        order.ship_node, sku = "N2", order.lines[0].sku
        db.session.get(Store, store_id).default_ship_node = "N1"
        db.session.commit()
        set_on_hand(store_id, sku, 4, by=None, node="N2")
        set_on_hand(store_id, sku, 9, by=None)
        ret = db.session.scalar(select(Return).where(Return.rma == rma))
        refund_return(ret.id, {1: 2}, restock={1}, by=None, actor="test")
        rows = {s.ship_node: s.on_hand for s in db.session.scalars(
            select(SkuStock).where(SkuStock.store_id == store_id, SkuStock.sku == sku))}
    assert rows == {"": 9, "N2": 6}


def test_sync_page_names_the_node_of_a_stock_push(app, signed_in, client, walmart_store):
    """On the Sync page a stock update at a node other than the default names its SKU and node;
    one at the default row names the SKU alone."""
    from webapp.services.stock.levels import set_on_hand

    store_id, _seller = _seeded(app, walmart_store, ["N1", "N2"], count=4,
                                default_ship_node="N1")
    with app.app_context():
        set_on_hand(store_id, "SHOWN-1", 2, by=None, node="N2")
        set_on_hand(store_id, "SHOWN-2", 2, by=None)
    signed_in("viewer")
    page = client.get("/sync/?kind=inventory").text
    assert "SHOWN-1 at ship node N2" in page and "Set SKU SHOWN-1 at ship node N2 to" in page
    assert "SHOWN-2" in page and "SHOWN-2 at ship node" not in page


def test_an_order_walmart_moves_to_another_node_moves_its_reservation(app, walmart_store):
    """When Walmart names another ship node for an open order, its open units are released at
    the old node and reserved at the new one."""
    from webapp.extensions import db
    from webapp.models import Store
    from webapp.services.orders.storing import upsert
    from webapp.walmart.schema import parse_order

    store_id, seller = _seeded(app, walmart_store, ["N1", "N2"], count=2,
                               default_ship_node="N1")
    po = seller.sim.conn.execute("SELECT po FROM orders WHERE seller_id = ? ORDER BY order_ms "
                                 "LIMIT 1 OFFSET 1", (seller.seller_id,)).fetchone()["po"]
    doc = control.order_state(seller.sim.conn, seller.seller_id, po)
    assert doc["shipNode"]["id"] == "N2"
    doc["shipNode"] = {"type": "SellerFulfilled", "id": "N1"}
    with app.app_context():
        upsert(db.session.get(Store, store_id), parse_order(doc))
        db.session.commit()
    reserved = _reserved(app, store_id)
    assert reserved == _open_by_node(app, store_id)
    assert not any(node == "N2" for _sku, node in reserved)


def test_the_ship_nodes_a_store_knows_are_sought_in_an_index_not_read_from_every_order(
        app, walmart_store):
    """known_nodes() runs on every inventory push: its query must seek the next node in
    ix_orders_store_ship_node (a range on ship_node per step) rather than read every order of
    the store, as a DISTINCT does (a third of a million rows for a big shop)."""
    from sqlalchemy import event, text

    from webapp.extensions import db
    from webapp.models import Store
    from webapp.services.stock.ship_nodes import known_nodes

    store_id, _seller = _seeded(app, walmart_store, ["N1", "N2"], count=4)
    with app.app_context():
        store = db.session.get(Store, store_id)
        ran = []
        engine = db.engine

        def keep(conn, cursor, statement, parameters, context, executemany):
            ran.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", keep)
        try:
            assert known_nodes(store) == ["N1", "N2"]
        finally:
            event.remove(engine, "before_cursor_execute", keep)
        (statement, parameters), = [(s, p) for s, p in ran if "orders" in s]
        conn = db.session.connection()
        if conn.dialect.name == "sqlite":
            plan = " ".join(row[-1] for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, parameters))
            assert "ix_orders_store_ship_node (store_id=? AND ship_node>?)" in plan, plan
        else:  # seq scans off: on a few rows PostgreSQL would rightly prefer one. Its EXPLAIN
            # leaves out the recursive step's subplan: the anchor's seek and the recursion show.
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(row[0] for row in conn.exec_driver_sql(
                "EXPLAIN " + statement, parameters))
            assert "Recursive Union" in plan and "using ix_orders_store_ship_node" in plan, plan
        db.session.rollback()
