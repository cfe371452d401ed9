"""Shipping: the form, the rules, the engine, exactly once at Walmart."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from redis import Redis
from sqlalchemy import func, select

from simulator import control


def _find(app, want_qty: int | None = None, lines: int = 1, intent: bool = False):
    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        for order in db.session.scalars(select(Order).order_by(Order.id)).unique():
            if len(order.lines) != lines or order.intent_to_cancel != intent:
                continue
            if want_qty is None or order.lines[0].quantity == want_qty:
                return order.id, order.purchase_order_id, order.lines[0].quantity
    raise AssertionError("no such order seeded")


def _walmart_line(seller, po, line="1"):
    state = control.order_state(seller.sim.conn, seller.seller_id, po)
    entry = next(x for x in state["orderLines"]["orderLine"] if x["lineNumber"] == line)
    return [(s["status"], int(s["statusQuantity"]["amount"]),
             (s["trackingInfo"] or {}).get("trackingNumber"),
             ((s["trackingInfo"] or {}).get("carrierName") or {}).get("carrier"))
            for s in entry["orderLineStatuses"]["orderLineStatus"]]


def _form(client, order_id):
    """The Ship form after pressing Add tracking number once (its first package)."""
    html = client.get(f"/orders/{order_id}").text
    data = {"csrf_token": re.search(r'id="csrf_token" name="csrf_token" type="hidden" '
                                    r'value="([^"]+)"', html).group(1)}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html):
        if name.startswith(("ship_time", "form_token")):
            data[name] = value
    html = client.post(f"/orders/{order_id}/ship", data={**data, "add_package": "1"},
                       headers={"HX-Request": "true"}).text
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html):
        if name.startswith("packages-"):
            data[name] = value
    for name in re.findall(r'<select[^>]*name="([^"]+)"', html):
        selected = re.search(rf'<select[^>]*name="{re.escape(name)}".*?<option selected '
                             r'value="([^"]+)"', html, re.S)
        data[name] = selected.group(1) if selected else "Standard"
    return data


def _order(app, order_id):
    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        order = db.session.get(Order, order_id)
        return order.status, order.status_details, [x.shipped_qty for x in order.lines]


def _shipments(app) -> int:
    from webapp.extensions import db
    from webapp.models import Shipment

    with app.app_context():
        return db.session.scalar(select(func.count(Shipment.id)))


def test_ship_two_then_one_with_live_status(app, signed_in, client, shop, worker):
    """Ship 2 of 3 from the form, then the last with another carrier: Partially Shipped at
    once, Shipped after; the simulator holds both shipments; the page turns to Synced."""
    _store_id, seller = shop
    order_id, po, qty = _find(app, want_qty=3)
    signed_in("operator")
    data = _form(client, order_id)
    assert data["packages-0-lines-0-quantity"] == "3" and "packages-0-method_code" in data
    data.update({"packages-0-carrier": "UPS", "packages-0-tracking_number": " 1z999aa10123456784 ",
                 "packages-0-lines-0-quantity": "2"})
    response = client.post(f"/orders/{order_id}/ship", data=data)
    assert response.status_code == 303
    status, details, shipped = _order(app, order_id)
    assert (status, shipped) == ("Partially Shipped", [2])
    assert "Sending shipment to Walmart" in details
    page = client.get(f"/orders/{order_id}").text
    assert "Sending to Walmart…" in page
    poll = re.search(r'id="order-live"[^>]*hx-get="([^"]+)"', page).group(1).replace("&amp;",
                                                                                    "&")
    live = client.get(poll, headers={"HX-Request": "true"})
    assert live.status_code == 204  # nothing new yet: nothing to swap
    worker()
    live = client.get(poll, headers={"HX-Request": "true"})
    assert live.status_code == 286 and "Synced" in live.text
    data = _form(client, order_id)
    assert data["packages-0-lines-0-quantity"] == "1"
    data.update({"packages-0-carrier": "USPS",
                 "packages-0-tracking_number": "9400111899223197428490"})
    assert client.post(f"/orders/{order_id}/ship", data=data).status_code == 303
    assert _order(app, order_id)[0] == "Shipped"
    worker()
    assert sorted(_walmart_line(seller, po)) == [
        ("Shipped", 1, "9400111899223197428490", "USPS"),
        ("Shipped", 2, "1Z999AA10123456784", "UPS")]
    html = client.get(f"/orders/{order_id}").text
    assert html.count('<span class="tag ok">Synced</span>') == 2
    assert "https://www.ups.com/track?tracknum=1Z999AA10123456784" in html
    found = client.get("/orders/", query_string={"q": "1Z999AA10123456784"}).text
    assert f'id="order-{order_id}"' in found


@pytest.mark.parametrize("changes, message", [
    ({"packages-0-tracking_number": "   "}, "Enter the tracking number."),
    ({"packages-0-lines-0-quantity": "-1"}, "Quantities are whole numbers from 0 to 100,000."),
    ({"packages-0-lines-0-quantity": "abc"}, "Quantities are whole numbers from 0 to 100,000."),
    ({"packages-0-lines-0-quantity": "0"}, "Put at least one unit in the package."),
    ({"packages-0-lines-0-quantity": "99"}, "left to ship, not 99"),
    ({"packages-0-carrier": "Fedex Ground"}, "is not one of Walmart&#39;s carriers"),
    ({"packages-0-carrier": "", "packages-0-other_carrier": "Bob's Courier"},
     "Walmart needs a tracking URL for another carrier."),
    ({"packages-0-carrier": "", "packages-0-other_carrier": "Bob",
      "packages-0-tracking_url": "javascript:alert(1)"}, "must start with https://"),
    ({"packages-0-method_code": "Ground"}, "Not a valid choice"),
    ({"ship_time": "2999-01-01T10:00"}, "cannot be in the future"),
    ({"ship_time": "2001-01-01T10:00"}, "cannot be before the order date"),
    ({"ship_time": "yesterday"}, "Not a valid datetime value"),
])
def test_malformed_ship_form_values_create_nothing(app, signed_in, client, shop, changes,
                                                   message):
    """Every bad value gets a clear message in place (422) and ships nothing."""
    order_id, _po, _qty = _find(app)
    signed_in("operator")
    data = _form(client, order_id)
    data.update({"packages-0-carrier": "UPS", "packages-0-tracking_number": "1Z999AA10123456784"})
    data.update(changes)
    response = client.post(f"/orders/{order_id}/ship", data=data)
    assert response.status_code == 422
    assert message in response.text
    assert _shipments(app) == 0 and _order(app, order_id)[2] == [0]


def test_ship_without_a_tracking_number_asks_for_one(app, signed_in, client, shop):
    """Ship before Add tracking number: told to add one first; nothing ships. The first
    package then holds every unit left, a second one none."""
    order_id, _po, qty = _find(app)
    signed_in("operator")
    data = _form(client, order_id)
    empty = {k: v for k, v in data.items() if not k.startswith("packages-")}
    response = client.post(f"/orders/{order_id}/ship", data=empty)
    assert response.status_code == 422
    assert "Add a tracking number first" in response.text
    assert _shipments(app) == 0
    assert data["packages-0-lines-0-quantity"] == str(qty)
    second = client.post(f"/orders/{order_id}/ship", data={**data, "add_package": "1"},
                         headers={"HX-Request": "true"}).text
    assert 'name="packages-1-lines-0-quantity"' in second
    assert re.search(r'name="packages-1-lines-0-quantity"[^>]*value="0"', second)
    carrier = re.search(r'<select[^>]*id="packages-1-carrier"[^>]*>', second).group(0)
    assert "autofocus" in carrier  # the keyboard lands in the new package


def test_unusual_tracking_number_warns_and_can_be_confirmed(app, signed_in, client, shop):
    """A number unlike UPS's format is a warning, not a block: confirming ships it."""
    order_id, _po, _qty = _find(app)
    signed_in("operator")
    data = _form(client, order_id)
    data.update({"packages-0-carrier": "UPS", "packages-0-tracking_number": "12345"})
    warned = client.post(f"/orders/{order_id}/ship", data=data, headers={"HX-Request": "true"})
    assert warned.status_code == 422 and "does not look like a UPS tracking number" in warned.text
    assert "<html" not in warned.text and _shipments(app) == 0
    data["confirm_warnings"] = "y"
    assert client.post(f"/orders/{order_id}/ship", data=data).status_code == 303
    assert _shipments(app) == 1


