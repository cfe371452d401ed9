"""The Reconciliation page: where Orderdeck and Walmart disagree, each difference explained,
with Adopt Walmart's state and Send ours again; each store's last pass and its progress."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user

from webapp.extensions import db
from webapp.htmx import hx_redirect, is_htmx, render_page, stop_polling
from webapp.models import Role, WalmartDifference
from webapp.numbers import row_id
from webapp.security import require_role
from webapp.services.errors import ActionRefused
from webapp.services.reconcile import actions, findings
from webapp.services.reconcile import run as reconcile_run
from webapp.services.stores import lookup as store_lookup

bp = Blueprint("reconcile", __name__, url_prefix="/reconciliation")


@bp.get("/")
def index():
    """Open differences (newest first) and each store's last pass; polls while one runs or
    an adoption is on its way."""
    stores = store_lookup.by_name()
    store_id = row_id(request.args.get("store", ""))
    runs = [(store, reconcile_run.latest(store.id)) for store in stores]
    shown = findings.open_findings(store_id)
    total = len(shown) if len(shown) < findings.PAGE_LIMIT else findings.count_open(store_id)
    busy = any(r is not None and r.running for _s, r in runs) or any(
        d.action == actions.ADOPTING and not d.action_error for d in shown) or \
        actions.sending(shown)
    response = render_page(
        "reconcile/index.html", "results", stores=stores, runs=runs, differences=shown, total=total,
        store_id=store_id, explain=findings.explain, subject=findings.subject,
        labels=findings.KIND_LABELS, progress=reconcile_run.progress, busy=busy,
        poll_url=url_for("reconcile.index", poll=1, **({"store": store_id} if store_id else {})))
    if is_htmx() and request.args.get("poll") and not busy:
        stop_polling(response)
    return response


def _back():
    return hx_redirect(url_for("reconcile.index"))


@bp.post("/run")
@require_role(Role.OPERATOR)
def run_now():
    """Reconcile now: one store's pass, or every store's."""
    store_id = row_id(request.form.get("store", ""))
    try:
        started = actions.reconcile_now(store_id, by=current_user)
        new = sum(1 for _r, is_new in started if is_new)
        flash("Reconciliation started: Walmart is read little by little, under its own "
              "limits, and this page shows how far it got." if new else
              "A reconciliation is already going: this page shows how far it got.", "success")
    except ActionRefused as exc:
        flash(str(exc), "error")
    return _back()


def _finding(finding_id: int) -> WalmartDifference:
    return db.session.get(WalmartDifference, finding_id) or abort(404)


@bp.post("/<int:finding_id>/adopt")
@require_role(Role.OPERATOR)
def adopt(finding_id: int):
    """Adopt Walmart's state (read again first, then applied here)."""
    _finding(finding_id)
    try:
        actions.adopt(finding_id, by=current_user)
        flash("Reading Walmart again to adopt its state…", "success")
    except ActionRefused as exc:
        flash(str(exc), "error")
    return _back()


@bp.post("/<int:finding_id>/send")
@require_role(Role.OPERATOR)
def send(finding_id: int):
    """Send ours again (through the sync engine, Walmart read back first)."""
    _finding(finding_id)
    try:
        actions.send_again(finding_id, by=current_user)
        flash("Sent again to Walmart: it is read back first, so nothing is sent twice. The "
              "Sync page follows the update.", "success")
    except ActionRefused as exc:
        flash(str(exc), "error")
    return _back()
