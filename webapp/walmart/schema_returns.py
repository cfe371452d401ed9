"""Walmart returns and inventory responses parsed into our own typed objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from webapp.walmart.errors import MalformedResponse
from webapp.walmart.schema import _int, _list, _money, _ms, _obj, _req


@dataclass(frozen=True)
class ReturnLine:
    return_line_number: int
    purchase_order_id: str | None
    purchase_order_line_number: int | None
    sku: str | None
    product_name: str | None
    reason: str | None
    quantity: int
    refunded_quantity: int
    unit_price: Decimal
    status: str | None
    refund_status: str | None
    refund_channel: str | None
    # What Walmart refunds for the line's whole quantity (None: Walmart gave no charges).
    tax_total: Decimal | None = None
    shipping_total: Decimal | None = None
    line_total: Decimal | None = None


@dataclass(frozen=True)
class ReturnOrder:
    return_order_id: str
    customer_order_id: str
    customer_name: str
    return_order_date: datetime | None
    return_by_date: datetime | None
    total_refund_amount: Decimal
    currency: str
    lines: tuple[ReturnLine, ...]
    raw: dict = field(repr=False, compare=False, default_factory=dict)


@dataclass(frozen=True)
class ReturnPage:
    returns: tuple[ReturnOrder, ...]
    next_cursor: str | None
    total_count: int | None
    failures: tuple[tuple[str | None, MalformedResponse, dict], ...] = ()


@dataclass(frozen=True)
class ReturnRefundResult:
    return_order_id: str
    customer_order_id: str | None
    lines: tuple[tuple[int, int], ...]  # (returnOrderLineNumber, quantity)


@dataclass(frozen=True)
class InventoryLevel:
    sku: str
    amount: int


def _opt_int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and str(value).strip() != "" else None
    except (TypeError, ValueError):
        return None


def _line_amounts(data: dict, quantity: int, unit_price: Decimal, where: str
                  ) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """(tax, shipping, total) Walmart refunds for the line's quantity: its `chargeTotals`
    (lineTotalTaxes, lineShippingFee — the shipping charge it refunds —, lineTotal), else its
    per-unit `charges` times the quantity; (None, None, None) when it gives neither."""
    totals = {t.get("name"): t.get("value") for t in _list(data, "chargeTotals")
              if isinstance(t, dict)}
    if "lineTotal" in totals:
        def total(name: str) -> Decimal:
            return _money(totals.get(name), f"{where}.chargeTotals.{name}", "currencyAmount")
        tax = total("lineTotalTaxes") if "lineTotalTaxes" in totals else \
            total("lineProductTaxes")
        return tax, total("lineShippingFee"), total("lineTotal")
    charges = [c for c in _list(data, "charges") if isinstance(c, dict)]
    if not charges:
        return None, None, None
    price = tax = shipping = Decimal("0")
    for i, charge in enumerate(charges):
        if charge.get("isBillable") is False:
            continue
        sign = -1 if charge.get("isDiscount") else 1
        amount = sign * _money(_obj(charge, "chargePerUnit"),
                               f"{where}.charges[{i}].chargePerUnit", "currencyAmount")
        if str(charge.get("chargeCategory") or "").upper() == "SHIPPING":
            shipping += amount
        else:
            price += amount
        for t in _list(charge, "tax"):
            if isinstance(t, dict):
                tax += sign * _money(_obj(t, "taxPerUnit"), f"{where}.charges[{i}].tax",
                                     "currencyAmount")
    price = price or unit_price
    return tax * quantity, shipping * quantity, (price + tax + shipping) * quantity


def _return_line(data: dict, where: str) -> ReturnLine:
    number = _int(_req(data, "returnOrderLineNumber", where), f"{where}.returnOrderLineNumber")
    where = f"{where}[{number}]"
    item = _obj(data, "item")
    quantity = _obj(data, "quantity")
    tracking = _list(data, "currentTrackingStatuses")
    channels = _list(data, "refundChannels")
    count = _int(quantity.get("measurementValue", 1), f"{where}.quantity")
    unit_price = _money(_obj(data, "unitPrice"), f"{where}.unitPrice", "currencyAmount")
    tax_total, shipping_total, line_total = _line_amounts(data, count, unit_price, where)
    return ReturnLine(
        return_line_number=number,
        purchase_order_id=str(data["purchaseOrderId"]) if data.get("purchaseOrderId") else None,
        purchase_order_line_number=_opt_int(data.get("purchaseOrderLineNumber")),
        sku=item.get("sku"), product_name=item.get("productName"),
        reason=data.get("returnReason"),
        quantity=count, refunded_quantity=_opt_int(data.get("refundedQty")) or 0,
        unit_price=unit_price,
        status=data.get("status") or (tracking[-1].get("status") if tracking else None),
        refund_status=data.get("currentRefundStatus")
        or (tracking[-1].get("currentRefundStatus") if tracking else None),
        refund_channel=data.get("refundChannel")
        or (channels[-1].get("refundChannelName") if channels else None),
        tax_total=tax_total, shipping_total=shipping_total, line_total=line_total)


def _iso(value: Any, where: str) -> datetime | None:
    return _ms(value, where, required=False)


def parse_return(data: dict) -> ReturnOrder:
    if not isinstance(data, dict):
        raise MalformedResponse("a return is not a JSON object")
    rma = str(_req(data, "returnOrderId", "returnOrder"))
    where = f"returnOrder[{rma}]"
    name = _obj(data, "customerName")
    total = _obj(data, "totalRefundAmount")
    return ReturnOrder(
        return_order_id=rma,
        customer_order_id=str(_req(data, "customerOrderId", where)),
        customer_name=" ".join(p for p in (name.get("firstName"), name.get("lastName")) if p),
        return_order_date=_iso(data.get("returnOrderDate"), f"{where}.returnOrderDate"),
        return_by_date=_iso(data.get("returnByDate"), f"{where}.returnByDate"),
        total_refund_amount=_money(total, f"{where}.totalRefundAmount", "currencyAmount"),
        currency=str(total.get("currencyUnit") or "USD"),
        lines=tuple(_return_line(line, f"{where}.returnOrderLines")
                    for line in _list(data, "returnOrderLines")),
        raw=data)


def parse_return_list(body: dict) -> ReturnPage:
    """GET /v3/returns: `{meta, returnOrders}` — no `list` envelope, unlike orders."""
    if not isinstance(body, dict):
        raise MalformedResponse("Walmart's returns list is not a JSON object")
    meta = _obj(body, "meta")
    returns, failures = [], []
    for raw in _list(body, "returnOrders"):
        try:
            returns.append(parse_return(raw))
        except MalformedResponse as exc:
            rma = raw.get("returnOrderId") if isinstance(raw, dict) else None
            failures.append((str(rma) if rma else None, exc, raw if isinstance(raw, dict) else {}))
    return ReturnPage(returns=tuple(returns), next_cursor=meta.get("nextCursor") or None,
                      total_count=_opt_int(meta.get("totalCount")), failures=tuple(failures))


def parse_return_refund(body: dict) -> ReturnRefundResult:
    if not isinstance(body, dict):
        raise MalformedResponse("Walmart's refund answer is not a JSON object")
    lines = []
    for i, line in enumerate(_list(body, "refundLines")):
        quantity = _obj(line, "quantity")
        lines.append((_opt_int(line.get("returnOrderLineNumber")) or 0,
                      _int(quantity.get("measurementValue", 0), f"refundLines[{i}].quantity")))
    return ReturnRefundResult(return_order_id=str(_req(body, "returnOrderId", "refund")),
                              customer_order_id=body.get("customerOrderId"), lines=tuple(lines))


def parse_inventory(body: dict) -> InventoryLevel:
    if not isinstance(body, dict):
        raise MalformedResponse("Walmart's inventory answer is not a JSON object")
    quantity = _req(body, "quantity", "inventory")
    return InventoryLevel(sku=str(_req(body, "sku", "inventory")),
                          amount=_int(_req(quantity, "amount", "inventory.quantity"),
                                      "inventory.quantity.amount"))