def test_a_tracking_number_with_a_dash_warns_for_every_carrier(app, signed_in, client, shop):
    """Walmart's tracking policy allows letters and digits only: a dash or a dot is a warning
    even for a carrier without a known format, and confirming still ships it."""
    order_id, _po, _qty = _find(app)
    signed_in("operator")
    data = _form(client, order_id)
    data.update({"packages-0-carrier": "OnTrac", "packages-0-tracking_number": "C1234-567.89"})
    warned = client.post(f"/orders/{order_id}/ship", data=data, headers={"HX-Request": "true"})
    assert warned.status_code == 422 and "other than letters and digits" in warned.text
    assert _shipments(app) == 0
    data["confirm_warnings"] = "y"
    assert client.post(f"/orders/{order_id}/ship", data=data).status_code == 303
    assert _shipments(app) == 1


@pytest.mark.parametrize("which", ["purchase_order_id", "customer_order_id"])
def test_the_orders_own_number_is_refused_as_a_tracking_number(app, signed_in, client, shop,
                                                               which):
    """Walmart refuses an order's own number as its tracking number (a number pasted into the
    wrong field): refused with words before anything is sent, even when confirmed."""
    from webapp.extensions import db
    from webapp.models import Order

    order_id, _po, _qty = _find(app)
    with app.app_context():
        own = getattr(db.session.get(Order, order_id), which)
    signed_in("operator")
    data = _form(client, order_id)
    data.update({"packages-0-carrier": "UPS", "packages-0-tracking_number": f" {own} ",
                 "confirm_warnings": "y"})
    refused = client.post(f"/orders/{order_id}/ship", data=data, headers={"HX-Request": "true"})
    assert refused.status_code == 422 and "own number, not a tracking number" in refused.text
    assert _shipments(app) == 0


