"""Walmart responses parsed into our own typed objects.

Tolerant of explicit nulls and unknown fields; strict on required fields, naming the missing one.
Plain slotted dataclasses, not frozen ones: those take twice as long to build, and an import
builds hundreds of thousands. Nothing changes them after parsing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from webapp.walmart.errors import MalformedResponse


def _req(data: Any, key: str, where: str) -> Any:
    value = data.get(key) if isinstance(data, dict) else None
    if value is None or value == "":
        raise MalformedResponse(f"Walmart's response lacks {where}.{key}", field=f"{where}.{key}")
    return value


def _obj(data: Any, key: str) -> dict:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _list(data: Any, *path: str) -> list:
    """Follow `path` through dicts; a single object where a list belongs becomes a list."""
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    if data is None:
        return []
    return data if isinstance(data, list) else [data]


def _ms(value: Any, where: str, required: bool = True) -> datetime | None:
    if value is None:
        if required:
            raise MalformedResponse(f"Walmart's response lacks {where}", field=where)
        return None
    try:
        if isinstance(value, str) and not value.lstrip("-").isdigit():
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (TypeError, ValueError, OverflowError) as exc:
        raise MalformedResponse(f"{where} is not a timestamp: {value!r}", field=where) from exc


def _int(value: Any, where: str) -> int:
    try:
        return int(Decimal(str(value)))
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise MalformedResponse(f"{where} is not a quantity: {value!r}", field=where) from exc


def _money(data: Any, where: str, amount_key: str = "amount") -> Decimal:
    value = data.get(amount_key) if isinstance(data, dict) else None
    if value is None:
        return Decimal("0")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise MalformedResponse(f"{where} is not an amount: {value!r}", field=where) from exc


@dataclass(slots=True)
class Tracking:
    ship_time: datetime | None
    carrier: str | None
    other_carrier: str | None
    method_code: str | None
    number: str
    url: str | None


@dataclass(slots=True)
class LineStatus:
    status: str
    quantity: int
    cancellation_reason: str | None = None
    tracking: Tracking | None = None


@dataclass(slots=True)
class Charge:
    charge_type: str
    name: str
    amount: Decimal
    currency: str
    tax: Decimal


@dataclass(slots=True)
class OrderLine:
    line_number: str
    sku: str
    product_name: str
    quantity: int
    status_date: datetime | None
    statuses: tuple[LineStatus, ...]
    charges: tuple[Charge, ...]
    intent_to_cancel: bool = False
    seller_order_id: str | None = None
    return_order_id: str | None = None
    refunded_amount: Decimal = Decimal("0")
    # returnCenterAddress from the line's statuses: name and address (never its phone or
    # e-mail), as Walmart spells the keys.
    return_center: dict | None = None

    def quantity_in(self, status: str) -> int:
        return sum(s.quantity for s in self.statuses if s.status == status)

    @property
    def product_total(self) -> Decimal:
        """The line's PRODUCT charges (the price of its quantity)."""
        return sum((c.amount for c in self.charges if c.charge_type == "PRODUCT"), Decimal("0"))

    @property
    def shipping_total(self) -> Decimal:
        return sum((c.amount for c in self.charges if c.charge_type == "SHIPPING"), Decimal("0"))

    @property
    def tax_total(self) -> Decimal:
        return sum((c.tax for c in self.charges), Decimal("0"))


@dataclass(slots=True)
class Address:
    name: str
    address1: str
    address2: str | None
    city: str
    state: str
    postal_code: str
    country: str
    address_type: str | None


@dataclass(slots=True)
class PurchaseOrder:
    purchase_order_id: str
    customer_order_id: str
    customer_email: str | None
    order_date: datetime
    phone: str | None
    estimated_ship_date: datetime | None
    estimated_delivery_date: datetime | None
    method_code: str | None
    address: Address
    lines: tuple[OrderLine, ...]
    raw: dict = field(repr=False, compare=False, default_factory=dict)
    # The id of the node it ships from (shipNode.id); None when Walmart names none.
    ship_node: str | None = None

    def line(self, number: str) -> OrderLine | None:
        return next((line for line in self.lines if line.line_number == str(number)), None)


@dataclass(slots=True)
class OrderPage:
    orders: tuple[PurchaseOrder, ...]
    next_cursor: str | None
    total_count: int | None
    # Orders on the page that could not be parsed: (purchaseOrderId or None, error, raw).
    failures: tuple[tuple[str | None, MalformedResponse, dict], ...] = ()


def _tracking(data: dict, where: str) -> Tracking | None:
    if not data:
        return None
    carrier = _obj(data, "carrierName")
    return Tracking(
        ship_time=_ms(data.get("shipDateTime"), f"{where}.shipDateTime", required=False),
        carrier=carrier.get("carrier"), other_carrier=carrier.get("otherCarrier"),
        method_code=data.get("methodCode"),
        number=str(_req(data, "trackingNumber", where)), url=data.get("trackingURL"))


RETURN_CENTER_FIELDS = ("name", "address1", "address2", "city", "state", "postalCode", "country")


def _return_center(entries: list) -> dict | None:
    """The first returnCenterAddress among a line's statuses that has an address."""
    for entry in entries:
        found = _obj(entry, "returnCenterAddress") if isinstance(entry, dict) else {}
        address = {key: found[key].replace("\x00", "").strip()[:200]
                   for key in RETURN_CENTER_FIELDS
                   if isinstance(found.get(key), str) and found[key].strip()}
        if address.get("address1"):
            return address
    return None


