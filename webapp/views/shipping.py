"""Shipping from the order page, bulk tracking uploads, tracking corrections."""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from webapp import list_versions
from webapp.extensions import db
from webapp.forms_shipping import ShipForm
from webapp.htmx import hx_redirect, is_htmx, render_page, stop_polling
from webapp.models import Order, OrderStatus, Role, ShipmentPackage, TaskState, TrackingUpload
from webapp.security import require_role
from webapp.services.errors import ActionRefused
from webapp.services.orders import detail as order_detail
from webapp.services.orders import money as order_money
from webapp.services.orders import walmart_differences
from webapp.services.shipping import bulk_upload as bulk_shipping
from webapp.services.shipping.ship import NeedsConfirmation, PackageInput, ship_order
from webapp.services.shipping.tracking_correction import correct_tracking, correction_deadline
from webapp.services.sync.actions import waits_to_retry
from webapp.services.sync.explain import summary, waiting
from webapp.walmart import enums

bp = Blueprint("shipping", __name__)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _order_or_404(order_id: int) -> Order:
    return db.session.scalar(db.select(Order).where(Order.id == order_id)
                             .options(selectinload(Order.lines))) or abort(404)


def blank_form(order: Order) -> ShipForm:
    """No package yet (Add tracking number adds one), shipped now."""
    form = ShipForm(formdata=None)
    form.ship_time.data = datetime.now(_zone()).replace(second=0, microsecond=0, tzinfo=None)
    form.form_token.data = secrets.token_urlsafe(16)
    return form


def add_package(form: ShipForm, order: Order) -> None:
    """One more package by the order's method: the first holds every unit left to ship, the
    next ones none (the person moves units into them)."""
    first = not form.packages.entries
    package = form.packages.append_entry()
    package.method_code.data = order.ship_method or "Standard"
    for line in order.lines:
        package.lines.append_entry({"line_number": line.line_number,
                                    "quantity": line.open_qty if first else 0})


def _inputs(form: ShipForm) -> list[PackageInput]:
    return [PackageInput(tracking_number=p.tracking_number.data or "",
                         method_code=p.method_code.data, carrier=p.carrier.data,
                         other_carrier=p.other_carrier.data, tracking_url=p.tracking_url.data,
                         lines={x.line_number.data: x.quantity.data for x in p.lines})
            for p in (entry.form for entry in form.packages)]


def render_order(order: Order, form: ShipForm | None = None, status: int = 200,
                 block: str = "content", warnings: list[str] | None = None, **extra):
    """The order page (or one of its blocks for htmx)."""
    can_ship = current_user.can(Role.OPERATOR) and not order.import_error and any(
        x.open_qty for x in order.lines) and order.status != OrderStatus.CANCELED and \
        not order.store.read_only
    extra.setdefault("cancel_form", None)
    extra.setdefault("correcting", None)  # a refused task whose correction the page shows
    extra.setdefault("room", {})  # per line, what that correction may hold
    block = block if is_htmx() else "content"
    # Payment information is in the page itself only: a poll of a block needs no refunds.
    payment = order_money.payment(order) if block == "content" else None
    return render_page("orders/show.html", block, status=status, payment=payment,
                       order=order, tasks=order_detail.tasks_of(order),
                       shipments=order_detail.shipments_of(order),
                       form=form or (blank_form(order) if can_ship else None),
                       can_ship=can_ship, warnings=warnings or [], carriers=enums.CARRIERS,
                       correction_deadline=correction_deadline, can_cancel=can_ship,
                       differences=walmart_differences.open_for(order),
                       difference_advice=walmart_differences.ADVICE,
                       update_names=walmart_differences.UPDATE_NAMES,
                       summary=summary, **extra)


