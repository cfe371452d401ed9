"""Acknowledge, ship and cancel: the client's payloads and the simulator's rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from simulator import control
from webapp.walmart import DataError, payloads


def _order_with(seller, client, quantity: int | None = None):
    """A released order (optionally one whose first line has `quantity` units), acknowledged."""
    for page in client.iter_pages(released=True):
        for order in page.orders:
            line = order.lines[0]
            if (quantity is None or line.quantity >= quantity) and not line.intent_to_cancel:
                return client.acknowledge(order.purchase_order_id)
    raise AssertionError("no suitable order seeded")


def _package(line: str, qty: int, number: str = "1Z999AA10123456784", **kw) -> payloads.Package:
    kw.setdefault("carrier", "UPS")
    return payloads.Package(number, kw.pop("method", "Standard"), datetime.now(UTC),
                            ((line, qty),), **kw)


def _ship(client, order, *packages, override=False):
    return client.ship(order.purchase_order_id,
                       payloads.shipment(list(packages), "OD-1001", override))


def _error(call) -> DataError:
    with pytest.raises(DataError) as caught:
        call()
    assert caught.value.status == 400
    return caught.value


def test_acknowledge_is_idempotent_until_something_ships(sim):
    """Acknowledging twice is fine; after a shipment Walmart refuses: qty in higher status."""
    seller = sim.seller(seed_orders=5)
    client = seller.client()
    order = _order_with(seller, client)
    again = client.acknowledge(order.purchase_order_id)
    assert {s.status for line in again.lines for s in line.statuses} == {"Acknowledged"}
    _ship(client, order, _package(order.lines[0].line_number, 1))
    error = _error(lambda: client.acknowledge(order.purchase_order_id))
    assert "higher status" in error.description


def test_partial_shipments_split_the_line_into_buckets(sim):
    """A 3-unit line shipped 2 then 1 shows two Shipped buckets with their own tracking."""
    seller = sim.seller(seed_orders=120, seed=3)
    client = seller.client()
    order = _order_with(seller, client, quantity=3)
    line = order.lines[0]
    after = _ship(client, order, _package(line.line_number, 2, "1ZFIRST"))
    statuses = after.line(line.line_number).statuses
    assert {(s.status, s.quantity) for s in statuses} == {("Shipped", 2),
                                                         ("Acknowledged", line.quantity - 2)}
    rest = line.quantity - 2
    final = _ship(client, order, _package(line.line_number, rest, "9400TEST", carrier="USPS"))
    shipped = [(s.quantity, s.tracking.number, s.tracking.carrier)
               for s in final.line(line.line_number).statuses if s.status == "Shipped"]
    assert shipped == [(2, "1ZFIRST", "UPS"), (rest, "9400TEST", "USPS")]
    assert final.line(line.line_number).seller_order_id == "OD-1001"


def test_several_packages_in_one_shipment(sim):
    """One call can carry two tracking numbers for the same line."""
    seller = sim.seller(seed_orders=120, seed=3)
    client = seller.client()
    order = _order_with(seller, client, quantity=2)
    line = order.lines[0].line_number
    after = _ship(client, order, _package(line, 1, "PKGA1"), _package(line, 1, "PKGB2"))
    numbers = [s.tracking.number for s in after.line(line).statuses if s.status == "Shipped"]
    assert numbers == ["PKGA1", "PKGB2"]


def test_over_shipping_is_refused(sim):
    """Shipping more than remains is Walmart's 'Qty OverShipped' 400, and nothing changes."""
    seller = sim.seller(seed_orders=5)
    client = seller.client()
    order = _order_with(seller, client)
    line = order.lines[0]
    error = _error(lambda: _ship(client, order, _package(line.line_number, line.quantity + 1)))
    assert "Qty OverShipped" in error.description and error.code.endswith("GMP_ORDER_API")
    unchanged = client.get_order(order.purchase_order_id)
    assert unchanged.line(line.line_number).quantity_in("Shipped") == 0


def test_reshipping_a_shipped_line_is_refused(sim):
    """Shipping is not idempotent: sending the same shipment twice is a 400."""
    seller = sim.seller(seed_orders=5)
    client = seller.client()
    order = _order_with(seller, client)
    line = order.lines[0]
    _ship(client, order, _package(line.line_number, line.quantity))
    error = _error(lambda: _ship(client, order, _package(line.line_number, line.quantity)))
    assert "is in SHIPPED status" in error.description


def test_shipping_an_unacknowledged_line_is_refused(sim):
    """A line must be acknowledged before it ships."""
    seller = sim.seller(seed_orders=2)
    client = seller.client()
    order = client.released_orders().orders[0]
    error = _error(lambda: _ship(client, order, _package(order.lines[0].line_number, 1),
                                 override=True))
    assert "not acknowledged" in error.description