def test_buyer_cancel_request_must_be_overridden(app, signed_in, client, shop):
    """An order the buyer asked to cancel ships only with the explicit override, which
    Walmart receives as intentToCancelOverride."""
    from webapp.services.orders.importer import import_store

    store_id, seller = shop
    order_id, po, _qty = _find(app)
    control.intent_to_cancel(seller.sim.conn, seller.seller_id, po)
    with app.app_context():
        import_store(store_id)
    signed_in("operator")
    data = _form(client, order_id)
    data.update({"packages-0-carrier": "UPS", "packages-0-tracking_number": "1Z999AA10123456784"})
    refused = client.post(f"/orders/{order_id}/ship", data=data)
    assert refused.status_code == 422 and "buyer asked Walmart to cancel" in refused.text
    data["override_intent"] = "y"
    assert client.post(f"/orders/{order_id}/ship", data=data).status_code == 303
    from webapp.extensions import db
    from webapp.models import SyncTask
    with app.app_context():
        task = db.session.scalars(select(SyncTask).where(SyncTask.kind == "ship")).one()
        line = task.payload["orderShipment"]["orderLines"]["orderLine"][0]
        assert line["intentToCancelOverride"] is True and line["sellerOrderId"]


def test_a_double_submitted_form_ships_once(app, signed_in, client, shop):
    """The same form posted twice (a double click without JavaScript) makes one shipment."""
    order_id, _po, qty = _find(app, want_qty=2)
    signed_in("operator")
    data = _form(client, order_id)
    data.update({"packages-0-carrier": "UPS", "packages-0-tracking_number": "1Z999AA10123456784",
                 "packages-0-lines-0-quantity": "1"})
    assert client.post(f"/orders/{order_id}/ship", data=data).status_code == 303
    again = client.post(f"/orders/{order_id}/ship", data=data)
    assert again.status_code == 422 and "already submitted" in again.text
    assert _shipments(app) == 1 and _order(app, order_id)[2] == [1]