@bp.post("/orders/<int:order_id>/ship")
@require_role(Role.OPERATOR)
def ship(order_id: int):
    """Ship: validate, ship through the service, show the order."""
    order = _order_or_404(order_id)
    form = ShipForm()
    if request.form.get("add_package"):  # "Add tracking number": one more package, no checks
        add_package(form, order)
        return render_order(order, form, block="ship_form", focus_package=True)
    if not form.validate_on_submit():
        return render_order(order, form, 422, "ship_form")
    ship_time = form.ship_time.data.replace(tzinfo=_zone())
    try:
        ship_order(order.id, _inputs(form), ship_time, by=current_user,
                   override_intent=form.override_intent.data,
                   confirm_warnings=form.confirm_warnings.data, form_token=form.form_token.data)
    except NeedsConfirmation as exc:
        return render_order(order, form, 422, "ship_form", warnings=exc.warnings)
    except ActionRefused as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
        return render_order(_order_or_404(order_id), form, 422, "ship_form")
    if is_htmx():  # show the order as it is now, in place: no page load
        response = render_order(_order_or_404(order_id), block="content")
        response.headers.update({"HX-Retarget": "#main", "HX-Reswap": "innerHTML"})
        return response
    flash("Shipment submitted; it is on its way to Walmart.", "success")
    return redirect(url_for("orders.show", order_id=order.id), 303)


@bp.route("/orders/ship-upload", methods=["GET", "POST"])
@require_role(Role.OPERATOR)
def upload():
    """Bulk tracking upload: a CSV is checked and previewed; nothing ships until confirmed."""
    plan = None
    if request.method == "POST":
        file = request.files.get("file")
        raw = file.read() if file else request.form.get("csv", "").encode()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = None
        plan = bulk_shipping.parse(text) if text is not None else bulk_shipping.Plan(
            [], ["The file must be UTF-8 text (save it from your spreadsheet as CSV UTF-8)."])
        if plan.ok and request.form.get("confirm"):
            try:
                upload = bulk_shipping.apply(plan, by=current_user)
            except ActionRefused as exc:  # every order refused: the preview says why
                plan.file_errors.append(str(exc))
            else:
                # The result has its own address: a reload shows it again, never ships again.
                return redirect(url_for("shipping.upload_result", upload_id=upload.id), 303)
        status = 200 if plan.ok else 422
        return render_page("orders/upload.html", "content", status=status, plan=plan,
                           orders=bulk_shipping.order_plans(plan) if plan.ok else [],
                           upload=None, csv_text=text or "")
    return render_page("orders/upload.html", "content", plan=None, upload=None, csv_text="")


@bp.get("/orders/ship-upload/<int:upload_id>")
@require_role(Role.OPERATOR)
def upload_result(upload_id: int):
    """What a confirmed upload did per order, each shipment followed to Walmart: the result
    polls (204 until an order changes) until every shipment has settled."""
    if is_htmx() and request.args.get("poll") and list_versions.unchanged("orders"):
        return Response(status=204)
    version = list_versions.mark("orders")  # before the rows: a change after it shows later
    upload = db.session.get(TrackingUpload, upload_id) or abort(404)
    rows = bulk_shipping.result_rows(upload)
    pending = [r.task for r in rows if r.task and r.task.state == TaskState.PENDING]
    response = render_page(
        "orders/upload.html", "result", plan=None, upload=upload, rows=rows, csv_text="",
        in_flight=bool(pending), waiting=waiting,
        # Fast while a shipment is being sent; slower while all wait out a retry delay.
        poll_ms=current_app.config["POLL_INTERVAL_MS"] if any(
            not waits_to_retry(t) for t in pending) else current_app.config["IDLE_POLL_MS"],
        poll_url=url_for("shipping.upload_result", upload_id=upload.id, poll=1, v=version))
    if is_htmx() and request.args.get("poll") and not pending:
        stop_polling(response)
    return response


@bp.post("/packages/<int:package_id>/correct")
@require_role(Role.OPERATOR)
def correct(package_id: int):
    """Correct a synced package's tracking number (Walmart's 4-hour window)."""
    package = db.session.get(ShipmentPackage, package_id) or abort(404)
    order_id = package.shipment.order_id
    form = request.form
    try:
        correct_tracking(package.id, form.get("carrier"), form.get("other_carrier"),
                         form.get("tracking_url"), form.get("tracking_number", ""),
                         by=current_user, confirm_warnings=bool(form.get("confirm_warnings")))
        flash("Tracking correction sent to Walmart.", "success")
    except NeedsConfirmation as exc:
        flash(f"{exc} Tick 'the number is right' to send it anyway.", "error")
    except ActionRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
    target = url_for("orders.show", order_id=order_id)
    return hx_redirect(target) if is_htmx() else redirect(target, 303)