def parse_line(data: dict, where: str = "orderLine") -> OrderLine:
    number = str(_req(data, "lineNumber", where))
    where = f"{where}[{number}]"
    item = _req(data, "item", where)
    statuses = []
    for i, entry in enumerate(_list(data, "orderLineStatuses", "orderLineStatus")):
        at = f"{where}.orderLineStatus[{i}]"
        quantity = _req(entry, "statusQuantity", at)
        statuses.append(LineStatus(
            status=str(_req(entry, "status", at)),
            quantity=_int(_req(quantity, "amount", f"{at}.statusQuantity"),
                          f"{at}.statusQuantity.amount"),
            cancellation_reason=entry.get("cancellationReason"),
            tracking=_tracking(_obj(entry, "trackingInfo"), f"{at}.trackingInfo")))
    charges = []
    for i, charge in enumerate(_list(data, "charges", "charge")):
        at = f"{where}.charge[{i}]"
        money = _obj(charge, "chargeAmount")
        charges.append(Charge(
            charge_type=str(_req(charge, "chargeType", at)),
            name=str(charge.get("chargeName") or ""),
            amount=_money(money, f"{at}.chargeAmount"),
            currency=str(money.get("currency") or "USD"),
            tax=_money(_obj(_obj(charge, "tax"), "taxAmount"), f"{at}.tax")))
    refunded = Decimal("0")
    refund = _obj(data, "refund")
    for entry in _list(refund, "refundCharges", "refundCharge"):
        charge = _obj(entry, "charge")
        refunded += -_money(_obj(charge, "chargeAmount"), f"{where}.refund")
        refunded += -_money(_obj(_obj(charge, "tax"), "taxAmount"), f"{where}.refund.tax")
    quantity = _req(data, "orderLineQuantity", where)
    return OrderLine(
        line_number=number, sku=str(_req(item, "sku", f"{where}.item")),
        product_name=str(item.get("productName") or ""),
        quantity=_int(_req(quantity, "amount", f"{where}.orderLineQuantity"),
                      f"{where}.orderLineQuantity.amount"),
        status_date=_ms(data.get("statusDate"), f"{where}.statusDate", required=False),
        statuses=tuple(statuses), charges=tuple(charges),
        intent_to_cancel=bool(data.get("intentToCancel")) and
        str(data.get("intentToCancel")).lower() not in ("false", "no", "n"),
        seller_order_id=data.get("sellerOrderId"), return_order_id=data.get("returnOrderId"),
        refunded_amount=refunded,
        return_center=_return_center(_list(data, "orderLineStatuses", "orderLineStatus")))


def _ship_node(data: dict) -> str | None:
    """shipNode {type, name, id}: the id (a string, though a number is read too)."""
    node = _obj(data, "shipNode").get("id")
    if isinstance(node, bool) or not isinstance(node, str | int):
        return None
    return str(node).strip() or None


def parse_order(data: dict) -> PurchaseOrder:
    """One purchase order; MalformedResponse names the first missing required field."""
    if not isinstance(data, dict):
        raise MalformedResponse("an order is not a JSON object")
    po = str(_req(data, "purchaseOrderId", "order"))
    where = f"order[{po}]"
    shipping = _req(data, "shippingInfo", where)
    postal = _req(shipping, "postalAddress", f"{where}.shippingInfo")
    at = f"{where}.shippingInfo.postalAddress"
    lines = _list(data, "orderLines", "orderLine")
    if not lines:
        raise MalformedResponse(f"{where} has no orderLines", field=f"{where}.orderLines")
    return PurchaseOrder(
        purchase_order_id=po,
        customer_order_id=str(_req(data, "customerOrderId", where)),
        customer_email=data.get("customerEmailId"),
        order_date=_ms(_req(data, "orderDate", where), f"{where}.orderDate"),
        phone=shipping.get("phone"),
        estimated_ship_date=_ms(shipping.get("estimatedShipDate"),
                                f"{where}.estimatedShipDate", required=False),
        estimated_delivery_date=_ms(shipping.get("estimatedDeliveryDate"),
                                    f"{where}.estimatedDeliveryDate", required=False),
        method_code=shipping.get("methodCode"),
        address=Address(
            name=str(_req(postal, "name", at)), address1=str(_req(postal, "address1", at)),
            address2=postal.get("address2"), city=str(_req(postal, "city", at)),
            state=str(_req(postal, "state", at)), postal_code=str(_req(postal, "postalCode", at)),
            country=str(postal.get("country") or "USA"), address_type=postal.get("addressType")),
        lines=tuple(parse_line(line, f"{where}.orderLine") for line in lines),
        raw=data, ship_node=_ship_node(data))


def parse_order_list(body: dict) -> OrderPage:
    """A page of orders; an order that cannot be parsed is reported, not fatal to the page."""
    if not isinstance(body, dict) or not isinstance(body.get("list"), dict):
        raise MalformedResponse("Walmart's order list lacks its 'list' envelope", field="list")
    meta = _obj(body["list"], "meta")
    orders, failures = [], []
    for raw in _list(body["list"], "elements", "order"):
        try:
            orders.append(parse_order(raw))
        except MalformedResponse as exc:
            po = raw.get("purchaseOrderId") if isinstance(raw, dict) else None
            failures.append((str(po) if po else None, exc, raw if isinstance(raw, dict) else {}))
    total = meta.get("totalCount")
    return OrderPage(orders=tuple(orders), next_cursor=meta.get("nextCursor") or None,
                     total_count=int(total) if isinstance(total, int | str) and
                     str(total).isdigit() else None, failures=tuple(failures))


def parse_single_order(body: dict) -> PurchaseOrder:
    if not isinstance(body, dict) or not isinstance(body.get("order"), dict):
        raise MalformedResponse("Walmart's response lacks 'order'", field="order")
    return parse_order(body["order"])