@pytest.mark.parametrize("tracking, field", [
    ({"carrierName": {"carrier": "Fedex"}}, "carrierName.carrier"),
    ({"methodCode": "Ground"}, "methodCode"),
    ({"carrierName": {"otherCarrier": "Local Courier"}}, "trackingURL"),
    ({"shipDateTime": "2026-11-26T10:00:00Z"}, "shipDateTime"),
])
def test_bad_tracking_is_refused_by_field(sim, tracking, field):
    """Unknown carrier or method, otherCarrier without URL, an ISO ship time: 400 on that field."""
    seller = sim.seller(seed_orders=5)
    client = seller.client()
    order = _order_with(seller, client)
    body = payloads.shipment([_package(order.lines[0].line_number, 1)], "OD-1")
    info = body["orderShipment"]["orderLines"]["orderLine"][0]["orderLineStatuses"][
        "orderLineStatus"][0]["trackingInfo"]
    info.update(tracking)
    if field == "trackingURL":
        info.pop("trackingURL", None)
    assert _error(lambda: client.ship(order.purchase_order_id, body)).field == field


def test_tracking_numbers_walmart_would_not_take_are_refused(sim):
    """Walmart's valid-tracking policy: letters and digits only, and never the order's own
    number — a dash, a space or the purchase order number is refused on trackingNumber, and
    nothing ships; the same number without the dash ships."""
    seller = sim.seller(seed_orders=5)
    client = seller.client()
    order = _order_with(seller, client)
    line = order.lines[0].line_number
    for number in ("1Z999AA1-0123456784", "1Z999 AA10123456784", order.purchase_order_id):
        error = _error(lambda n=number: _ship(client, order, _package(line, 1, n)))
        assert error.field == "trackingNumber", number
    assert client.get_order(order.purchase_order_id).line(line).quantity_in("Shipped") == 0
    shipped = _ship(client, order, _package(line, 1, "1Z999AA10123456784"))
    assert shipped.line(line).quantity_in("Shipped") == 1


def test_quantities_must_be_strings(sim):
    """The Orders API takes quantities as strings; a JSON number is refused."""
    seller = sim.seller(seed_orders=5)
    client = seller.client()
    order = _order_with(seller, client)
    body = payloads.shipment([_package(order.lines[0].line_number, 1)], "OD-1")
    body["orderShipment"]["orderLines"]["orderLine"][0]["orderLineStatuses"][
        "orderLineStatus"][0]["statusQuantity"]["amount"] = 1
    assert _error(lambda: client.ship(order.purchase_order_id, body)).field == \
        "statusQuantity.amount"


def test_buyer_intent_to_cancel_needs_an_explicit_override(sim):
    """A line the buyer asked to cancel ships only with intentToCancelOverride."""
    seller = sim.seller(seed_orders=5)
    client = seller.client()
    order = _order_with(seller, client)
    control.intent_to_cancel(sim.conn, seller.seller_id, order.purchase_order_id)
    line = order.lines[0].line_number
    assert client.get_order(order.purchase_order_id).line(line).intent_to_cancel
    error = _error(lambda: _ship(client, order, _package(line, 1)))
    assert error.field == "intentToCancelOverride"
    after = _ship(client, order, _package(line, 1), override=True)
    assert after.line(line).quantity_in("Shipped") == 1


def test_cancel_with_a_reason_and_refuse_unknown_reasons(sim):
    """Cancelling records Walmart's reason; an invented reason is a 400 on cancellationReason."""
    seller = sim.seller(seed_orders=5)
    client = seller.client()
    order = _order_with(seller, client)
    lines = [(line.line_number, line.quantity) for line in order.lines]
    body = payloads.cancellation(lines, "SELLER_CANCEL_OUT_OF_STOCK")
    body["orderCancellation"]["orderLines"]["orderLine"][0]["orderLineStatuses"][
        "orderLineStatus"][0]["cancellationReason"] = "CUSTOMER_CHANGED_MIND"
    assert _error(lambda: client.cancel(order.purchase_order_id, body)).field == \
        "cancellationReason"
    after = client.cancel(order.purchase_order_id,
                          payloads.cancellation(lines, "SELLER_CANCEL_OUT_OF_STOCK"))
    statuses = [s for line in after.lines for s in line.statuses]
    assert {s.status for s in statuses} == {"Cancelled"}
    assert {s.cancellation_reason for s in statuses} == {"SELLER_CANCEL_OUT_OF_STOCK"}


def test_cancelling_shipped_quantity_is_refused(sim):
    """Units already shipped cannot be cancelled; the rest of a partial line can."""
    seller = sim.seller(seed_orders=120, seed=3)
    client = seller.client()
    order = _order_with(seller, client, quantity=2)
    line = order.lines[0]
    _ship(client, order, _package(line.line_number, 1))
    too_many = payloads.cancellation([(line.line_number, line.quantity)],
                                     "SELLER_CANCEL_PRICING_ERROR")
    assert "SHIPPED" in _error(lambda: client.cancel(order.purchase_order_id, too_many)).description
    rest = payloads.cancellation([(line.line_number, line.quantity - 1)],
                                 "SELLER_CANCEL_PRICING_ERROR")
    after = client.cancel(order.purchase_order_id, rest)
    assert after.line(line.line_number).quantity_in("Cancelled") == line.quantity - 1


