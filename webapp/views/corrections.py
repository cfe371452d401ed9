"""Correct and send again: a refused shipment or cancellation, its form pre-filled with what
Walmart refused, on the order page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.extensions import db
from webapp.forms.shipping import CancelCorrectionForm, ShipForm
from webapp.htmx import hx_retarget, is_htmx
from webapp.models import Cancellation, Order, Role, Shipment, SyncTask, TaskKind
from webapp.order_page import order_or_404, render_order
from webapp.security import require_role
from webapp.services.errors import ActionRefused
from webapp.services.shipping import correcting
from webapp.services.shipping.ship import NeedsConfirmation
from webapp.services.stock.cancelling import reasons_for
from webapp.team_time import team_zone
from webapp.walmart import enums

bp = Blueprint("corrections", __name__)


def _task_or_404(task_id: int) -> SyncTask:
    task = db.session.get(SyncTask, task_id)
    if task is None or task.order_id is None:
        abort(404)
    return task


def _room(order: Order, row: Shipment | Cancellation) -> dict[str, int]:
    """Per line, what the correction may hold: what is open plus what the refused one held."""
    held: dict[str, int] = {}
    entries = [x for p in row.packages for x in p.lines] if isinstance(row, Shipment) \
        else row.lines
    for entry in entries:
        number = entry.order_line.line_number
        held[number] = held.get(number, 0) + entry.quantity
    return {line.line_number: line.open_qty + held.get(line.line_number, 0)
            for line in order.lines}


def _room_of(task: SyncTask, order: Order) -> dict[str, int]:
    model = Shipment if task.kind == TaskKind.SHIP else Cancellation
    row = db.session.scalar(select(model).where(model.task_id == task.id))
    return _room(order, row) if row is not None else {}


def _ship_form(order: Order, shipment: Shipment) -> ShipForm:
    """The refused shipment as the Ship form shows it (a tracking URL only when one was
    typed: the one filled in for a known carrier follows the number)."""
    form = ShipForm(formdata=None)
    form.ship_time.data = shipment.ship_time.astimezone(team_zone()).replace(
        tzinfo=None, second=0, microsecond=0)
    form.override_intent.data = shipment.intent_to_cancel_override
    for package in shipment.packages:
        entry = form.packages.append_entry()
        auto = enums.tracking_url(package.carrier, package.tracking_number) \
            if package.carrier else None
        entry.carrier.data, entry.other_carrier.data = package.carrier or "", \
            package.other_carrier or ""
        entry.tracking_url.data = "" if package.tracking_url == auto else package.tracking_url
        entry.method_code.data, entry.tracking_number.data = package.method_code, \
            package.tracking_number
        held = {x.order_line.line_number: x.quantity for x in package.lines}
        for line in order.lines:
            entry.lines.append_entry({"line_number": line.line_number,
                                      "quantity": held.get(line.line_number, 0)})
    return form


def _cancel_form(order: Order, cancellation: Cancellation) -> CancelCorrectionForm:
    form = CancelCorrectionForm(formdata=None)
    form.reason.data = cancellation.reason
    held = {x.order_line.line_number: x.quantity for x in cancellation.lines}
    for line in order.lines:
        form.lines.append_entry({"line_number": line.line_number,
                                 "quantity": held.get(line.line_number, 0)})
    return form


def _render(order: Order, task: SyncTask, form, room: dict[str, int], status: int = 200,
            block: str | None = None, **extra):
    if task.kind == TaskKind.SHIP:
        return render_order(order, form, status, block or "ship_form", correcting=task,
                            room=room, **extra)
    return render_order(order, status=status, block=block or "cancel_form", cancel_form=form,
                        correcting=task, room=room, reasons=reasons_for(order), **extra)


@bp.get("/sync/tasks/<int:task_id>/correct")
@require_role(Role.OPERATOR)
def form(task_id: int):
    """The order page with the refused shipment or cancellation in its form, to correct."""
    task = _task_or_404(task_id)
    order = order_or_404(task.order_id)
    try:
        task, row = correcting.refused(task.id)
    except ActionRefused as exc:  # e.g. a colleague corrected it first: the order says how
        flash(str(exc), "error")
        return render_order(order)
    form = _ship_form(order, row) if isinstance(row, Shipment) else _cancel_form(order, row)
    return _render(order, task, form, _room(order, row), block="content")


@bp.post("/sync/tasks/<int:task_id>/correct")
@require_role(Role.OPERATOR)
def submit(task_id: int):
    """Send the corrected shipment or cancellation; the refused attempt stays in the history."""
    task = _task_or_404(task_id)
    order = order_or_404(task.order_id)
    if task.kind not in (TaskKind.SHIP, TaskKind.CANCEL):
        flash("Only a shipment or a cancellation Walmart refused can be corrected.", "error")
        return render_order(order, status=422)
    ship = task.kind == TaskKind.SHIP
    form = ShipForm() if ship else CancelCorrectionForm()
    room = _room_of(task, order)
    if ship and request.form.get("add_package"):  # one more package, no checks
        form.add_package(order)
        return _render(order, task, form, room, focus_package=True)
    if not form.validate_on_submit():
        return _render(order, task, form, room, 422)
    try:
        if ship:
            correcting.correct_shipment(
                task.id, form.package_inputs(), form.ship_time.data.replace(tzinfo=team_zone()),
                by=current_user, override_intent=form.override_intent.data,
                confirm_warnings=form.confirm_warnings.data)
        else:
            correcting.correct_cancellation(
                task.id, form.reason.data,
                {x.line_number.data: x.quantity.data for x in form.lines}, by=current_user)
    except NeedsConfirmation as exc:
        return _render(order, task, form, room, 422, warnings=exc.warnings)
    except ActionRefused as exc:
        if exc.field == "reason" and not ship:  # shown at the reason, where it is fixed
            form.reason.errors = [*form.reason.errors, str(exc)]
        else:
            form.form_errors.append(str(exc))
        order = order_or_404(order.id)
        return _render(order, task, form, _room_of(task, order), 422)
    if is_htmx():  # the order as it is now, in place
        return hx_retarget(render_order(order_or_404(order.id), block="content"))
    flash("Corrected and sent again to Walmart.", "success")
    return redirect(url_for("orders.show", order_id=order.id), 303)
