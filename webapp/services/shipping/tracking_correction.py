"""Correcting a shipment's tracking number within Walmart's window (PARTIAL_UPDATE)."""

from __future__ import annotations

from datetime import timedelta

from webapp.extensions import db
from webapp.models import ShipmentPackage, TaskKind, TaskState, User
from webapp.models.base import utcnow
from webapp.services import audit
from webapp.services.errors import ActionRefused
from webapp.services.orders import status as order_status
from webapp.services.shipping import tracking_numbers as tracking
from webapp.services.shipping.ship import NeedsConfirmation, PackageInput, _check_package, _Checked
from webapp.services.stores.mode import refuse_if_read_only
from webapp.services.sync import outbox
from webapp.services.unit_of_work import action
from webapp.walmart import payloads

WINDOW = timedelta(hours=4)  # Walmart accepts tracking edits this long after shipping


def correction_deadline(package: ShipmentPackage):
    """Until when the package's tracking may be corrected (None: not corrected any more)."""
    task = package.shipment.task
    if task is None or task.state != TaskState.SYNCED or task.synced_at is None:
        return None
    deadline = task.synced_at + WINDOW
    return deadline if deadline > utcnow() else None


@action
def correct_tracking(package_id: int, carrier: str | None, other_carrier: str | None,
                     tracking_url: str | None, tracking_number: str, *, by: User | None,
                     confirm_warnings: bool = False) -> ShipmentPackage:
    """Replace a synced package's tracking at Walmart (one sync task)."""
    package = db.session.get(ShipmentPackage, package_id)
    if package is None:
        raise ActionRefused("There is no such package.")
    if correction_deadline(package) is None:
        raise ActionRefused("Walmart accepts tracking corrections only within 4 hours of a "
                            "synced shipment; correct it in Seller Center.")
    order = package.shipment.order
    refuse_if_read_only(order.store)
    lines = {x.order_line.line_number: x.quantity for x in package.lines}
    checked = _Checked([])
    new = _check_package(1, PackageInput(tracking_number, package.method_code, {}, carrier,
                                         other_carrier, tracking_url), {}, checked,
                         allow_empty=True)
    refusal = tracking.own_number_refusal(new.tracking_number, order.purchase_order_id,
                                          order.customer_order_id)
    if refusal:
        raise ActionRefused(refusal, field="tracking_number")
    if new.tracking_number == package.tracking_number and new.carrier == package.carrier:
        raise ActionRefused("That is already the package's tracking number.",
                            field="tracking_number")
    if checked.warnings and not confirm_warnings:
        raise NeedsConfirmation(checked.warnings)
    old = package.tracking_number
    body = payloads.tracking_correction(
        payloads.Package(new.tracking_number, package.method_code, package.shipment.ship_time,
                         tuple(lines.items()), carrier=new.carrier,
                         other_carrier=new.other_carrier, tracking_url=new.tracking_url),
        old, order.number or order.purchase_order_id)
    outbox.add_task(order.store_id, TaskKind.SHIP, order.purchase_order_id, order=order,
                    payload=body)
    package.carrier, package.other_carrier = new.carrier, new.other_carrier
    package.tracking_number, package.tracking_url = new.tracking_number, new.tracking_url
    package.shipment.corrected_at = utcnow()
    db.session.flush()
    order_status.refresh(order)
    audit.record("order.tracking_correction", user=by, store_id=order.store_id,
                 subject=order.number, old=old, new=new.tracking_number)
    db.session.commit()
    return package