def test_cancelling_cancelled_quantity_again_is_refused(sim):
    """Cancelling is not idempotent either: units already cancelled are a 400."""
    seller = sim.seller(seed_orders=5)
    client = seller.client()
    order = _order_with(seller, client)
    lines = [(line.line_number, line.quantity) for line in order.lines]
    body = payloads.cancellation(lines, "SELLER_CANCEL_OUT_OF_STOCK")
    client.cancel(order.purchase_order_id, body)
    error = _error(lambda: client.cancel(order.purchase_order_id, body))
    assert "CANCELLED status" in error.description


def test_payload_builder_refuses_what_walmart_would(sim):
    """We never build a body Walmart's spec forbids: bad carrier, method, reason, quantity."""
    now = datetime.now(UTC)
    for bad in (lambda: payloads.Package("1", "Standard", now, (("1", 1),),
                                         carrier="Fedex").tracking_info(),
                lambda: payloads.Package("1", "Ground", now, (("1", 1),),
                                         carrier="UPS").tracking_info(),
                lambda: payloads.Package("1", "Standard", now, (("1", 1),),
                                         other_carrier="Bob").tracking_info(),
                lambda: payloads.cancellation([("1", 1)], "CHANGED_MIND"),
                lambda: payloads.cancellation([("1", 0)], "SELLER_CANCEL_OUT_OF_STOCK"),
                lambda: payloads.inventory("SKU", -1)):
        with pytest.raises(payloads.PayloadError):
            bad()


def test_buyer_cancellation_delivery_and_auto_cancel_show_in_reads(sim):
    """Changes made at Walmart (buyer cancel, delivery, auto-cancel) appear when read back."""
    seller = sim.seller(seed_orders=6)
    client = seller.client()
    first, second, third = client.released_orders().orders[:3]
    control.buyer_cancel(sim.conn, seller.seller_id, first.purchase_order_id)
    assert {s.cancellation_reason for line in client.get_order(first.purchase_order_id).lines
            for s in line.statuses} == {"CUSTOMER_REQUESTED_SELLER_TO_CANCEL"}
    acked = client.acknowledge(second.purchase_order_id)
    line = acked.lines[0]
    _ship(client, acked, _package(line.line_number, line.quantity))
    control.deliver(sim.conn, seller.seller_id, second.purchase_order_id)
    assert client.get_order(second.purchase_order_id).line(line.line_number).quantity_in(
        "Delivered") == line.quantity
    try:
        cancelled = control.advance_clock(sim.conn, 24 * 8)
        assert cancelled >= 1
        auto = client.get_order(third.purchase_order_id)
        assert {s.status for line in auto.lines for s in line.statuses} == {"Cancelled"}
    finally:
        control.advance_clock(sim.conn, -24 * 8)


NEW_CARRIERS_2026 = ("Aramex", "Xindus", "Spreetail", "P2PG", "UniUni", "GOFO", "SwiftX",
                     "Exelot", "DoorDash", "SpeedX")


def test_the_carriers_walmart_added_in_october_2026_ship(sim):
    """Walmart added ten carriers to the Ship order lines API (developer update, October 30,
    2026): each ships as a carrier of the list, with no tracking URL; a name not on the list
    is still refused."""
    seller = sim.seller(seed_orders=15)
    client = seller.client()
    for i, carrier in enumerate(NEW_CARRIERS_2026):
        order = _order_with(seller, client)  # (acknowledged: the next call finds another)
        line = order.lines[0].line_number
        shipped = _ship(client, order, _package(line, 1, f"NEW{i}TRACK123", carrier=carrier))
        assert shipped.line(line).quantity_in("Shipped") == 1, carrier
    order = _order_with(seller, client)  # a name off the list: Walmart still refuses it
    body = payloads.shipment([_package(order.lines[0].line_number, 1, "NEWX1")], "OD-1")
    body["orderShipment"]["orderLines"]["orderLine"][0]["orderLineStatuses"][
        "orderLineStatus"][0]["trackingInfo"]["carrierName"]["carrier"] = "Uni Uni"
    assert _error(lambda: client.ship(order.purchase_order_id, body)).field == \
        "carrierName.carrier"


def test_orderdeck_offers_the_new_carriers():
    """The Carrier select offers them, and a name typed in any case is sent as Walmart's."""
    from webapp.walmart import enums

    for carrier in NEW_CARRIERS_2026:
        assert carrier in enums.CARRIERS
        assert enums.carrier_code(carrier.lower()) == carrier