def test_two_people_shipping_the_same_units_at_once(app, shop):
    """Two shipments of the same last units at the same moment: one wins, one is told."""
    from webapp.models.base import utcnow
    from webapp.services.errors import ActionRefused
    from webapp.services.shipping.ship import PackageInput, ship_order

    order_id, _po, qty = _find(app)
    barrier, results = threading.Barrier(2), []

    def attempt(number: str) -> None:
        with app.app_context():
            barrier.wait()
            try:
                ship_order(order_id, [PackageInput(number, "Standard", {"1": qty}, "UPS")],
                           utcnow(), by=None, actor="test", confirm_warnings=True)
                results.append("shipped")
            except ActionRefused as exc:
                results.append(str(exc))

    threads = [threading.Thread(target=attempt, args=(n,)) for n in ("1ZAAAA", "1ZBBBB")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results)[-1] == "shipped" and results.count("shipped") == 1
    # Racy by nature: the loser reads the order before or after the winner's commit, and is
    # told so in those words or these.
    assert any("no longer has" in r or "left to ship" in r for r in results)
    assert _shipments(app) == 1 and _order(app, order_id)[2] == [qty]


def test_cli_ships_and_refuses_a_second_shipment(app, runner, shop, worker):
    """`flask orders ship` ships through the same service; shipping it again exits 1."""
    _store_id, seller = shop
    order_id, po, qty = _find(app)
    args = ["orders", "ship", po, "--line", f"1:{qty}", "--carrier", "FedEx",
            "--tracking", "123456789012"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "Shipment" in result.output
    again = runner.invoke(args=[*args[:-1], "999999999999"])
    assert again.exit_code == 1 and "left to ship" in again.output + str(again.exception)
    worker()
    assert _walmart_line(seller, po) == [("Shipped", qty, "123456789012", "FedEx")]


def test_walmart_rejection_shows_error_and_retry_syncs_it(app, signed_in, client,
                                                          walmart_store, worker):
    """Walmart refuses the shipment: the order shows Error with Walmart's message; once the
    cause is gone, Retry syncs the shipment."""
    from webapp.extensions import db
    from webapp.models import SyncTask
    from webapp.models.base import utcnow
    from webapp.services.orders.importer import import_store
    from webapp.services.shipping.ship import PackageInput, ship_order
    from webapp.services.sync.engine import process_task

    store_id, seller = walmart_store(orders=3)
    with app.app_context():
        import_store(store_id)
    worker()
    control.set_faults(seller.sim.conn, "shipping", next={"reject": 1})
    with app.app_context():
        order_id, po, qty = _find(app, intent=False)
        shipment = ship_order(order_id, [PackageInput("1Z999AA10123456784", "Standard",
                                                      {"1": 1}, "UPS")],
                              utcnow(), by=None, actor="test")
        task_id = shipment.task_id
        assert process_task(task_id).state == "error"
    status, details, _ = _order(app, order_id)
    assert status == "Error" and "Simulated rejection" in details
    signed_in("operator")
    html = client.get(f"/orders/{order_id}").text
    assert "Simulated rejection" in html and ">Retry</button>" in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert client.post(f"/sync/tasks/{task_id}/retry",
                       data={"csrf_token": token}).status_code == 303
    worker()
    with app.app_context():
        assert db.session.get(SyncTask, task_id).state == "synced"
    assert _order(app, order_id)[0] == ("Shipped" if qty == 1 else "Partially Shipped")
    assert ("Shipped", 1, "1Z999AA10123456784", "UPS") in _walmart_line(seller, po)


def test_a_shipment_waits_for_the_orders_acknowledgement(app, walmart_store, runner):
    """Shipped before its acknowledgement reached Walmart, the shipment waits for it (Walmart
    refuses to ship an unacknowledged line) and then goes through."""
    from webapp.models.base import utcnow
    from webapp.services.orders.importer import import_store
    from webapp.services.shipping.ship import PackageInput, ship_order
    from webapp.services.sync.engine import process_task

    store_id, seller = walmart_store(orders=2)
    with app.app_context():
        import_store(store_id)  # the acknowledgements are queued, not yet sent
        order_id, po, qty = _find(app, intent=False)
        shipment = ship_order(order_id, [PackageInput("1Z999AA10123456784", "Standard",
                                                      {"1": qty}, "UPS")], utcnow(), by=None,
                              actor="test")
        assert process_task(shipment.task_id).state == "waiting"
        # The acknowledgement's first attempt rode in the import's batch job: it now has a
        # job of its own, first in the queue.
        from jobs.queue import get_queue
        from webapp.extensions import db
        from webapp.models import SyncTask
        ack = db.session.scalar(select(SyncTask.id).where(SyncTask.order_id == order_id,
                                                          SyncTask.kind == "acknowledge"))
        assert get_queue().job_ids[0] == f"sync-{ack}-1"
    assert runner.invoke(args=["sync", "drain", "--timeout", "30"]).exit_code == 0
    assert _order(app, order_id)[0] == "Shipped"
    calls = [r["endpoint"] for r in seller.requests() if po in r["path"]]
    assert calls == ["acknowledge", "shipping"]


def test_a_tracking_number_is_used_once_per_order(app, shop):
    """Reusing a tracking number on the same order is refused (shipments are told apart by
    it when Walmart is read back)."""
    from webapp.models.base import utcnow
    from webapp.services.errors import ActionRefused
    from webapp.services.shipping.ship import PackageInput, ship_order

    order_id, _po, qty = _find(app, want_qty=2)
    with app.app_context():
        ship_order(order_id, [PackageInput("1ZSAME", "Standard", {"1": 1}, "UPS")], utcnow(),
                   by=None, actor="test", confirm_warnings=True)
        with pytest.raises(ActionRefused, match="already on a shipment"):
            ship_order(order_id, [PackageInput("1zsame", "Standard", {"1": 1}, "UPS")],
                       utcnow(), by=None, actor="test", confirm_warnings=True)


def test_retry_never_redirects_off_site(app, signed_in, client, shop):
    """Retry's `next` goes only to a path on this site."""
    signed_in("operator")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)
    from webapp.extensions import db
    from webapp.models import SyncTask
    with app.app_context():
        task_id = db.session.scalars(select(SyncTask)).first().id
    response = client.post(f"/sync/tasks/{task_id}/retry",
                           data={"csrf_token": token, "next": "/\\evil.example"})
    assert response.status_code == 303 and "evil" not in response.headers["Location"]


