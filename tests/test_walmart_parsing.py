"""Parsing Walmart's answers: tolerant of nulls and unknown fields, strict on required ones."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from webapp.walmart import schema
from webapp.walmart.errors import MalformedResponse
from webapp.walmart.responses import error_details, parse_replenish_time

# walmart-api.md §9: the worked example, as a client receives it.
EXAMPLE = json.loads((Path(__file__).parent / "contract" / "worked_example_order.json")
                     .read_text())


class FakeResponse:
    """Just enough of a response for the error-body parser (no HTTP involved)."""

    def __init__(self, body: str) -> None:
        self.text = body

    def json(self):
        return json.loads(self.text)


def test_worked_example_parses_with_its_buckets():
    """The reference order parses: partial shipment buckets, tracking, money, dates."""
    order = schema.parse_single_order(EXAMPLE)
    line = order.lines[0]
    assert (order.purchase_order_id, line.sku, line.quantity) == ("108800000000123",
                                                                  "WIDGET-01", 3)
    assert (line.quantity_in("Shipped"), line.quantity_in("Acknowledged")) == (2, 1)
    shipped = [s for s in line.statuses if s.status == "Shipped"][0]
    assert shipped.tracking.carrier == "UPS" and shipped.tracking.number == "1Z999AA10123456784"
    assert (line.product_total, line.tax_total) == (Decimal("19.99"), Decimal("1.60"))
    assert order.order_date == datetime(2024, 6, 20, 8, 0, tzinfo=UTC)
    assert order.address.address2 is None


def test_unknown_fields_and_explicit_nulls_are_tolerated():
    """New fields Walmart adds, and nulls where optional values go, change nothing."""
    body = copy.deepcopy(EXAMPLE)
    body["order"]["brandNewField"] = {"x": 1}
    line = body["order"]["orderLines"]["orderLine"][0]
    line.update({"refund": None, "intentToCancel": None, "fulfillment": None, "somethingNew": 1})
    line["charges"]["charge"][1]["tax"] = None
    assert schema.parse_single_order(body).lines[0].refunded_amount == Decimal("0")


@pytest.mark.parametrize("path, field", [
    (("purchaseOrderId",), "order.purchaseOrderId"),
    (("shippingInfo", "postalAddress", "postalCode"),
     "order[108800000000123].shippingInfo.postalAddress.postalCode"),
    (("orderLines", "orderLine", 0, "item", "sku"), "order[108800000000123].orderLine[1].item.sku"),
    (("orderDate",), "order[108800000000123].orderDate"),
])
def test_a_missing_required_field_is_named(path, field):
    """A required field that is missing (or null) raises an error naming it."""
    body = copy.deepcopy(EXAMPLE)
    target = body["order"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = None
    with pytest.raises(MalformedResponse) as caught:
        schema.parse_single_order(body)
    assert caught.value.field == field


def test_one_broken_order_does_not_spoil_its_page():
    """A page with a malformed order returns the good ones and reports the bad one."""
    good = copy.deepcopy(EXAMPLE["order"])
    bad = copy.deepcopy(EXAMPLE["order"])
    bad["purchaseOrderId"] = "222"
    del bad["orderLines"]
    page = schema.parse_order_list({"list": {"meta": {"totalCount": 2, "nextCursor": None},
                                             "elements": {"order": [good, bad]}}})
    assert [o.purchase_order_id for o in page.orders] == ["108800000000123"]
    assert [(po, exc.field) for po, exc, _raw in page.failures] == [
        ("222", "order[222].orderLines")]


@pytest.mark.parametrize("body, expected", [
    ('{"errors": {"error": [{"code": "INVALID_REQUEST_CONTENT.GMP_ORDER_API", "field": "data",'
     ' "description": "Qty OverShipped", "info": "Request content is invalid."}]}}',
     ("INVALID_REQUEST_CONTENT.GMP_ORDER_API", "data", "Qty OverShipped",
      "Request content is invalid.")),
    ('{"errors": {"error": {"code": "X.GMP_ORDER_API", "field": "f", "description": "one"}}}',
     ("X.GMP_ORDER_API", "f", "one", None)),
    ('{"error": [{"code": "UNAUTHORIZED.GMP_GATEWAY_API", "description": "bad token"}]}',
     ("UNAUTHORIZED.GMP_GATEWAY_API", None, "bad token", None)),
    ('{"errors": [{"code": "INVALID_REQUEST", "message": "sketch form", "field": "sku"}]}',
     ("INVALID_REQUEST", "sku", "sketch form", None)),
    ("<ns4:errors><ns4:error><ns4:code>INVALID_REQUEST_CONTENT.GMP_ORDER_API</ns4:code>"
     "<ns4:field>data</ns4:field><ns4:description>The Line: 4 of PO: 1 is in SHIPPED status"
     "</ns4:description></ns4:error></ns4:errors>",
     ("INVALID_REQUEST_CONTENT.GMP_ORDER_API", "data",
      "The Line: 4 of PO: 1 is in SHIPPED status", None)),
    ("Service Unavailable", (None, None, "Service Unavailable", None)),
])
def test_every_error_body_shape_is_read(body, expected):
    """Walmart's three JSON error shapes, its XML one and a bare text all yield code/field/text."""
    assert error_details(FakeResponse(body)) == expected


@pytest.mark.parametrize("value, expected_seconds", [
    ("1800000005000", 5), ("1800000005", 5), ("5", 5), ("2027-01-15T08:00:05Z", 5),
    ("Fri, 15 Jan 2027 08:00:05 GMT", 5),
])
def test_replenish_time_in_any_format(value, expected_seconds):
    """Walmart's replenish header is read as epoch ms, epoch s, seconds, ISO time or an HTTP
    date (RFC 7231)."""
    now = datetime.fromtimestamp(1_800_000_000, UTC)
    if "2027" in value:
        now = datetime(2027, 1, 15, 8, 0, 0, tzinfo=UTC)
    for name in ("X-Next-Replenishment-Time", "x-next-replenish-time"):
        moment = parse_replenish_time({name: value}, now=now)
        assert moment - now == timedelta(seconds=expected_seconds)
    assert parse_replenish_time({}, now=now) is None


@pytest.mark.parametrize("value", [
    "1900000000000", "1900000000", "86400", "2030-01-01T00:00:00Z",
    "Tue, 01 Jan 2030 00:00:00 GMT", "1e30",
])
def test_far_future_replenish_time_is_capped_at_the_window(value):
    """A replenish time beyond Walmart's 60 s window, in any format, means 60 s from now."""
    now = datetime.fromtimestamp(1_800_000_000, UTC)
    assert parse_replenish_time({"X-Next-Replenishment-Time": value}, now=now) == \
        now + timedelta(seconds=60)


@pytest.mark.parametrize("value", ["soon", "nan", "inf", "Sun, 99 Foo 2026"])
def test_unreadable_replenish_time_is_none(value):
    """A replenish header that is no time at all is ignored (the caller's default applies)
    rather than failing the call."""
    now = datetime.fromtimestamp(1_800_000_000, UTC)
    assert parse_replenish_time({"X-Next-Replenishment-Time": value}, now=now) is None
