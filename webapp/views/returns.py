"""The Returns dashboard, a return's page, and refunds."""

from __future__ import annotations

import secrets

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from webapp import list_versions
from webapp.extensions import db
from webapp.htmx import is_htmx, render_page, stop_polling
from webapp.models import (
    Order,
    Refund,
    Return,
    ReturnLine,
    ReturnStatus,
    Role,
    Store,
    SyncTask,
    TaskState,
)
from webapp.numbers import MAX_QUANTITY, whole
from webapp.security import require_role
from webapp.services.errors import ActionRefused
from webapp.services.refunding import refund_return
from webapp.services.returns_import import request_returns_import

bp = Blueprint("returns", __name__, url_prefix="/returns")


@bp.get("/")
def index():
    """Returns with status cards, search, and the most urgent first. The list polls: fast
    while a refund is on its way, idle otherwise; a poll answers 204 until the returns'
    change marker moves."""
    if is_htmx() and request.args.get("poll") and list_versions.unchanged("returns"):
        return Response(status=204)
    version = list_versions.mark("returns")  # before the rows: a change after it shows later
    status = next((s for s in ReturnStatus if s.slug == request.args.get("status")), None)
    q = request.args.get("q", "").strip()[:100]
    query = select(Return).options(selectinload(Return.lines).selectinload(ReturnLine.order))
    if status:
        query = query.where(Return.status == status.value)
    if q:
        lines = select(ReturnLine.return_id).outerjoin(Order, ReturnLine.order_id == Order.id) \
            .where(or_(ReturnLine.sku == q, ReturnLine.purchase_order_id == q, Order.number == q))
        query = query.where(or_(Return.rma == q, Return.customer_order_id == q,
                                Return.customer_name.ilike(f"%{q}%"), Return.id.in_(lines)))
    rows = db.session.scalars(query.order_by(Return.return_by.asc(), Return.id).limit(200)) \
        .unique().all()
    counts = dict(db.session.execute(select(Return.status, func.count(Return.id))
                                     .group_by(Return.status)).all())
    stores = db.session.scalars(select(Store).order_by(Store.name)).all()
    in_flight = bool(rows) and db.session.scalar(
        select(Refund.id).join(SyncTask, Refund.task_id == SyncTask.id)
        .where(Refund.return_id.in_([r.id for r in rows]),
               SyncTask.state == TaskState.PENDING.value).limit(1)) is not None
    return render_page("returns/index.html", "results", rows=rows, counts=counts,
                       statuses=list(ReturnStatus), selected=status, q=q, stores=stores,
                       in_flight=in_flight,
                       poll_url=url_for("returns.index", status=status.slug if status else None,
                                        q=q or None, poll=1, v=version))


@bp.post("/import")
@require_role(Role.OPERATOR)
def import_now():
    """Import returns now, of every store whose import is on."""
    if request_returns_import():
        flash("Returns import started.", "success")
    else:
        flash("No store has import switched on: nothing to import.", "info")
    return redirect(url_for("returns.index"), 303)


def _return_or_404(return_id: int) -> Return:
    return db.session.scalar(select(Return).where(Return.id == return_id).options(
        selectinload(Return.lines).selectinload(ReturnLine.order))) or abort(404)


def _page(ret: Return, status: int = 200, errors: list[str] | None = None, block="content",
          form_token: str | None = None):
    """The return's page; the refund form gets a fresh one-time token unless it is shown again
    with an error (that token was not used: nothing changed)."""
    refunds = db.session.scalars(select(Refund).where(Refund.return_id == ret.id)
                                 .order_by(Refund.id).options(selectinload(Refund.task))).all()
    in_flight = any(r.task and r.task.state == "pending" for r in refunds)
    response = render_page("returns/show.html", block, status=status, ret=ret, refunds=refunds,
                           errors=errors or [], in_flight=in_flight,
                           form_token=form_token or secrets.token_urlsafe(16))
    if is_htmx() and request.args.get("poll") and not in_flight:
        stop_polling(response)
    return response


@bp.get("/<int:return_id>")
def show(return_id: int):
    """A return: its lines, refunds, and the refund form."""
    return _page(_return_or_404(return_id), block="live")


@bp.post("/<int:return_id>/refund")
@require_role(Role.OPERATOR)
def refund(return_id: int):
    """Refund some or all of a return; chosen lines go back to stock."""
    ret = _return_or_404(return_id)
    quantities, errors = {}, []
    for line in ret.lines:
        quantity = whole(request.form.get(f"qty-{line.number}", "").strip() or "0",
                         MAX_QUANTITY)
        if quantity is None:
            errors.append(f"Line {line.number}: the quantity must be a whole number, 0 or more.")
            continue
        quantities[line.number] = quantity
    restock = {line.number for line in ret.lines if request.form.get(f"restock-{line.number}")}
    if not errors:
        try:
            refund_return(ret.id, quantities, restock, by=current_user,
                          form_token=request.form.get("form_token") or None)
        except ActionRefused as exc:
            db.session.rollback()
            errors.append(str(exc))
    if errors:
        return _page(_return_or_404(return_id), 422, errors,
                     form_token=request.form.get("form_token") or None)
    if is_htmx():  # the return as it is now, in place
        return _page(_return_or_404(return_id))
    flash("Refund submitted; it is on its way to Walmart.", "success")
    return redirect(url_for("returns.show", return_id=return_id), 303)
