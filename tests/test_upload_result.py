"""A tracking upload says per order what it did — Shipped, or Partially Shipped when units are
left — in the preview and in the result, links each order, and follows each shipment to
Walmart (the result polls until they settle); the result has its own address, so a reload
shows it again and ships nothing twice."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from simulator import control
from tests.conftest import csrf_from

HX = {"HX-Request": "true"}


def _orders(app, quantity: int, count: int) -> list[tuple[int, str, str]]:
    """(id, number, purchase order id) of open single-line orders of `quantity` units."""
    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        found = [(o.id, o.number, o.purchase_order_id)
                 for o in db.session.scalars(select(Order).where(
                     Order.status == "Open", Order.intent_to_cancel.is_(False))
                     .order_by(Order.id)).unique()
                 if len(o.lines) == 1 and o.lines[0].quantity == quantity]
    assert len(found) >= count, "the shop has too few such orders"
    return found[:count]


def _check(client, text: str):
    token = csrf_from(client.get("/orders/ship-upload").text)
    return client.post("/orders/ship-upload", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(text.encode()), "tracking.csv")})


def _confirm(client, text: str):
    token = csrf_from(client.get("/orders/ship-upload").text)
    return client.post("/orders/ship-upload", data={"csrf_token": token, "csv": text,
                                                    "confirm": "1"})


def _row(html: str, prefix: str, order_id: int) -> str:
    return re.search(rf'<tr id="{prefix}-{order_id}".*?</tr>', html, re.S).group(0)


def _shipments(app) -> int:
    from webapp.extensions import db
    from webapp.models import Shipment

    with app.app_context():
        return db.session.scalar(select(func.count(Shipment.id)))


def _poll_url(html: str) -> str | None:
    found = re.search(r'hx-get="([^"]*poll=1[^"]*)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_partly_and_fully_shipped_orders_read_as_such_and_are_followed_to_walmart(
        app, signed_in, client, shop, worker):
    (part_id, part, _p1), = _orders(app, 2, 1)
    (full_id, full, _p2), = _orders(app, 1, 1)
    text = ("order,line,quantity,carrier,tracking number\n"
            f"{part},1,1,UPS,1Z999AA10123456784\n"
            f"{full},1,1,FedEx,123456789012\n")
    signed_in("operator")
    preview = _check(client, text).text
    planned = _row(preview, "plan-order", part_id)
    assert "Partially Shipped" in planned and f'href="/orders/{part_id}"' in planned
    assert re.search(r'class="num">1</td>', planned)  # one unit left to ship after the file
    planned = _row(preview, "plan-order", full_id)
    assert '<span class="tag ok">Shipped</span>' in planned and "Partially" not in planned
    assert f'<a href="/orders/{full_id}">{full}</a>' in preview  # the rows link too
    assert _shipments(app) == 0

    done = _confirm(client, text)
    assert done.status_code == 303
    result = client.get(done.location).text
    row = _row(result, "upload-order", part_id)
    assert "Partially Shipped" in row and "1 left to ship" in row
    assert f'href="/orders/{part_id}"' in row and "Sending to Walmart" in row
    row = _row(result, "upload-order", full_id)
    assert '<span class="tag ok">Shipped</span>' in row and "Sending to Walmart" in row
    poll = _poll_url(result)
    assert poll and 'id="upload-result"' in result
    assert client.get(poll, headers=HX).status_code == 204  # nothing changed yet

    worker()
    settled = client.get(poll, headers=HX)
    assert settled.status_code == 286  # every shipment settled: the poll stops
    assert settled.text.lstrip().startswith('<section id="upload-result"')
    assert settled.text.count('<span class="tag ok">Synced</span>') == 2
    assert _poll_url(settled.text) is None
    again = client.get(done.location)  # a reload: the same result, nothing shipped again
    assert again.status_code == 200 and _shipments(app) == 2
    assert again.text.count('<span class="tag ok">Synced</span>') == 2


def test_a_refused_order_and_a_failed_shipment_say_so(app, signed_in, client, shop, worker):
    """Walmart refuses one shipment (Error, with its message and the way to the order); an
    order a colleague shipped between check and confirm is refused while the others ship; when
    every order is refused (the store switched read-only meanwhile) nothing is recorded and the
    preview says why."""
    from webapp.extensions import db
    from webapp.models import Store, TrackingUpload

    store_id, seller = shop
    (one_id, one, _po1), (two_id, two, _po2), (three_id, three, _po3) = _orders(app, 1, 3)
    text = ("order,line,quantity,carrier,tracking number\n"
            f"{one},1,1,UPS,1Z999AA10123456784\n")
    signed_in("operator")
    control.set_faults(seller.sim.conn, "shipping", reject_rate=1.0)
    result = client.get(_confirm(client, text).location).text
    worker()
    failed = client.get(_poll_url(result), headers=HX)
    assert failed.status_code == 286
    row = _row(failed.text, "upload-order", one_id)
    assert '<span class="tag bad">Error</span>' in row and "Retry it on the order" in row
    control.clear_faults(seller.sim.conn)

    text = ("order,line,quantity,carrier,tracking number,tracking url\n"  # a carrier too long
            f"{two},1,1,{'C' * 121},T1,https://track.example/T1\n"      # to store: refused
            f"{three},1,1,UPS,1Z999AA10123456786,\n")
    result = client.get(_confirm(client, text).location).text
    row = _row(result, "upload-order", two_id)
    assert '<span class="tag bad">Refused</span>' in row
    assert "Shipped" in _row(result, "upload-order", three_id)
    assert "1 refused" in result and _shipments(app) == 2

    with app.app_context():
        db.session.get(Store, store_id).read_only = True
        db.session.commit()
        uploads = db.session.query(TrackingUpload).count()
    (four_id, four, _po4), = _orders(app, 1, 1)
    text = f"order,line,quantity,carrier,tracking number\n{four},1,1,UPS,1Z999AA10123456788\n"
    refused = _confirm(client, text)
    assert refused.status_code == 422 and "Nothing was shipped" in refused.text
    assert "read-only" in refused.text
    with app.app_context():
        assert db.session.query(TrackingUpload).count() == uploads
    assert _shipments(app) == 2


def test_an_upload_result_is_for_operators_and_must_exist(app, signed_in, client, auth, shop):
    signed_in("viewer")
    assert client.get("/orders/ship-upload/1").status_code == 403
    auth.logout()
    signed_in("operator")
    assert client.get("/orders/ship-upload/999999").status_code == 404


def test_a_refused_upload_shipment_corrected_is_followed_to_its_new_attempt(
        app, signed_in, client, shop, worker):
    """A shipment of the upload that Walmart refused offers Correct and send again; once
    corrected, the result follows the new attempt (polling again) until Walmart has it —
    not the refused one, closed as corrected."""
    from webapp.extensions import db
    from webapp.models import SyncTask
    from webapp.models.base import utcnow
    from webapp.services.shipping.correcting import correct_shipment
    from webapp.services.shipping.ship import PackageInput

    _store_id, seller = shop
    (one_id, one, _po), = _orders(app, 1, 1)
    signed_in("operator")
    control.set_faults(seller.sim.conn, "shipping", reject_rate=1.0)
    text = f"order,line,quantity,carrier,tracking number\n{one},1,1,UPS,1Z999AA10123456784\n"
    location = _confirm(client, text).location
    worker()
    control.clear_faults(seller.sim.conn)
    failed = client.get(location).text
    row = _row(failed, "upload-order", one_id)
    assert "Correct and send again" in row and _poll_url(failed) is None
    with app.app_context():
        refused = db.session.scalars(select(SyncTask).where(SyncTask.order_id == one_id,
                                                            SyncTask.state == "error")).one()
        correct_shipment(refused.id, [PackageInput("1Z999AA10123456799", "Standard",
                                                   {"1": 1}, "UPS")], utcnow(), by=None)
    following = client.get(location).text
    assert "Sending to Walmart" in _row(following, "upload-order", one_id)
    assert _poll_url(following)  # follows the new attempt
    worker()
    settled = client.get(_poll_url(following), headers=HX)
    assert settled.status_code == 286
    assert '<span class="tag ok">Synced</span>' in _row(settled.text, "upload-order", one_id)