def test_viewers_cannot_ship(app, signed_in, client, shop):
    """A viewer sees no Ship form and a POST is refused."""
    order_id, _po, _qty = _find(app)
    signed_in("viewer")
    html = client.get(f"/orders/{order_id}").text
    assert "Add tracking number" not in html and ">Ship</button>" not in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert client.post(f"/orders/{order_id}/ship", data={"csrf_token": token}).status_code == 403


def test_every_shipment_reaches_walmart_exactly_once_under_faults(app, shop, runner,
                                                                    redis_url):
    """30% of shipping answers lost after Walmart applied them, a worker killed mid-call, and
    the queue flushed with shipments pending: each shipment is at Walmart exactly once."""
    from sqlalchemy import update

    from webapp.extensions import db
    from webapp.models import Order, SyncTask
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order
    from webapp.services.sync.engine import claim

    _store_id, seller = shop
    app.config.update(WALMART_READ_TIMEOUT=0.7, SYNC_BACKOFF_BASE=0.2, SYNC_BACKOFF_CAP=1.0)
    control.set_faults(seller.sim.conn, "shipping", timeout_after_rate=0.3, hang_seconds=1.2)
    shipped = {}
    with app.app_context():
        orders = db.session.scalars(select(Order).where(Order.intent_to_cancel.is_(False))
                                    .order_by(Order.id).limit(25)).unique().all()
        for n, order in enumerate(orders):
            number = f"1ZFAULT{n:011d}"
            ship_order(order.id, [PackageInput(number, "Standard",
                                               {x.line_number: x.open_qty for x in order.lines},
                                               "UPS")], utcnow(), by=None, actor="test",
                       confirm_warnings=True)
            shipped[order.purchase_order_id] = number
        first = db.session.scalars(select(SyncTask).where(SyncTask.kind == "ship")
                                   .order_by(SyncTask.id)).first()
        assert claim(first.id, utcnow())  # a worker took it and was killed
        db.session.execute(update(SyncTask).where(SyncTask.id == first.id)
                           .values(lease_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    Redis.from_url(redis_url).flushdb()  # every queued job is gone
    result = runner.invoke(args=["sync", "drain", "--timeout", "120"])
    assert result.exit_code == 0, result.output
    calls = [r for r in seller.requests() if r["endpoint"] == "shipping" and r["status"] == 200]
    per_po = {}
    for call in calls:
        po = re.search(r"/v3/orders/(\d+)/shipping", call["path"]).group(1)
        per_po[po] = per_po.get(po, 0) + 1
    assert per_po == {po: 1 for po in shipped}
    for po, number in shipped.items():
        numbers = {t for _s, _q, t, _c in _walmart_line(seller, po)}
        assert numbers == {number}


def test_ship_time_is_read_in_the_team_time_zone(app, signed_in, client, shop):
    """The form's date and time are the team's local time, stored in UTC."""
    from webapp.extensions import db
    from webapp.models import Shipment

    app.config["TIMEZONE"] = "America/New_York"
    order_id, _po, _qty = _find(app)
    signed_in("operator")
    data = _form(client, order_id)
    local = datetime.now(ZoneInfo("America/New_York")) - timedelta(minutes=30)
    data.update({"packages-0-carrier": "UPS", "packages-0-tracking_number": "1Z999AA10123456784",
                 "ship_time": local.strftime("%Y-%m-%dT%H:%M")})
    assert client.post(f"/orders/{order_id}/ship", data=data).status_code == 303
    with app.app_context():
        stored = db.session.scalars(select(Shipment)).one().ship_time
    assert abs((stored - local.replace(second=0, microsecond=0)).total_seconds()) < 1


def test_tracking_can_be_corrected_within_walmarts_window(app, signed_in, client, shop,
                                                          worker):
    """A synced shipment's tracking number is corrected at Walmart (PARTIAL_UPDATE) within
    4 hours; after that the correction is refused."""
    from sqlalchemy import update

    from webapp.extensions import db
    from webapp.models import ShipmentPackage, SyncTask
    from webapp.models.base import utcnow
    from webapp.services.errors import ActionRefused
    from webapp.services.shipping.ship import PackageInput, ship_order
    from webapp.services.shipping.tracking_correction import correct_tracking

    _store_id, seller = shop
    order_id, po, qty = _find(app)
    with app.app_context():
        ship_order(order_id, [PackageInput("1Z999AA10123456784", "Standard", {"1": qty}, "UPS")],
                   utcnow(), by=None, actor="test")
    worker()
    signed_in("operator")
    html = client.get(f"/orders/{order_id}").text
    assert "Correct tracking" in html
    package_id = re.search(r'action="/packages/(\d+)/correct"', html).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post(f"/packages/{package_id}/correct", data={
        "csrf_token": token, "carrier": "FedEx", "tracking_number": "123456789012"})
    assert response.status_code == 303
    worker()
    assert _walmart_line(seller, po) == [("Shipped", qty, "123456789012", "FedEx")]
    with app.app_context():
        task = db.session.scalars(select(SyncTask).order_by(SyncTask.id.desc())).first()
        assert task.state == "synced"
        assert task.payload["orderShipment"]["processMode"] == "PARTIAL_UPDATE"
        db.session.execute(update(SyncTask).values(synced_at=utcnow() - timedelta(hours=5)))
        db.session.commit()
        package = db.session.scalars(select(ShipmentPackage)).one()
        with pytest.raises(ActionRefused, match="within 4 hours"):
            correct_tracking(package.id, "UPS", None, None, "1Z999AA10123456785", by=None)


def _upload(client, text: str, confirm: bool = False):
    import io

    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/orders/ship-upload").text).group(1)
    if confirm:
        return client.post("/orders/ship-upload", data={"csrf_token": token, "csv": text,
                                                        "confirm": "1"})
    return client.post("/orders/ship-upload", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(text.encode("utf-8-sig")), "t.csv")})


