"""Correct and send again: a shipment or cancellation Walmart refused, edited by a person.

The refused sync task stays as it was sent — its body and Walmart's message — in the state
`corrected`, pointing to the new task (`replaced_by`) that carries the corrected content. The
shipment or cancellation itself is edited in place: it is what the seller did (or means to do),
and only its live task is sent. Units move with the difference: a corrected shipment that ships
fewer gives them back to the order (open, reserved and on hand again); a corrected cancellation
moves units between open and canceled, which are both reserved — its units are released only
when Walmart accepts it, as any cancellation's.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import (
    Cancellation,
    CancellationLine,
    Order,
    Shipment,
    SyncTask,
    TaskKind,
    TaskState,
    User,
)
from webapp.models.base import utcnow
from webapp.services import audit
from webapp.services.errors import ActionRefused
from webapp.services.orders import status as order_status
from webapp.services.shipping import ship as shipping
from webapp.services.stock.cancelling import NOT_BUYER_REQUESTED, cancel_in_flight, reasons_for
from webapp.services.stores import health as store_health
from webapp.services.stores.mode import refuse_if_read_only
from webapp.services.sync import outbox
from webapp.services.sync.actions import claim_failed
from webapp.services.unit_of_work import action
from webapp.walmart import enums, payloads

SAME = ("This is exactly what Walmart refused. Change what its message names — or use Retry "
        "to send it again as it is.")
GONE = {
    TaskState.PENDING: "it is on its way to Walmart again (someone retried it)",
    TaskState.SYNCED: "Walmart has accepted it",
    TaskState.RESOLVED: "it was closed as fixed in Seller Center",
    TaskState.CORRECTED: "it was corrected already",
}


def correctable(task: SyncTask) -> bool:
    """A shipment or cancellation of an order that Walmart refused and nobody has acted on
    (a refused tracking correction is not one: Correct tracking sends those)."""
    if task.state != TaskState.ERROR or task.order_id is None:
        return False
    if task.kind == TaskKind.CANCEL:
        return True
    body = (task.payload or {}).get("orderShipment") or {}
    return task.kind == TaskKind.SHIP and body.get("processMode") != "PARTIAL_UPDATE"


def _refuse_unless_failed(task: SyncTask) -> None:
    if task.state != TaskState.ERROR:
        raise ActionRefused(f"This update cannot be corrected any more: "
                            f"{GONE.get(task.state, task.state)}. Reload the order.")


def refused(task_id: int) -> tuple[SyncTask, Shipment | Cancellation]:
    """The refused task and the shipment or cancellation it carries, or a clear refusal."""
    task = db.session.get(SyncTask, task_id)
    if task is None:
        raise ActionRefused("There is no such update.")
    if task.kind not in (TaskKind.SHIP, TaskKind.CANCEL) or task.order_id is None:
        raise ActionRefused("Only a shipment or a cancellation Walmart refused can be corrected "
                            "here; use Retry or Fixed in Seller Center for this update.")
    db.session.refresh(task)  # (the view read it earlier: a colleague may have acted since)
    _refuse_unless_failed(task)
    model = Shipment if task.kind == TaskKind.SHIP else Cancellation
    row = db.session.scalar(select(model).where(model.task_id == task.id))
    if row is None:
        db.session.refresh(task)  # corrected meanwhile: its shipment points at the new task
        _refuse_unless_failed(task)
        # a refused tracking correction: the shipment points at its first task
        raise ActionRefused("This update is a tracking correction: send a new one with Correct "
                            "tracking, or choose Fixed in Seller Center.")
    return task, row


def _close(task: SyncTask, by: User | None) -> None:
    claim_failed(task, TaskState.CORRECTED, resolved_at=utcnow(),
                 resolved_by_id=by.id if by else None, stuck=False, lease_until=None)


@contextmanager
def _claimed(task: SyncTask, by: User | None):
    """Claim the refused task before checking the correction: of two people sending the same
    correction at once, the second waits for the first's claim and is told someone acted —
    it never checks its form against what the first one just wrote. A correction found wrong
    gives the claim back (nothing of it is written)."""
    _close(task, by)
    try:
        yield
    except (ActionRefused, shipping.NeedsConfirmation):
        db.session.rollback()
        raise


def _settle(order: Order, old: SyncTask, new: SyncTask) -> None:
    """The refused task points at its correction; the order shows where it is now."""
    db.session.flush()
    old.replaced_by_id = new.id
    for line in order.lines:
        db.session.refresh(line, ["shipped_qty", "canceled_qty", "cancellation_reason"])
    order_status.refresh(order)
    order.updated_at = utcnow()


def _publish() -> None:
    db.session.commit()
    store_health.forget_banner()


def _shipment_units(shipment: Shipment) -> dict[str, int]:
    units: dict[str, int] = {}
    for package in shipment.packages:
        for entry in package.lines:
            number = entry.order_line.line_number
            units[number] = units.get(number, 0) + entry.quantity
    return units


def _lines(package) -> list[tuple[str, int]]:
    if isinstance(package.lines, dict):  # a checked PackageInput
        return sorted(package.lines.items())
    return sorted((x.order_line.line_number, x.quantity) for x in package.lines)


def _shipment_shape(packages, ship_time: datetime) -> tuple:
    """What a shipment says, comparable between the refused one and its correction (the
    form gives the ship time to the minute)."""
    return (ship_time.replace(second=0, microsecond=0),
            sorted((p.carrier or "", p.other_carrier or "", p.method_code, p.tracking_number,
                    p.tracking_url or "", _lines(p)) for p in packages))


@action
def correct_shipment(task_id: int, packages: list[shipping.PackageInput], ship_time: datetime,
                     *, by: User | None, override_intent: bool = False,
                     confirm_warnings: bool = False) -> Shipment:
    """Send a refused shipment again, corrected (carrier, tracking, quantities, ship time)."""
    task, shipment = refused(task_id)
    order = db.session.get(Order, shipment.order_id)
    refuse_if_read_only(order.store)
    with _claimed(task, by):
        if order.import_error:
            raise ActionRefused("This order could not be imported from Walmart; it cannot ship "
                                "yet.")
        if order.intent_to_cancel and not override_intent:
            raise ActionRefused("The buyer asked Walmart to cancel this order. Cancel it, or "
                                "confirm that you ship it anyway.", field="override_intent")
        old = _shipment_units(shipment)
        checked = shipping.validate(order, packages, ship_time, returning=old)
        if checked.warnings and not confirm_warnings:
            raise shipping.NeedsConfirmation(checked.warnings)
        shipping.refuse_reused(order, checked, but=shipment)
        if _shipment_shape(checked.packages, ship_time) == _shipment_shape(
                shipment.packages, shipment.ship_time):
            raise ActionRefused(SAME)
    was = [p.tracking_number for p in shipment.packages]
    shipping.take_units(order, {n: checked.per_line.get(n, 0) - old.get(n, 0)
                                for n in old.keys() | checked.per_line.keys()})
    override = bool(override_intent and order.intent_to_cancel)
    shipment.packages = shipping.new_packages(order, checked)
    shipment.ship_time, shipment.corrected_at = ship_time, utcnow()
    shipment.intent_to_cancel_override = override
    shipment.task = outbox.add_task(
        order.store_id, TaskKind.SHIP, order.purchase_order_id, order=order,
        payload=shipping.shipment_body(order, checked, ship_time, override))
    _settle(order, task, shipment.task)
    audit.record("order.ship_correction", user=by, store_id=order.store_id,
                 subject=order.number, task=task.id, new_task=shipment.task.id,
                 units=sum(checked.per_line.values()), was=was,
                 tracking=[p.tracking_number for p in checked.packages])
    _publish()
    return shipment


def _check_cancel(order: Order, cancellation: Cancellation, reason: str,
                  lines: dict[str, int]) -> dict[str, int]:
    """The corrected quantities per line, checked like a cancellation (nothing beyond what is
    open plus what the refused one held)."""
    if reason not in enums.CANCELLATION_CODES:
        raise ActionRefused("Choose one of Walmart's cancellation reasons.", field="reason")
    if reason not in {r.code for r in reasons_for(order)}:
        raise ActionRefused(NOT_BUYER_REQUESTED, field="reason")
    old = {x.order_line.line_number: x.quantity for x in cancellation.lines}
    known = {line.line_number: line for line in order.lines}
    wanted: dict[str, int] = {}
    for number, quantity in lines.items():
        line = known.get(number)
        if line is None:
            raise ActionRefused(f"This order has no line {number}.", field="lines")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            raise ActionRefused("Quantities must be whole numbers, 0 or more.", field="lines")
        room = line.open_qty + old.get(number, 0)
        if quantity > room:
            raise ActionRefused(f"Line {number} ({line.sku}): only {room} unit(s) can be "
                                f"canceled, not {quantity}.", field="lines")
        if quantity:
            wanted[number] = quantity
    if not wanted:
        raise ActionRefused("Cancel at least one unit — or, if nothing is to be canceled, "
                            "choose Fixed in Seller Center for the refused update.",
                            field="lines")
    if wanted == old and reason == cancellation.reason:
        raise ActionRefused(SAME)
    return wanted


def _move_canceled(order: Order, old: dict[str, int], wanted: dict[str, int]) -> None:
    """Canceled units follow the correction; more than before only while they are still open
    (a shipment made meanwhile wins, cleanly)."""
    for line in sorted(order.lines, key=lambda x: x.id):
        delta = wanted.get(line.line_number, 0) - old.get(line.line_number, 0)
        if not delta:
            continue
        shipping.add_while_open(
            line, "canceled_qty", delta,
            f"Line {line.line_number} ({line.sku}) no longer has {delta} unit(s) open: someone "
            "just shipped or canceled it. Reload the order.")


@action
def correct_cancellation(task_id: int, reason: str, lines: dict[str, int], *,
                         by: User | None) -> Cancellation:
    """Send a refused cancellation again, corrected (its reason, its quantities per line)."""
    task, cancellation = refused(task_id)
    order = db.session.get(Order, cancellation.order_id)
    refuse_if_read_only(order.store)
    with _claimed(task, by):
        wanted = _check_cancel(order, cancellation, reason, lines)
        if cancel_in_flight(order):
            raise ActionRefused("A cancellation of this order is already on its way to "
                                "Walmart.")
    old = {x.order_line.line_number: x.quantity for x in cancellation.lines}
    was_reason = cancellation.reason
    _move_canceled(order, old, wanted)
    by_number = {line.line_number: line for line in order.lines}
    cancellation.reason = reason
    cancellation.lines = [CancellationLine(order_line_id=by_number[n].id, quantity=q)
                          for n, q in sorted(wanted.items())]
    cancellation.task = outbox.add_task(
        order.store_id, TaskKind.CANCEL, order.purchase_order_id, order=order,
        payload=payloads.cancellation(sorted(wanted.items()), reason))
    _settle(order, task, cancellation.task)
    for line in order.lines:  # the reason Walmart will have; none on a line no longer canceled
        if line.line_number in wanted:
            line.cancellation_reason = reason
        elif line.line_number in old and not line.canceled_qty:
            line.cancellation_reason = None
    order_status.refresh(order)
    audit.record("order.cancel_correction", user=by, store_id=order.store_id,
                 subject=order.number, task=task.id, new_task=cancellation.task.id,
                 reason=reason, was_reason=was_reason,
                 units=sum(wanted.values()), was_units=sum(old.values()))
    _publish()
    return cancellation
