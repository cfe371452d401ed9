"""Hostile data: markup from Walmart shown inert on every page, and uploaded files that are too
big, binary, badly encoded, huge or full of formulas refused with a message, changing nothing."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from simulator import control
from tests.conftest import csrf_from
from tests.test_security import changed, snapshot

SCRIPT = "<script>alert(1)</script>"
ATTR = '"><img src=x onerror=alert(1)>'
ESCAPED = {SCRIPT: "&lt;script&gt;alert(1)&lt;/script&gt;",
           ATTR: "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"}
RAW = ("<script>alert", "<img src=x")
FORMULA = '=HYPERLINK("http://evil.example","x")'


def _poison(order: dict, _now) -> None:
    """Markup in every free-text field Walmart sends with an order."""
    order["customerName"] = {"firstName": SCRIPT, "lastName": ATTR}
    order["shippingInfo"]["postalAddress"].update(
        name=f"Eve {SCRIPT}", address1=ATTR, address2=SCRIPT, city=SCRIPT)
    for n, line in enumerate(order["lines"], start=1):
        line.update(productName=SCRIPT + ATTR, sku=f"X{n}{ATTR}", intentToCancel=False)


@pytest.fixture
def hostile(app, walmart_store, worker):
    """Three orders whose Walmart data carries markup: A shipped, returned (reason: markup) and
    refunded; B open; C failed to import. Walmart's error texts (a refused shipment, refund
    and stock push, a failed import) carry markup too. Returns the ids."""
    from webapp.extensions import db
    from webapp.models import Order, Return, Store, SyncTask, TrackingUpload
    from webapp.models.base import utcnow
    from webapp.services.orders import status as order_status
    from webapp.services.orders.importer import import_store
    from webapp.services.returns import status as return_status
    from webapp.services.returns.importer import import_returns
    from webapp.services.returns.refunding import refund_return
    from webapp.services.shipping.ship import PackageInput, ship_order
    from webapp.services.stock.levels import set_on_hand

    store_id, seller = walmart_store()
    conn = seller.sim.conn
    control.seed_orders(conn, seller.seller_id, 3, seed=11, intent_rate=0)
    pos = sorted(r["po"] for r in conn.execute("SELECT po FROM orders WHERE seller_id = ?",
                                               (seller.seller_id,)))
    for po in pos[:2]:
        control.update_order(conn, seller.seller_id, po, _poison)
    with app.app_context():
        import_store(store_id)
    worker()
    with app.app_context():
        a, b, c = (db.session.scalar(select(Order.id).where(Order.purchase_order_id == po))
                   for po in pos)
        order = db.session.get(Order, a)
        ship_order(a, [PackageInput("1Z999AA10123456784", "Standard",
                                    {x.line_number: x.quantity for x in order.lines}, "UPS")],
                   utcnow(), by=None, actor="test")
    worker()
    control.deliver(conn, seller.seller_id, pos[0])
    control.open_return(conn, seller.seller_id, pos[0], reason=SCRIPT, seed=3)
    with app.app_context():
        import_returns(store_id)
        ret = db.session.scalars(select(Return)).one()
        refund = refund_return(ret.id, {1: 1}, by=None, actor="test")
        stock = set_on_hand(store_id, f"X1{ATTR}", 5, by=None, actor="test")
        failed = [refund.task_id, db.session.scalars(select(SyncTask.id).where(
            SyncTask.kind == "inventory", SyncTask.target == stock.sku)).first(),
            db.session.scalars(select(SyncTask.id).where(SyncTask.order_id == a,
                                                         SyncTask.kind == "ship")).first()]
        for task_id in failed:
            task = db.session.get(SyncTask, task_id)
            task.state, task.last_error_code = "error", "INVALID_REQUEST_CONTENT"
            task.last_error_field, task.last_error_message = SCRIPT, f"Walmart says {SCRIPT}{ATTR}"
        db.session.get(Order, c).import_error = f"Walmart sent {SCRIPT}"
        upload = TrackingUpload(created_by=f"ops{ATTR}", outcomes=[{  # a refusal's words
            "order_id": a, "order": db.session.get(Order, a).number, "result": "Refused",
            "message": f"Walmart says {SCRIPT}", "shipment_id": None, "task_id": failed[2]}])
        db.session.add(upload)
        store = db.session.get(Store, store_id)
        store.last_import_error, store.last_import_error_at = f"{SCRIPT}{ATTR}", utcnow()
        for order_id in (a, c):
            order_status.refresh(db.session.get(Order, order_id))
        return_status.refresh(ret)
        db.session.commit()
        return {"a": a, "b": b, "c": c, "return_id": ret.id, "store_id": store_id,
                "task_id": failed[0], "upload_id": upload.id}


def test_walmart_data_is_shown_escaped_on_every_page(app, signed_in, client, hostile):
    """Markup in Walmart's texts (customer, address, product, SKU, return reason, errors) or in
    any query parameter shows escaped on every page and fragment; the CSV is a download."""
    from webapp.extensions import db
    from webapp.models import ShipmentPackage, User

    signed_in("admin")
    with app.app_context():
        package_id = db.session.scalar(select(ShipmentPackage.id))
        user_id = db.session.scalar(select(User.id))
        from webapp.services.printing import documents, records
        hostile_orders = [hostile["a"], hostile["b"], hostile["c"]]
        prints = [records.record_print(build(hostile_orders), by=None, actor="test").id
                  for build in (documents.slips, documents.pick_list)]
    ids = {"order_id": [hostile["a"], hostile["b"], hostile["c"]], "record_id": prints,
           "return_id": [hostile["return_id"]], "store_id": [hostile["store_id"]],
           "task_id": [hostile["task_id"]], "package_id": [package_id], "user_id": [user_id],
           "upload_id": [hostile["upload_id"]]}
    reflected = {name: ATTR for name in ("q", "status", "store", "sort", "from", "to", "after",
                                         "before", "page", "kind", "state", "user", "action",
                                         "order", "next", "poll", "since", "watch")}
    bodies, problems = {}, []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("static", "auth.login", "health"):
            continue
        for values in _combinations(rule, ids):
            url = rule.build(values, append_unknown=False)[1]
            for query, htmx in (({}, False), ({}, True), (reflected, False)):
                target = f"{url}{' with markup in the query' if query else ''}"
                response = client.get(url, query_string=query,
                                      headers={"HX-Request": "true"} if htmx else {})
                body = response.get_data(as_text=True)
                if response.mimetype == "text/csv":
                    if "attachment" not in response.headers.get("Content-Disposition", "") or \
                            response.headers.get("X-Content-Type-Options") != "nosniff":
                        problems.append(f"{target}: a CSV the browser might render")
                    continue
                if response.status_code >= 500 or response.mimetype != "text/html":
                    problems.append(f"{target}: {response.status_code} {response.mimetype}")
                problems += [f"{target} (htmx={htmx}): raw {raw!r}" for raw in RAW if raw in body]
                if not query:
                    bodies[(url, htmx)] = body
    assert not problems, "\n".join(problems)

    def shows(url: str, *payloads: str) -> bool:
        return all(ESCAPED[p] in bodies[(url, False)] for p in payloads)

    assert shows(f"/orders/{hostile['a']}", SCRIPT, ATTR)  # customer, address, product, SKU
    assert ESCAPED[SCRIPT] in bodies[(f"/orders/{hostile['a']}", True)]  # Walmart's message
    assert shows(f"/orders/{hostile['b']}/cancel", SCRIPT, ATTR)
    assert shows(f"/orders/{hostile['c']}", SCRIPT)  # the import error
    assert shows("/orders/", SCRIPT, ATTR)  # Status details, Items
    assert shows("/returns/", SCRIPT, ATTR)
    assert shows(f"/returns/{hostile['return_id']}", SCRIPT, ATTR)  # customer, reason, message
    assert shows("/stock/", SCRIPT, ATTR)
    assert shows("/stores/", SCRIPT, ATTR)
    assert shows(f"/orders/ship-upload/{hostile['upload_id']}", SCRIPT, ATTR)
    assert shows(f"/print/{prints[0]}", SCRIPT, ATTR)  # packing slips: address, product, SKU
    assert shows(f"/print/{prints[1]}", SCRIPT, ATTR)  # the pick list: product, SKU


def _combinations(rule, ids: dict[str, list[int]]):
    values = [{}]
    for name in rule.arguments:
        assert name in ids, f"{rule.endpoint}: give URL parameter {name!r} ids in this test"
        values = [{**v, name: x} for v in values for x in ids[name]]
    return values


# -- uploads: the tracking upload and the stock CSV import -------------------------------

UPLOADS = {  # route → (form fields, how to read its answer)
    "ship": "/orders/ship-upload",
    "stock": "/stock/import",
}
SHIP_HEADER = "order,line,quantity,carrier,tracking number,tracking url\n"


@pytest.fixture
def orders(app, walmart_store):
    """A store with three imported orders; returns (store id, purchase order ids)."""
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.orders.importer import import_store

    store_id, _seller = walmart_store(orders=3, seed=4)
    with app.app_context():
        import_store(store_id)
        return store_id, db.session.scalars(select(Order.purchase_order_id)).all()


def _upload(client, kind: str, store_id: int, content: bytes, **fields):
    """Post `content` as the route's CSV file; returns the page that tells the outcome."""
    token = csrf_from(client.get("/stock/").text)
    data = {"csrf_token": token, "file": (io.BytesIO(content), "upload.csv"), **fields}
    if kind == "stock":
        data["store"] = store_id
    response = client.post(UPLOADS[kind], data=data, follow_redirects=True)
    response.get_data()
    response.close()  # a big upload sits in a temporary file until the response closes
    return response