def test_bulk_upload_previews_then_ships(app, signed_in, client, shop, worker):
    """A CSV is checked and previewed without shipping anything; confirming ships every order
    through the same engine."""
    _store_id, seller = shop
    one_id, one_po, one_qty = _find(app, want_qty=1)
    two_id, two_po, two_qty = _find(app, want_qty=2)
    from webapp.extensions import db
    from webapp.models import Order
    with app.app_context():
        two_number = db.session.get(Order, two_id).number
    text = ("Order,Line,Quantity,Carrier,Method,Tracking Number,Tracking URL\n"
            f"{one_po},1,{one_qty},UPS,,1Z999AA10123456784,\n"
            f"{two_number},1,1,FedEx,Express,123456789012,\n"
            f"{two_number},1,1,Local Courier,,LC1,https://lc.example/LC1\n")
    signed_in("operator")
    preview = _upload(client, text)
    assert preview.status_code == 200 and "Create shipments" in preview.text
    assert "2 order(s) will ship" in preview.text and _shipments(app) == 0
    done = _upload(client, text, confirm=True)
    assert done.status_code == 303 and "/orders/ship-upload/" in done.location
    result = client.get(done.location).text
    assert result.count('<span class="tag ok">Shipped</span>') == 2
    worker()
    assert _walmart_line(seller, one_po) == [("Shipped", one_qty, "1Z999AA10123456784", "UPS")]
    assert sorted(t for _s, _q, t, _c in _walmart_line(seller, two_po)) == [
        "123456789012", "LC1"]


