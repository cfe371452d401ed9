"""Request bodies built exactly to Walmart's shapes (walmart-api.md §3-§5).

Orders API: epoch-millisecond timestamps and quantities as strings. Return refunds: numeric
`measurementValue`. Inventory: numeric `amount`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from webapp.walmart.enums import CANCELLATION_CODES, CARRIERS, METHOD_CODES


class PayloadError(ValueError):
    """We were about to send Walmart something its spec forbids."""


def epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise PayloadError("timestamps sent to Walmart must be timezone-aware")
    return int(moment.timestamp() * 1000)


def _qty(amount: int, unit: str = "EACH") -> dict:
    if int(amount) <= 0:
        raise PayloadError(f"quantity must be positive, not {amount}")
    return {"unitOfMeasurement": unit, "amount": str(int(amount))}


@dataclass(frozen=True)
class Package:
    """One tracking number and the line quantities it holds."""

    tracking_number: str
    method_code: str
    ship_time: datetime
    lines: tuple[tuple[str, int], ...]  # (lineNumber, quantity)
    carrier: str | None = None
    other_carrier: str | None = None
    tracking_url: str | None = None

    def tracking_info(self) -> dict:
        if self.method_code not in METHOD_CODES:
            raise PayloadError(f"unknown methodCode {self.method_code!r}")
        if self.carrier:
            if self.carrier not in CARRIERS:
                raise PayloadError(f"{self.carrier!r} is not one of Walmart's carriers")
            carrier_name = {"carrier": self.carrier}
        elif self.other_carrier:
            if not self.tracking_url:
                raise PayloadError("otherCarrier needs a trackingURL")
            carrier_name = {"otherCarrier": self.other_carrier}
        else:
            raise PayloadError("a carrier or otherCarrier is required")
        info = {"shipDateTime": epoch_ms(self.ship_time), "carrierName": carrier_name,
                "methodCode": self.method_code, "trackingNumber": self.tracking_number}
        if self.tracking_url:
            info["trackingURL"] = self.tracking_url
        return info


def shipment(packages: list[Package], seller_order_id: str,
             intent_to_cancel_override: bool = False) -> dict:
    """POST /v3/orders/{po}/shipping: one orderLine per line, one status entry per package."""
    if not packages:
        raise PayloadError("a shipment needs at least one package")
    by_line: dict[str, list[dict]] = {}
    for package in packages:
        info = package.tracking_info()
        for line_number, quantity in package.lines:
            by_line.setdefault(str(line_number), []).append(
                {"status": "Shipped", "statusQuantity": _qty(quantity), "trackingInfo": info})
    lines = []
    for line_number, statuses in by_line.items():
        line = {"lineNumber": line_number, "sellerOrderId": seller_order_id[:30],
                "orderLineStatuses": {"orderLineStatus": statuses}}
        if intent_to_cancel_override:
            line["intentToCancelOverride"] = True
        lines.append(line)
    return {"orderShipment": {"orderLines": {"orderLine": lines}}}


def tracking_correction(package: Package, old_number: str, seller_order_id: str) -> dict:
    """POST …/shipping with processMode PARTIAL_UPDATE: new trackingInfo for the quantities
    shipped under `old_number` (named in currentTrackingInfo), within Walmart's window."""
    info = package.tracking_info()
    return {"orderShipment": {"processMode": "PARTIAL_UPDATE", "orderLines": {"orderLine": [
        {"lineNumber": str(number), "sellerOrderId": seller_order_id[:30],
         "orderLineStatuses": {"orderLineStatus": [
             {"status": "Shipped", "statusQuantity": _qty(quantity), "trackingInfo": info,
              "currentTrackingInfo": {"trackingNumber": old_number}}]}}
        for number, quantity in package.lines]}}}


def cancellation(lines: list[tuple[str, int]], reason: str) -> dict:
    """POST /v3/orders/{po}/cancel with one of Walmart's five reasons."""
    if reason not in CANCELLATION_CODES:
        raise PayloadError(f"{reason!r} is not one of Walmart's cancellation reasons")
    if not lines:
        raise PayloadError("nothing to cancel")
    return {"orderCancellation": {"orderLines": {"orderLine": [
        {"lineNumber": str(number), "orderLineStatuses": {"orderLineStatus": [
            {"status": "Cancelled", "cancellationReason": reason,
             "statusQuantity": _qty(quantity)}]}}
        for number, quantity in lines]}}}


def return_refund(customer_order_id: str, lines: list[tuple[int, int]]) -> dict:
    """POST /v3/returns/{rma}/refund: integer line numbers, numeric measurementValue."""
    if not lines:
        raise PayloadError("nothing to refund")
    return {"customerOrderId": customer_order_id, "refundLines": [
        {"returnOrderLineNumber": int(number),
         "quantity": {"unitOfMeasure": "EA", "measurementValue": int(quantity)}}
        for number, quantity in lines]}


def inventory(sku: str, amount: int) -> dict:
    """PUT /v3/inventory?sku=…: numeric amount, unit EACH."""
    if int(amount) < 0:
        raise PayloadError("inventory cannot be negative")
    return {"sku": sku, "quantity": {"unit": "EACH", "amount": int(amount)}}
