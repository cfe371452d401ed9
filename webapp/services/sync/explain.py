"""Plain-language explanations of Walmart's refusals, and summaries of what a task sent.

Walmart's codes are broad (almost every refusal is INVALID_REQUEST_CONTENT), so the rules
below look at the field and the description too. The first rule that matches wins: the store's
own problems first, then the refusals only the task's kind meets (in its definition,
task_kinds.py, which also words what each kind sent), then the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from webapp.models import SyncTask, TaskKind
from webapp.services.orders.status import tries_text
from webapp.services.stores.credentials import problem as credentials_problem
from webapp.services.sync.task_kinds import KINDS, kind_of


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


# Matched against "kind | code | field | message" of the task's last error: first the store's
# own problems, then the refusals only the task's kind meets (its definition's explanations),
# then the rest.
STORE_RULES: tuple[_Rule, ...] = (
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
)
KIND_RULES: dict[TaskKind, tuple[_Rule, ...]] = {
    kind: tuple(_rule(*rule) for rule in d.explanations) for kind, d in KINDS.items()}
RULES: tuple[_Rule, ...] = (
    _rule(r"OverShipped|more than allowed|not enough quantity|qtyAvailableToShip",
          "More units shipped than Walmart has left to ship",
          "Walmart has fewer open units on this line than the shipment claims — often because "
          "part of it was already shipped or canceled in Seller Center or by the buyer.",
          "Open the order in Seller Center and compare. If it is already shipped there, choose "
          "Fixed in Seller Center; otherwise choose Correct and send again with the quantities "
          "Walmart has left."),
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
    for rule in (*STORE_RULES, *KIND_RULES.get(task.kind, ()), *RULES):
        if rule.pattern.search(text):
            return rule.explanation
    return FALLBACK


def target(task: SyncTask) -> str:
    """What a task without an order is about: the RMA, or the SKU (and its ship node)."""
    return kind_of(task).target_text(task)


def summary(task: SyncTask) -> list[str]:
    """What the task sends, one line per item, in words (payloads never hold secrets)."""
    try:
        return kind_of(task).summary(task, task.payload or {})
    except (AttributeError, TypeError):  # an unexpected shape: the raw body is shown anyway
        return []