@pytest.mark.parametrize("row, message", [
    ("nope,1,1,UPS,,1Z999AA10123456784,", "No order nope."),
    ("{po},9,1,UPS,,1Z999AA10123456784,", "has no line 9"),
    ("{po},1,0,UPS,,1Z999AA10123456784,", "Quantity must be a whole number"),
    ("{po},1,99,UPS,,1Z999AA10123456784,", "the file ships 99"),
    ("{po},1,1,Bob,,X1,", "give its tracking URL"),
    ("{po},1,1,UPS,Ground,1Z999AA10123456784,", "Method must be one of"),
    ("{po},1,1,UPS,,,", "Tracking number is empty."),
    ("{po},1,1,UPS,,{po},", "own number, not a tracking number"),
])
def test_bulk_upload_errors_ship_nothing(app, signed_in, client, shop, row, message):
    """Each bad row is reported in the preview, and nothing ships, not even the good rows."""
    _id, po, qty = _find(app, want_qty=1)
    other_id, other_po, _ = _find(app, want_qty=2)
    text = ("order,line,quantity,carrier,method,tracking number,tracking url\n"
            f"{other_po},1,1,UPS,,1Z999AA10123456700,\n" + row.format(po=po) + "\n")
    signed_in("operator")
    preview = _upload(client, text)
    assert preview.status_code == 422 and message in preview.text
    assert "Create shipments" not in preview.text
    refused = _upload(client, text, confirm=True)
    assert refused.status_code == 422 and _shipments(app) == 0
