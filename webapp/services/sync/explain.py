"""Plain-language explanations of Walmart's refusals, and summaries of what a task sent.

Walmart's codes are broad (almost every refusal is INVALID_REQUEST_CONTENT), so the rules
below look at the field and the description too. The first rule that matches wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from webapp.models import SyncTask
from webapp.services.orders.status import tries_text
from webapp.services.stores.credentials import problem as credentials_problem
from webapp.walmart.enums import cancellation_label, carrier_label


@dataclass(frozen=True)
class Explanation:
    title: str
    meaning: str
    fix: str


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern
    explanation: Explanation


def _rule(pattern: str, title: str, meaning: str, fix: str) -> _Rule:
    return _Rule(re.compile(pattern, re.I | re.S), Explanation(title, meaning, fix))


# Matched against "kind | code | field | message" of the task's last error.
RULES: tuple[_Rule, ...] = (
    _rule(r"unauthori[sz]ed|\| (401|403|HTTP_40[13]) |invalid_client|credentials",
          "Walmart refused the store's credentials",
          "The client ID or secret is wrong, was regenerated in Seller Center, or belongs to "
          "another environment (sandbox or production).",
          "Copy a fresh client ID and secret from Seller Center → Settings → API Key "
          "Management into Stores → Edit, then Retry."),
    _rule(r"RATE_LIMITED|REQUEST_THRESHOLD|\b429\b",
          "Walmart's rate limit was reached",
          "Walmart allows a fixed number of calls per minute; this one came back as too many.",
          "Nothing to fix: Orderdeck waits for Walmart's limit to refill and tries again. If it "
          "keeps happening, lower the store's rate limits on the Stores page."),
    _rule(r"^ship .*Walmart cancelled line",
          "Walmart cancelled these lines before the shipment reached it",
          "The buyer cancelled them, or Walmart did automatically (not shipped within 4 days "
          "of the Ship By date). Walmart takes no shipment for cancelled lines, and does not "
          "charge the buyer for them.",
          "If the parcel has not left, keep it. If it has, contact the buyer or Walmart "
          "Partner Support through Seller Center; then choose Fixed in Seller Center."),
    _rule(r"OverShipped|more than allowed|not enough quantity|qtyAvailableToShip",
          "More units shipped than Walmart has left to ship",
          "Walmart has fewer open units on this line than the shipment claims — often because "
          "part of it was already shipped or canceled in Seller Center or by the buyer.",
          "Open the order in Seller Center and compare. If it is already shipped there, choose "
          "Fixed in Seller Center; otherwise choose Correct and send again with the quantities "
          "Walmart has left."),
    _rule(r"^ship .*(in SHIPPED status|already shipped|once marked as shipped)",
          "This line was already shipped at Walmart",
          "Walmart does not accept a second shipment for units it already has as shipped.",
          "If Seller Center shows the right tracking number, choose Fixed in Seller Center. "
          "To change a tracking number, use Correct tracking within 4 hours of shipping."),
    _rule(r"buyer request|intentToCancel",
          "The buyer asked to cancel",
          "Walmart blocks a shipment of lines the buyer asked to cancel unless the seller "
          "confirms they shipped anyway.",
          "If the parcel has left, ship again with “Ship anyway” ticked; otherwise cancel the "
          "order with reason Customer asked to cancel."),
    _rule(r"cancellationReason",
          "Walmart did not accept the cancellation reason",
          "Walmart accepts only its five cancellation reasons.",
          "Choose Correct and send again with one of the listed reasons."),
    _rule(r"cannot cancel|in CANCELLED status",
          "These units cannot be canceled",
          "Walmart has the units as shipped or already canceled, so there is nothing left for "
          "this cancellation.",
          "Check the order in Seller Center. If it shows what you wanted, choose Fixed in "
          "Seller Center; otherwise choose Correct and send again with only the units still "
          "open."),
    _rule(r"methodCode|Method code",
          "Walmart did not accept the shipping method",
          "Walmart accepts only Standard, Express, OneDay, Freight, WhiteGlove and Value.",
          "Choose Correct and send again with one of these methods."),
    _rule(r"trackingURL",
          "A tracking URL is missing",
          "For a carrier Walmart does not list, Walmart needs the carrier's tracking page URL.",
          "Choose Correct and send again with the carrier's tracking URL filled in."),
    _rule(r"carrier",
          "Walmart did not accept the carrier",
          "The carrier name is not one Walmart knows.",
          "Choose Correct and send again with a listed carrier, or Other shipping company with "
          "its name and tracking URL."),
    _rule(r"Tracking can only be updated within",
          "Too late to correct the tracking number",
          "Walmart lets a tracking number be changed only within 4 hours of shipping.",
          "Contact Walmart Partner Support through Seller Center, then choose Fixed in Seller "
          "Center."),
    _rule(r"trackingNumber|tracking number",
          "Walmart did not accept the tracking number",
          "The tracking number is missing, not one Walmart takes (letters and digits only, "
          "never the order's own number), or does not match a shipment Walmart has.",
          "Check the number on the label, then choose Correct and send again (or Correct "
          "tracking, for a shipment Walmart already took)."),
    _rule(r"^refund .*(refundable|Refund amount exceeds|exceeds the charged|SHIPPED status"
          r"|measurementValue|returnOrderLineNumber)",
          "Walmart will not refund this quantity",
          "The units were already refunded (perhaps by Walmart itself) or the return line does "
          "not allow that many.",
          "Check the return in Seller Center. If it is refunded there, choose Fixed in Seller "
          "Center; otherwise refund a smaller quantity."),
    _rule(r"not acknowledged",
          "Walmart has not acknowledged this order yet",
          "Walmart takes shipments and cancellations only after the order is acknowledged, "
          "and this order's acknowledgement did not get through.",
          "Tick the order's failed Acknowledge update and this one, then Retry selected: the "
          "acknowledgement goes first."),
    _rule(r"higher status",
          "The order had already moved on at Walmart",
          "Walmart refuses to acknowledge an order once any of it is shipped or canceled.",
          "Nothing is lost: choose Fixed in Seller Center."),
    _rule(r"CONTENT_NOT_FOUND|not found|Invalid purchaseOrderId|return order number",
          "Walmart cannot find this order or return",
          "The purchase order, return or SKU does not exist for this store — it may belong to "
          "another store or environment.",
          "Check the store the order came from. If it was handled elsewhere, choose Fixed in "
          "Seller Center."),
    _rule(r"\| (HTTP_5\d\d|TRANSIENT|WALMART|SYSTEM_ERROR|INVALID_SYSTEM_STATE|HTTP_200)"
          r"|Gave up after|timed out|timeout|Connection|malformed",
          "Walmart did not answer properly",
          "Walmart was unreachable, timed out, or sent an unreadable answer. Orderdeck reads "
          "the order back before sending again, so nothing is sent twice.",
          "Usually nothing: Retry once Walmart answers again (Walmart's status page tells you "
          "about outages)."),
    _rule(r"\| INTERNAL ",
          "Orderdeck hit an internal error",
          "Something went wrong on our side while handling this update.",
          "Retry; if it fails again, the worker's log has the details."),
    _rule(r"INVALID_REQUEST",
          "Walmart refused the content of the update",
          "Walmart found something in this update it does not accept; its message says what.",
          "Correct what the message names and send the update again (Correct and send again, "
          "for a shipment or a cancellation), or choose Fixed in Seller Center if you did it "
          "there."),
)

FALLBACK = Explanation(
    "Walmart refused the update",
    "Walmart gave a reason Orderdeck does not recognise; its message is shown as sent.",
    "Fix what the message names, then Retry — or do it in Seller Center and choose Fixed in "
    "Seller Center.")


def waiting(task: SyncTask) -> str:
    """Why a pending task has not reached Walmart yet, in words."""
    problem = credentials_problem(task.store) if task.store is not None else None
    if problem is not None:
        return f"Waiting: {problem.title}. {problem.fix}"
    if task.last_error_message:
        return f"Retrying after {tries_text(task)}: {task.last_error_message}"
    return "Waiting for Walmart's rate limit." if task.stuck else "On its way to Walmart…"


def explain(task: SyncTask) -> Explanation | None:
    """What the last error means and how to fix it (None when there was no error)."""
    if not (task.last_error_code or task.last_error_message):
        return None
    text = " | ".join(x or "" for x in (task.kind, task.last_error_code,
                                         task.last_error_field, task.last_error_message))
    for rule in RULES:
        if rule.pattern.search(text):
            return rule.explanation
    return FALLBACK


def _quantity(entry: dict) -> str:
    qty = entry.get("statusQuantity") or entry.get("quantity") or {}
    return str(qty.get("amount") or qty.get("measurementValue") or "?")


def _ship_lines(payload: dict) -> list[str]:
    shipment = payload.get("orderShipment", {})
    out = []
    for line in shipment.get("orderLines", {}).get("orderLine", []):
        for status in line.get("orderLineStatuses", {}).get("orderLineStatus", []):
            info = status.get("trackingInfo", {})
            carrier = info.get("carrierName", {})
            name = carrier_label(carrier.get("carrier")) or carrier.get("otherCarrier") or "?"
            text = (f"Line {line.get('lineNumber')}: {_quantity(status)} shipped, {name} "
                    f"{info.get('trackingNumber', '')}, {info.get('methodCode', '')}")
            if status.get("currentTrackingInfo"):
                text += f" (replacing {status['currentTrackingInfo'].get('trackingNumber')})"
            if line.get("intentToCancelOverride"):
                text += ", shipped despite the buyer's cancel request"
            out.append(text)
    return out


def _cancel_lines(payload: dict) -> list[str]:
    lines = payload.get("orderCancellation", {}).get("orderLines", {}).get("orderLine", [])
    return [f"Line {line.get('lineNumber')}: {_quantity(status)} canceled, reason "
            f"{cancellation_label(status.get('cancellationReason')) or '?'}"
            for line in lines
            for status in line.get("orderLineStatuses", {}).get("orderLineStatus", [])]


def target(task: SyncTask) -> str:
    """What a task without an order is about: the RMA, or the SKU (and its ship node)."""
    node = (task.payload or {}).get("shipNode") if task.kind == "inventory" else None
    return f"{task.target} at ship node {node}" if node else task.target


def summary(task: SyncTask) -> list[str]:
    """What the task sends, one line per item, in words (payloads never hold secrets)."""
    payload = task.payload or {}
    try:
        if task.kind == "acknowledge":
            return [f"Acknowledge purchase order {task.target} (every line)"]
        if task.kind == "ship":
            return _ship_lines(payload)
        if task.kind == "cancel":
            return _cancel_lines(payload)
        if task.kind == "refund":
            return [f"Return line {line.get('returnOrderLineNumber')}: refund "
                    f"{_quantity(line)} unit(s)" for line in payload.get("refundLines", [])]
        if task.kind == "inventory":
            amount = (payload.get("quantity") or {}).get("amount")
            what = amount if amount is not None else "its available quantity when sent"
            return [f"Set SKU {target(task)} to {what}"]
    except (AttributeError, TypeError):  # an unexpected shape: the raw body is shown anyway
        pass
    return []
