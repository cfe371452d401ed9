"""Shipping from the order page, bulk tracking uploads, tracking corrections."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from webapp import list_versions
from webapp.extensions import db
from webapp.forms.shipping import ShipForm, TrackingCorrectionForm
from webapp.htmx import hx_redirect, hx_retarget, is_htmx, render_page, stop_polling
from webapp.models import Role, ShipmentPackage, TaskState, TrackingUpload
from webapp.order_page import order_or_404, render_order
from webapp.security import require_role
from webapp.services.errors import ActionRefused
from webapp.services.shipping import bulk_upload as bulk_shipping
from webapp.services.shipping.ship import NeedsConfirmation, ship_order
from webapp.services.shipping.tracking_correction import correct_tracking
from webapp.services.sync.actions import waits_to_retry
from webapp.services.sync.explain import waiting
from webapp.team_time import team_zone

bp = Blueprint("shipping", __name__)


@bp.post("/orders/<int:order_id>/ship")
@require_role(Role.OPERATOR)
def ship(order_id: int):
    """Ship: validate, ship through the service, show the order."""
    order = order_or_404(order_id)
    form = ShipForm()
    if request.form.get("add_package"):  # "Add tracking number": one more package, no checks
        form.add_package(order)
        return render_order(order, form, block="ship_form", focus_package=True)
    if not form.validate_on_submit():
        return render_order(order, form, 422, "ship_form")
    ship_time = form.ship_time.data.replace(tzinfo=team_zone())
    try:
        ship_order(order.id, form.package_inputs(), ship_time, by=current_user,
                   override_intent=form.override_intent.data,
                   confirm_warnings=form.confirm_warnings.data, form_token=form.form_token.data)
    except NeedsConfirmation as exc:
        return render_order(order, form, 422, "ship_form", warnings=exc.warnings)
    except ActionRefused as exc:
        form.form_errors.append(str(exc))
        return render_order(order_or_404(order_id), form, 422, "ship_form")
    if is_htmx():  # show the order as it is now, in place: no page load
        return hx_retarget(render_order(order_or_404(order_id), block="content"))
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
    form = TrackingCorrectionForm()
    try:  # every field is the service's to check, as a shipment's packages are
        correct_tracking(package.id, form.carrier.data, form.other_carrier.data,
                         form.tracking_url.data, form.tracking_number.data or "",
                         by=current_user, confirm_warnings=form.confirm_warnings.data)
        flash("Tracking correction sent to Walmart.", "success")
    except NeedsConfirmation as exc:
        flash(f"{exc} Tick 'the number is right' to send it anyway.", "error")
    except ActionRefused as exc:
        flash(str(exc), "error")
    target = url_for("orders.show", order_id=order_id)
    return hx_redirect(target) if is_htmx() else redirect(target, 303)
