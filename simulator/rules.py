"""Walmart's rules for acknowledge, ship, cancel and refund (walmart-api.md §3, §8).

Each action validates the whole request first and changes nothing unless every line passes
(Walmart's calls are all-or-nothing).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from simulator.data import CANCEL_REASONS, CARRIERS, METHOD_CODES, REFUND_REASONS, UNITS
from simulator.errors import bad_content
from simulator.orders import cancelled, charged, delivered, refunded, shipped


def _list(data: Any, *path: str, where: str) -> list:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            raise bad_content(f"Invalid request. Missing {'.'.join(path)}", field=key)
        data = data[key]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise bad_content(f"Invalid request. {where} must list at least one entry", field=path[-1])
    return data


def _quantity(entry: dict, field: str = "statusQuantity") -> int:
    quantity = entry.get(field)
    if not isinstance(quantity, dict):
        raise bad_content(f"Invalid request. Missing {field}", field=field)
    amount = quantity.get("amount")
    # The Orders API carries quantities as strings of digits.
    if not isinstance(amount, str) or not amount.isdigit() or int(amount) <= 0:
        raise bad_content(f"Invalid {field}.amount {amount!r}: expected a positive integer "
                          "as a string", field=f"{field}.amount")
    unit = quantity.get("unitOfMeasurement")
    if unit is not None and unit not in UNITS:
        raise bad_content(f"Invalid unitOfMeasurement {unit!r}", field="unitOfMeasurement")
    return int(amount)


def _line(order: dict, entry: dict) -> dict:
    number = entry.get("lineNumber") if isinstance(entry, dict) else None
    if not isinstance(number, str) or not number:
        raise bad_content("Invalid request. lineNumber is required as a string",
                          field="lineNumber")
    for line in order["lines"]:
        if line["lineNumber"] == number:
            return line
    raise bad_content(f"Invalid line number {number} for PO: {order['purchaseOrderId']}",
                      field="lineNumber")


def acknowledge(order: dict, now: int) -> None:
    """Whole PO; idempotent while nothing is past Acknowledged."""
    po = order["purchaseOrderId"]
    if any(shipped(line) or delivered(line) or cancelled(line) for line in order["lines"]):
        raise bad_content(f"INVALID_REQUEST_CONTENT :: Failed when called acknowledge API for "
                          f"'{po}'.  Some or all qty in higher status")
    for line in order["lines"]:
        if line["created"]:
            line["acknowledged"] += line["created"]
            line["created"] = 0
            line["statusDate"] = now


# Walmart's valid-tracking policy: letters and digits only ("no special characters"), and
# never the purchase order or customer order number. Whether the shipping call itself refuses
# such a number is inferred (Walmart Canada's docs say its systems validate the format).
TRACKING_NUMBER = re.compile(r"[A-Za-z0-9]+")


def _tracking(info: Any, order: dict | None = None) -> dict:
    if not isinstance(info, dict):
        raise bad_content("Invalid request. trackingInfo is required", field="trackingInfo")
    when = info.get("shipDateTime")
    if not isinstance(when, int) or isinstance(when, bool) or when < 10**11:
        raise bad_content(f"Invalid shipDateTime {when!r}: expected epoch milliseconds",
                          field="shipDateTime")
    carrier = info.get("carrierName")
    if not isinstance(carrier, dict) or not (carrier.get("carrier") or carrier.get("otherCarrier")):
        raise bad_content("Invalid request. carrierName needs carrier or otherCarrier",
                          field="carrierName")
    if carrier.get("carrier") and carrier["carrier"] not in CARRIERS:
        raise bad_content(f"Carrier name {carrier['carrier']!r} is not supported",
                          field="carrierName.carrier")
    if not carrier.get("carrier") and not info.get("trackingURL"):
        raise bad_content("trackingURL is required when otherCarrier is used",
                          field="trackingURL")
    if info.get("methodCode") not in METHOD_CODES:
        raise bad_content("Method code is not supported in line number 1", field="methodCode")
    number = info.get("trackingNumber")
    if not isinstance(number, str) or not number.strip():
        raise bad_content("Invalid request. trackingNumber is required", field="trackingNumber")
    if not TRACKING_NUMBER.fullmatch(number):
        raise bad_content(f"Invalid tracking number {number!r}: a tracking number may contain "
                          "only letters and digits, without spaces or special characters",
                          field="trackingNumber")
    if order is not None and number in (order["purchaseOrderId"], order.get("customerOrderId")):
        raise bad_content(f"Invalid tracking number {number!r}: it cannot be the purchase order "
                          "or customer order number", field="trackingNumber")
    return {"shipDateTime": when,
            "carrierName": {"otherCarrier": carrier.get("otherCarrier"),
                            "carrier": carrier.get("carrier")},
            "methodCode": info["methodCode"], "carrierMethodCode": None,
            "trackingNumber": number, "trackingURL": info.get("trackingURL")}


CORRECTION_WINDOW_MS = 4 * 3600 * 1000


def correct_tracking(order: dict, body: dict, now: int) -> None:
    """processMode PARTIAL_UPDATE: replace the tracking of quantities already shipped."""
    po = order["purchaseOrderId"]
    plan = []
    for entry in _list(body, "orderShipment", "orderLines", "orderLine", where="orderLine"):
        line = _line(order, entry)
        for status in _list(entry, "orderLineStatuses", "orderLineStatus",
                            where="orderLineStatus"):
            old = (status.get("currentTrackingInfo") or {}).get("trackingNumber")
            shipment = next((s for s in line["shipments"]
                             if s["tracking"].get("trackingNumber") == old), None)
            if shipment is None:
                raise bad_content(f"No shipment with tracking number {old!r} on line "
                                  f"{line['lineNumber']} of PO: {po}",
                                  field="currentTrackingInfo.trackingNumber")
            if now - shipment.get("at", now) > CORRECTION_WINDOW_MS:
                raise bad_content("Tracking can only be updated within 4 hours of shipping",
                                  field="processMode")
            plan.append((shipment, _tracking(status.get("trackingInfo"), order)))
    for shipment, tracking in plan:
        shipment["tracking"] = tracking


def ship(order: dict, body: Any, now: int) -> None:
    po = order["purchaseOrderId"]
    if isinstance(body, dict) and isinstance(body.get("orderShipment"), dict) and \
            body["orderShipment"].get("processMode") == "PARTIAL_UPDATE":
        return correct_tracking(order, body, now)
    entries = _list(body, "orderShipment", "orderLines", "orderLine", where="orderLine")
    plan: list[tuple[dict, int, dict]] = []
    wanted: dict[str, int] = {}
    for entry in entries:
        line = _line(order, entry)
        if line.get("intentToCancel") and entry.get("intentToCancelOverride") is not True:
            raise bad_content(f"The Line: {line['lineNumber']} of PO: {po} has a buyer request "
                              "to cancel; set intentToCancelOverride to ship it",
                              field="intentToCancelOverride")
        for status in _list(entry, "orderLineStatuses", "orderLineStatus",
                            where="orderLineStatus"):
            if status.get("status") != "Shipped":
                raise bad_content(f"Invalid status {status.get('status')!r}; expected Shipped",
                                  field="status")
            quantity = _quantity(status)
            plan.append((line, quantity, _tracking(status.get("trackingInfo"), order)))
            wanted[line["lineNumber"]] = wanted.get(line["lineNumber"], 0) + quantity
        seller_id = entry.get("sellerOrderId")
        if seller_id is not None and (not isinstance(seller_id, str) or len(seller_id) > 30):
            raise bad_content("sellerOrderId must be a string of at most 30 characters",
                              field="sellerOrderId")
    for line in order["lines"]:
        want = wanted.get(line["lineNumber"], 0)
        if not want:
            continue
        if line["created"] and not line["acknowledged"]:
            raise bad_content(f"Unable to process this request. The Line: {line['lineNumber']} "
                              f"of PO: {po} is not acknowledged")
        if want > line["acknowledged"]:
            if line["acknowledged"] == 0 and (shipped(line) or delivered(line)):
                raise bad_content(f"Unable to process this request. The Line: "
                                  f"{line['lineNumber']} of PO: {po} is in SHIPPED status")
            raise bad_content(f"INVALID_REQUEST_CONTENT :: Failed when called shipConfirm API "
                              f"for {po}. Qty OverShipped : Some or All Line(s)/Qty cannot be "
                              "Shipped due to invalid Lines Or invalid Qty Or Qty more than "
                              "allowed")
    for entry in entries:
        if entry.get("sellerOrderId"):
            _line(order, entry)["sellerOrderId"] = entry["sellerOrderId"]
    for line, quantity, tracking in plan:
        line["acknowledged"] -= quantity
        line["shipments"].append({"qty": quantity, "delivered": 0, "tracking": tracking,
                                  "at": now})
        line["statusDate"] = now


def cancel(order: dict, body: Any, now: int) -> None:
    po = order["purchaseOrderId"]
    entries = _list(body, "orderCancellation", "orderLines", "orderLine", where="orderLine")
    plan: list[tuple[dict, int, str]] = []
    wanted: dict[str, int] = {}
    for entry in entries:
        line = _line(order, entry)
        for status in _list(entry, "orderLineStatuses", "orderLineStatus",
                            where="orderLineStatus"):
            if status.get("status") != "Cancelled":
                raise bad_content(f"Invalid status {status.get('status')!r}; expected Cancelled",
                                  field="status")
            reason = status.get("cancellationReason")
            if reason not in CANCEL_REASONS:
                raise bad_content(f"Invalid cancellationReason {reason!r}",
                                  field="cancellationReason")
            quantity = _quantity(status)
            plan.append((line, quantity, reason))
            wanted[line["lineNumber"]] = wanted.get(line["lineNumber"], 0) + quantity
    for line in order["lines"]:
        want = wanted.get(line["lineNumber"], 0)
        if want > line["created"] + line["acknowledged"]:
            state = "SHIPPED" if shipped(line) or delivered(line) else "CANCELLED"
            raise bad_content(f"Unable to process this request. The Line: {line['lineNumber']} "
                              f"of PO: {po} cannot cancel {want} unit(s): quantity is in "
                              f"{state} status")
    for line, quantity, reason in plan:
        from_created = min(quantity, line["created"])
        line["created"] -= from_created
        line["acknowledged"] -= quantity - from_created
        line["cancellations"].append({"qty": quantity, "reason": reason})
        line["statusDate"] = now


def refund(order: dict, body: Any, now: int) -> None:
    po = order["purchaseOrderId"]
    if not isinstance(body, dict) or not isinstance(body.get("orderRefund"), dict):
        raise bad_content("Invalid request. Missing orderRefund", field="orderRefund")
    if str(body["orderRefund"].get("purchaseOrderId")) != po:
        raise bad_content("orderRefund.purchaseOrderId must match the path",
                          field="purchaseOrderId")
    entries = _list(body, "orderRefund", "orderLines", "orderLine", where="orderLine")
    fulls = {bool(e.get("isFullRefund")) for e in entries if isinstance(e, dict)}
    if len(fulls) > 1:
        raise bad_content("A refund must be all full or all partial", field="isFullRefund")
    plan: list[tuple[dict, list[dict]]] = []
    for entry in entries:
        line = _line(order, entry)
        if not (shipped(line) or delivered(line)):
            raise bad_content(f"Unable to process this request. The Line: {line['lineNumber']} "
                              f"of PO: {po} is not in SHIPPED status")
        refunds, new_total = [], 0.0
        for refund_entry in _list(entry, "refunds", "refund", where="refund"):
            for charge in _list(refund_entry, "refundCharges", "refundCharge",
                                where="refundCharge"):
                if charge.get("refundReason") not in REFUND_REASONS:
                    raise bad_content(f"Invalid refundReason {charge.get('refundReason')!r}",
                                      field="refundReason")
                detail = charge.get("charge") or {}
                amount = (detail.get("chargeAmount") or {}).get("amount")
                tax = ((detail.get("tax") or {}).get("taxAmount") or {}).get("amount", 0)
                for value, name in ((amount, "chargeAmount.amount"), (tax, "taxAmount.amount")):
                    if not isinstance(value, int | float) or isinstance(value, bool) or value > 0:
                        raise bad_content(f"Invalid {name} {value!r}: refunds are negative "
                                          "numbers", field=name)
                refunds.append({"refundId": uuid.uuid4().hex[:12],
                                "comments": refund_entry.get("refundComments") or "",
                                "reason": charge["refundReason"],
                                "chargeType": detail.get("chargeType") or "PRODUCT",
                                "chargeName": detail.get("chargeName") or "Item Price",
                                "amount": round(-amount, 2), "tax": round(-tax, 2)})
                new_total += -amount - tax
        if entry.get("isFullRefund"):
            remaining = round(charged(line) - refunded(line), 2)
            refunds = [{**refunds[0], "amount": remaining, "tax": 0.0}] if remaining > 0 else []
            new_total = remaining
        if round(refunded(line) + new_total, 2) > charged(line) + 0.001:
            raise bad_content(f"Refund amount exceeds the charged amount for line "
                              f"{line['lineNumber']}", field="chargeAmount")
        plan.append((line, refunds))
    for line, refunds in plan:
        line["refunds"].extend(refunds)
        line["statusDate"] = now


def deliver(order: dict, now: int) -> int:
    """The carrier delivered everything shipped. Returns units delivered."""
    count = 0
    for line in order["lines"]:
        for shipment in line["shipments"]:
            moved = shipment["qty"] - shipment["delivered"]
            if moved:
                shipment["delivered"] = shipment["qty"]
                line["statusDate"] = now
                count += moved
    return count


def buyer_cancel(order: dict, now: int, line_number: str | None = None,
                 reason: str = "CUSTOMER_REQUESTED_SELLER_TO_CANCEL") -> int:
    """The buyer (or Walmart) cancels what is not yet shipped."""
    count = 0
    for line in order["lines"]:
        if line_number and line["lineNumber"] != line_number:
            continue
        units = line["created"] + line["acknowledged"]
        if units:
            line["cancellations"].append({"qty": units, "reason": reason})
            line["created"] = line["acknowledged"] = 0
            line["statusDate"] = now
            count += units
    return count
