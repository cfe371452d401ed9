"""Words where a person reads: cancellation reasons and carrier codes in words on every page,
the CSV export, the CLI and the audit log; the codes stay in what goes to Walmart."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import select

from tests.test_shipping import _form

REASON = "SELLER_CANCEL_OUT_OF_STOCK"


def _open_order(app, walmart_order, shop) -> tuple[int, str, str]:
    """A new one-line order at the shop, acknowledged: (id, PO, number)."""
    from webapp.extensions import db
    from webapp.models import Order

    order_id, po = walmart_order(shop)
    with app.app_context():
        return order_id, po, db.session.get(Order, order_id).number


def _sent(seller, endpoint: str) -> list[dict]:
    return [json.loads(r["body"]) for r in seller.requests()
            if r["endpoint"] == endpoint and r["status"] == 200]


@pytest.mark.parametrize("code, words", [
    ("SELLER_CANCEL_OUT_OF_STOCK", "Out of stock"),
    ("CUSTOMER_REQUESTED_SELLER_TO_CANCEL", "Customer asked to cancel"),
    ("SOMETHING_WALMART_ADDED", "SOMETHING_WALMART_ADDED"),  # unknown: shown as it is
    (None, ""),
])
def test_cancellation_reasons_in_words(code, words):
    """Walmart's five reasons read in words; a code we do not know reads as it came."""
    from webapp.walmart.enums import cancellation_label

    assert cancellation_label(code) == words


@pytest.mark.parametrize("code, words", [
    ("LS", "LaserShip"), ("UDS", "United Delivery Service"), ("UPSMI", "UPS Mail Innovations"),
    ("FEDEXSP", "FedEx SmartPost"), ("UPS", "UPS"), ("Bob's Courier", "Bob's Courier"),
])
def test_carrier_codes_in_words(code, words):
    """Walmart's cryptic carrier codes read as Walmart expands them; names stay as they are."""
    from webapp.walmart.enums import carrier_code, carrier_label

    assert carrier_label(code) == words
    assert carrier_code(words) == (code if code != "Bob's Courier" else None)


def test_the_carrier_select_shows_words_and_sends_the_code(app, signed_in, client, shop,
                                                           walmart_order,
                                                          worker):
    """The Ship form offers LaserShip (value LS), no bare code; shipping with it sends LS to
    Walmart while the order page and the Sync page say LaserShip."""
    _store_id, seller = shop
    order_id, po, number = _open_order(app, walmart_order, shop)
    signed_in("operator")
    html = client.post(f"/orders/{order_id}/ship", headers={"HX-Request": "true"}, data={
        **_form(client, order_id), "add_package": "1"}).text
    select_html = re.search(r'<select[^>]*name="packages-0-carrier".*?</select>', html,
                            re.S).group(0)
    options = dict(re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>',
                              select_html))
    assert options["LS"] == "LaserShip" and options["FEDEXSP"] == "FedEx SmartPost"
    assert options["UDS"] == "United Delivery Service"
    assert options["UPSMI"] == "UPS Mail Innovations" and options["UPS"] == "UPS"
    data = _form(client, order_id)
    data.update({"packages-0-carrier": "LS", "packages-0-tracking_number": "1LS123456789012"})
    assert client.post(f"/orders/{order_id}/ship", data=data).status_code == 303
    worker()
    [body] = _sent(seller, "shipping")
    statuses = body["orderShipment"]["orderLines"]["orderLine"][0]["orderLineStatuses"]
    assert statuses["orderLineStatus"][0]["trackingInfo"]["carrierName"] == {"carrier": "LS"}
    page = client.get(f"/orders/{order_id}").text
    shipments = re.search(r"<h2>Shipments</h2>(.*?)<h2>Sync history</h2>", page, re.S).group(1)
    assert "<td>LaserShip</td>" in shipments
    sync = client.get("/sync/", query_string={"q": number}).text
    assert "shipped, LaserShip 1LS123456789012" in sync


def test_a_carrier_typed_in_words_is_sent_as_its_code(app, shop, walmart_order, worker):
    """Correct tracking (a free text field) with "lasership": Walmart receives LS."""
    from webapp.extensions import db
    from webapp.models import ShipmentPackage
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order
    from webapp.services.shipping.tracking_correction import correct_tracking

    _store_id, seller = shop
    order_id, _po, _number = _open_order(app, walmart_order, shop)
    with app.app_context():
        ship_order(order_id, [PackageInput("1Z999AA10123456784", "Standard", {"1": 1}, "UPS")],
                   utcnow(), by=None, actor="test")
    worker()
    with app.app_context():
        package_id = db.session.scalars(select(ShipmentPackage.id)).one()
        correct_tracking(package_id, "lasership", None, None, "1LS123456789012", by=None)
        assert db.session.get(ShipmentPackage, package_id).carrier == "LS"
    worker()
    sent = _sent(seller, "shipping")[-1]
    status = sent["orderShipment"]["orderLines"]["orderLine"][0]["orderLineStatuses"]
    assert status["orderLineStatus"][0]["trackingInfo"]["carrierName"] == {"carrier": "LS"}


def test_a_cancellation_reads_in_words_everywhere(app, signed_in, client, runner, shop,
                                                  walmart_order,
                                                  worker):
    """Cancelled out of stock: Status details, Payment information, the Sync page's summary,
    the CSV export, the CLI and the Audit log say "Out of stock"; Walmart got the code."""
    _store_id, seller = shop
    order_id, po, number = _open_order(app, walmart_order, shop)
    cli = runner.invoke(args=["orders", "cancel", po, "--reason", REASON])
    assert cli.exit_code == 0 and "(Out of stock)" in cli.output and REASON not in cli.output
    worker()
    [body] = _sent(seller, "cancel")
    assert REASON in json.dumps(body)
    signed_in("admin")
    page = client.get(f"/orders/{order_id}").text
    assert "Reason: Out of stock" in page
    assert "<dt>Cancellation reason</dt><dd>Out of stock</dd>" in page
    assert REASON not in page
    sync = client.get("/sync/", query_string={"q": number}).text
    assert "canceled, reason Out of stock" in sync
    export = client.get("/orders.csv", query_string={"q": po}).text
    [row] = list(csv.DictReader(io.StringIO(export)))
    assert "Reason: Out of stock" in row["Status details"] and REASON not in export
    shown = runner.invoke(args=["orders", "show", po])
    assert "Reason: Out of stock" in shown.output and REASON not in shown.output
    audit = client.get("/audit/", query_string={"action": "order.cancel"}).text
    assert "Out of stock" in audit and REASON not in audit


def test_cli_lists_reasons_with_their_words(app, runner, shop, walmart_order):
    """A wrong --reason lists Walmart's codes (what the option takes), each with its words."""
    _order_id, po, _number = _open_order(app, walmart_order, shop)
    bad = runner.invoke(args=["orders", "cancel", po, "--reason", "CUSTOMER_CHANGED_MIND"])
    assert bad.exit_code != 0
    assert "SELLER_CANCEL_OUT_OF_STOCK (Out of stock)" in bad.output
