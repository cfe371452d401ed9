"""Walmart disagrees: after "Fixed in Seller Center", the next import checks that Walmart
shows what the person said they did, and keeps a finding on the order while it does not.

A failed update closed as fixed by hand (sync_actions.resolve_task) leaves Orderdeck's record
as it was: the lines count as shipped (or canceled, or acknowledged). Each import that reads
the order from Walmart afterwards compares, per line of that update, what it asked for with
Walmart's line. A line that disagrees gets one open WalmartDifference (what we expected, what
Walmart shows); a later import that finds them agreeing closes it (resolved_at). Orders are
judged only on what Walmart said after the fix was recorded: an order not read since then is
not "disagreeing", it is simply not checked yet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.models import Order, SyncTask, TaskKind, TaskState, WalmartDifference
from webapp.models.base import utcnow
from webapp.walmart.schema import OrderLine as WalmartLine
from webapp.walmart.schema import PurchaseOrder

SOURCE = "fixed_check"  # a reconciliation stores its findings under its own source
CHECKED = (TaskKind.SHIP, TaskKind.CANCEL, TaskKind.ACKNOWLEDGE)

# The update that was closed as fixed, and what to do, per kind, in the order page's words.
UPDATE_NAMES = {TaskKind.SHIP: "shipment", TaskKind.CANCEL: "cancellation",
                TaskKind.ACKNOWLEDGE: "acknowledgement"}
ADVICE = {
    TaskKind.SHIP: "Ship these units in Seller Center, with their tracking number (or check that "
                   "the shipment there went through).",
    TaskKind.CANCEL: "Cancel these units in Seller Center: until then Walmart expects them to "
                     "ship (their stock was already released here).",
    TaskKind.ACKNOWLEDGE: "Acknowledge the order in Seller Center.",
}


@dataclass(frozen=True)
class Finding:
    line_number: str
    ours: str
    walmart: str


def _units(n: int) -> str:
    return f"{n} unit{'' if n == 1 else 's'}"


def walmart_words(line: WalmartLine | None) -> str:
    """Walmart's line as a person reads it: "2 Acknowledged", "1 Shipped (tracking 1Z…)"."""
    if line is None:
        return "no such line on Walmart's order"
    parts = []
    for status in ("Created", "Acknowledged", "Shipped", "Delivered", "Cancelled"):
        quantity = line.quantity_in(status)
        if not quantity:
            continue
        numbers = sorted({s.tracking.number for s in line.statuses if s.status == status
                          and s.tracking and s.tracking.number})
        text = f"{quantity} {status}"
        if status in ("Shipped", "Delivered"):
            text += f" (tracking {', '.join(numbers)})" if numbers else " (no tracking number)"
        parts.append(text)
    return ", ".join(parts) or "no units"


def _entries(task: SyncTask, root: str):
    """(line number, units, tracking numbers) of a ship or cancel body."""
    for entry in ((task.payload or {}).get(root) or {}).get("orderLines", {}).get(
            "orderLine", []):
        statuses = entry.get("orderLineStatuses", {}).get("orderLineStatus", [])
        units = sum(int(s.get("statusQuantity", {}).get("amount") or 0) for s in statuses)
        numbers = [s["trackingInfo"]["trackingNumber"] for s in statuses
                   if (s.get("trackingInfo") or {}).get("trackingNumber")]
        yield str(entry.get("lineNumber")), units, numbers


def _check_ship(task: SyncTask, data: PurchaseOrder) -> list[Finding]:
    """Each line of the shipment shipped at Walmart (Shipped or Delivered, with a tracking
    number). A different tracking number is no disagreement: fixing it in Seller Center is
    often the very fix."""
    found = []
    for number, units, tracking in _entries(task, "orderShipment"):
        line = data.line(number)
        shipped = sum(s.quantity for s in (line.statuses if line else ())
                      if s.status in ("Shipped", "Delivered") and s.tracking
                      and s.tracking.number)
        if shipped < units:
            ours = f"{_units(units)} shipped" + (f" (tracking {', '.join(tracking)})"
                                                 if tracking else "")
            found.append(Finding(number, ours, walmart_words(line)))
    return found