def _message(page) -> str:
    """The errors the page shows (the preview's, or the flash after a redirect)."""
    return " ".join(re.findall(r'class="(?:error|flash flash-error)"[^>]*>([^<]*)<', page.text))


@pytest.mark.parametrize("kind", ["ship", "stock"])
def test_uploads_over_the_size_limit_get_413(app, signed_in, client, orders, kind):
    """A file over MAX_CONTENT_LENGTH (2 MB) is refused with the friendly 413 page before it is
    read, and changes nothing."""
    store_id, _pos = orders
    signed_in("operator")
    before = snapshot(app)
    size = app.config["MAX_CONTENT_LENGTH"]
    response = _upload(client, kind, store_id, b"sku,quantity\n" + b"A,1\n" * (size // 4))
    assert response.status_code == 413 and "The upload is too large" in response.text
    assert changed(before, snapshot(app)) == []


BAD_FILES = {  # name → (file content, what the message says, per route)
    "binary": (bytes(range(256)) * 8, {"ship": "UTF-8", "stock": "UTF-8"}),
    "latin-1": ("sku,quantity\ncafé,1\n".encode("latin-1"), {"ship": "UTF-8",
                                                             "stock": "UTF-8"}),
    "NUL bytes": (b"order,line,quantity,carrier,tracking number\nA\x00B,1,1,UPS,1Z\n",
                  {"ship": "binary data", "stock": "printable"}),
    "huge field": (b"order,line,quantity,carrier,tracking number\n" + b"A" * 200_000 + b",1\n",
                   {"ship": "cannot be read", "stock": "cannot be read"}),
    "huge header": (b"A" * 200_000 + b",1\n", {"ship": "empty or not a CSV",
                                              "stock": "cannot be read"}),
    "long row": (b"order,line,quantity,carrier,tracking number\n" + b"A," * 50_000 + b"1\n",
                 {"ship": "No order A.", "stock": "whole number"}),
    "empty": (b"", {"ship": "empty or not a CSV", "stock": "no sku,quantity rows"}),
    "no columns": (b"a,b\n", {"ship": "Missing column(s)", "stock": "no sku,quantity rows"}),
    "long SKU": (b"sku,quantity\n" + b"S" * 101 + b",1\n",
                 {"ship": "Missing column(s)", "stock": "at most 100"}),
}


@pytest.mark.parametrize("kind", ["ship", "stock"])
def test_bad_files_get_a_clear_message_and_change_nothing(app, signed_in, client, orders, kind):
    """Binary, Latin-1, NUL bytes, huge fields, long rows, empty files, missing columns and
    over-long SKUs each get a message saying what is wrong, never a crash, and change nothing."""
    store_id, _pos = orders
    signed_in("operator")
    before, problems = snapshot(app), []
    for name, (content, expected) in BAD_FILES.items():
        page = _upload(client, kind, store_id, content)
        if page.status_code not in (200, 422) or expected[kind] not in _message(page):
            problems.append(f"{name}: {page.status_code} {_message(page)[:200]!r}")
    assert not problems, "\n".join(problems)
    assert changed(before, snapshot(app)) == []


def test_too_many_rows_and_overlong_values_ship_nothing(app, signed_in, client, orders):
    """The tracking upload takes at most 2,000 rows; a carrier name or tracking URL longer than
    Orderdeck stores is refused even after the preview passed, and nothing ships."""
    store_id, pos = orders
    signed_in("operator")
    before = snapshot(app)
    rows = "".join(f"{pos[0]},1,1,UPS,1Z{n:016d},\n" for n in range(2001))
    assert "At most 2000 rows" in _message(_upload(client, "ship", store_id,
                                                   (SHIP_HEADER + rows).encode()))
    for row in (f"{pos[0]},1,1,{'C' * 121},T1,https://track.example/T1",
                f"{pos[0]},1,1,Local,T1,https://track.example/{'t' * 500}"):
        token = csrf_from(client.get("/orders/ship-upload").text)
        done = client.post("/orders/ship-upload", data={"csrf_token": token, "confirm": "1",
                                                        "csv": SHIP_HEADER + row + "\n"})
        assert done.status_code == 422 and "too long" in done.text
    assert changed(before, snapshot(app)) == []


def test_formula_and_markup_cells_stay_inert(app, signed_in, client, orders):
    """A formula or markup in an uploaded cell stays plain text: escaped in the tracking preview
    (which ships nothing), stored verbatim as a SKU and escaped on the Stock page."""
    from webapp.extensions import db
    from webapp.models import SkuStock

    store_id, pos = orders
    signed_in("operator")
    before = snapshot(app)
    text = (SHIP_HEADER + f'"{FORMULA.replace(chr(34), chr(34) * 2)}",1,1,UPS,1Z1,\n'
            f"{SCRIPT},1,1,UPS,1Z2,\n{pos[0]},1,1,UPS,\"{ATTR.replace(chr(34), chr(34) * 2)}\",\n")
    preview = _upload(client, "ship", store_id, text.encode())
    assert preview.status_code == 422 and "Create shipments" not in preview.text
    assert FORMULA.replace('"', "&#34;") in preview.text
    assert ESCAPED[SCRIPT] in preview.text and not any(raw in preview.text for raw in RAW)
    assert changed(before, snapshot(app)) == []

    csv_text = f'sku,quantity\n"{FORMULA.replace(chr(34), chr(34) * 2)}",3\n{SCRIPT},4\n'
    assert "2 SKU(s) set" in _upload(client, "stock", store_id, csv_text.encode()).text
    with app.app_context():
        assert set(db.session.scalars(select(SkuStock.sku))) >= {FORMULA, SCRIPT}
    page = client.get(f"/stock/?store={store_id}").text
    assert FORMULA.replace('"', "&#34;") in page and ESCAPED[SCRIPT] in page
    assert not any(raw in page for raw in RAW)


def test_overlong_walmart_text_never_stops_an_import(app, walmart_store, worker):
    """An order and a return whose texts are longer than Orderdeck's columns do not stop their
    imports: the other orders arrive, and the odd ones are stored (clipped) or shown as failed."""
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.models.base import utcnow
    from webapp.services.orders.importer import import_store
    from webapp.services.returns.importer import import_returns
    from webapp.services.shipping.ship import PackageInput, ship_order

    store_id, seller = walmart_store()
    conn = seller.sim.conn
    control.seed_orders(conn, seller.seller_id, 3, seed=11, intent_rate=0)
    pos = sorted(r["po"] for r in conn.execute("SELECT po FROM orders WHERE seller_id = ?",
                                               (seller.seller_id,)))

    def stretch(order: dict, _now) -> None:
        order["shippingInfo"]["postalAddress"]["name"] = "N" * 300
        for line in order["lines"]:
            line["productName"] = "P" * 600

    control.update_order(conn, seller.seller_id, pos[0], stretch)
    with app.app_context():
        import_store(store_id)
        stored = {o.purchase_order_id: o for o in db.session.scalars(select(Order))}
        assert set(stored) == set(pos)
        assert (stored[pos[0]].import_error, stored[pos[0]].customer_name) == (None, "N" * 200)
        order = stored[pos[1]]
        ship_order(order.id, [PackageInput("1Z999AA10123456784", "Standard",
                                           {x.line_number: x.quantity for x in order.lines},
                                           "UPS")], utcnow(), by=None, actor="test")
    worker()
    control.deliver(conn, seller.seller_id, pos[1])
    control.open_return(conn, seller.seller_id, pos[1], reason="R" * 100, seed=3)
    with app.app_context():
        assert import_returns(store_id) == 1