def _check_cancel(task: SyncTask, data: PurchaseOrder) -> list[Finding]:
    found = []
    for number, units, _tracking in _entries(task, "orderCancellation"):
        line = data.line(number)
        if line is None or line.quantity_in("Cancelled") < units:
            found.append(Finding(number, f"{_units(units)} canceled", walmart_words(line)))
    return found


def _check_acknowledge(task: SyncTask, data: PurchaseOrder) -> list[Finding]:
    return [Finding(line.line_number, "acknowledged", walmart_words(line))
            for line in data.lines if line.quantity_in("Created")]


CHECKS = {TaskKind.SHIP: _check_ship, TaskKind.CANCEL: _check_cancel,
          TaskKind.ACKNOWLEDGE: _check_acknowledge}


def check(order: Order, data: PurchaseOrder, tasks: list[SyncTask], read_at: datetime) -> None:
    """Compare Walmart's view of the order (read at `read_at`) with every update of it closed
    as fixed in Seller Center before then; record, update or close findings (the caller
    commits). Costs nothing for an order without such an update."""
    fixed = [t for t in tasks if t.state == TaskState.RESOLVED and t.kind in CHECKS
             and t.resolved_at is not None and t.resolved_at <= read_at]
    if not fixed and not order.walmart_disagrees:
        return
    lines = {line.line_number: line.id for line in order.lines}
    now: dict[tuple[int, int | None], tuple[SyncTask, Finding]] = {}
    for task in fixed:
        for finding in CHECKS[task.kind](task, data):
            now[(task.id, lines.get(finding.line_number))] = (task, finding)
    found = list(db.session.scalars(select(WalmartDifference).where(
        WalmartDifference.order_id == order.id, WalmartDifference.resolved_at.is_(None))))
    open_ = {(d.task_id, d.order_line_id): d for d in found if d.source == SOURCE}
    judged = {t.id for t in fixed}
    for key, difference in open_.items():
        if key not in now and difference.task_id in judged:  # Walmart agrees now
            difference.resolved_at = utcnow()
    for key, (task, finding) in now.items():
        if key in open_:
            difference = open_[key]
            if (difference.ours, difference.walmart) != (finding.ours, finding.walmart):
                difference.ours, difference.walmart = finding.ours, finding.walmart
        else:
            db.session.add(WalmartDifference(
                store_id=order.store_id, order_id=order.id, order_line_id=key[1],
                task_id=task.id, source=SOURCE, kind=task.kind, ours=finding.ours,
                walmart=finding.walmart, found_at=utcnow()))
    # Another source's findings (a reconciliation's) keep the flag up as well.
    order.walmart_disagrees = bool(now) or any(
        d.resolved_at is None and (d.source != SOURCE or d.task_id not in judged)
        for d in found)


def open_for(order: Order) -> list[WalmartDifference]:
    """The order's open findings, oldest first (the order page)."""
    return list(db.session.scalars(
        select(WalmartDifference).where(WalmartDifference.order_id == order.id,
                                        WalmartDifference.resolved_at.is_(None))
        .order_by(WalmartDifference.id)
        .options(selectinload(WalmartDifference.order_line),
                 selectinload(WalmartDifference.task).selectinload(SyncTask.resolved_by))))


def open_orders():
    """The ids of orders with an open finding (the Orders page's "Walmart disagrees")."""
    return select(WalmartDifference.order_id).where(WalmartDifference.resolved_at.is_(None))


def count_orders() -> int:
    """How many orders Walmart disagrees about (Home's to-do)."""
    return db.session.scalar(select(func.count(func.distinct(WalmartDifference.order_id)))
                             .where(WalmartDifference.resolved_at.is_(None))) or 0
