"""The Returns dashboard, a return's page, and refunds."""

from __future__ import annotations

import secrets

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user

from webapp import list_versions
from webapp.forms.returns import RefundForm, StartTrackingForm
from webapp.htmx import hx_trigger, is_htmx, render_block, render_page, stop_polling
from webapp.models import Return, ReturnStatus, Role, TaskState
from webapp.numbers import MAX_QUANTITY, whole
from webapp.security import require_role
from webapp.services.errors import ActionRefused
from webapp.services.returns import refund_amounts
from webapp.services.returns.importer import request_returns_import
from webapp.services.returns.listing import ReturnFilter, get_return, list_returns, refunds_of
from webapp.services.returns.refunding import refund_return, stock_rows
from webapp.services.stock.levels import start_tracking

bp = Blueprint("returns", __name__, url_prefix="/returns")
AWAITING = "awaiting"  # the filter of returns still to refund: Received, or a refund that failed


@bp.get("/")
def index():
    """Returns with status cards, search, and the most urgent first. The list polls: fast
    while a refund is on its way, idle otherwise; a poll answers 204 until the returns'
    change marker moves."""
    if is_htmx() and request.args.get("poll") and list_versions.unchanged("returns"):
        return Response(status=204)
    version = list_versions.mark("returns")  # before the rows: a change after it shows later
    status = next((s for s in ReturnStatus if s.slug == request.args.get("status")), None)
    awaiting = request.args.get("status") == AWAITING  # Home's "Awaiting refund": both kinds
    q = request.args.get("q", "").strip()[:100]
    found = list_returns(ReturnFilter(status=status, awaiting=awaiting, q=q))
    status_arg = status.slug if status else (AWAITING if awaiting else None)
    return render_page("returns/index.html", "results", rows=found.rows, counts=found.counts,
                       statuses=list(ReturnStatus), selected=status, awaiting=awaiting,
                       awaiting_count=found.awaiting_count,
                       status_arg=status_arg, q=q,
                       stores=found.stores, in_flight=found.in_flight,
                       poll_url=url_for("returns.index", status=status_arg, q=q or None,
                                        poll=1, v=version))


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
    return get_return(return_id) or abort(404)


def _chosen(ret: Return, values) -> tuple[dict[int, int], dict[str, str], list[str]]:
    """The units typed per refundable line (qty-N; empty: 0), the typed text to show again,
    and a message per line whose text is not a whole number or more than is refundable."""
    quantities, typed, errors = {}, {}, []
    for line in ret.lines:
        if not line.refundable:
            continue
        text = (values.get(f"qty-{line.number}") or "").strip()[:20]
        typed[f"qty-{line.number}"] = text
        quantity = whole(text or "0", MAX_QUANTITY)
        if quantity is None:
            errors.append(f"Line {line.number}: the quantity must be a whole number, 0 or more.")
        elif quantity > line.refundable:
            errors.append(f"Line {line.number} ({line.sku}): only {line.refundable} unit(s) "
                          f"can still be refunded, not {quantity}.")
        else:
            quantities[line.number] = quantity
    return quantities, typed, errors


def _preview(ret: Return, quantities: dict[int, int]) -> dict:
    amounts = refund_amounts.preview(ret.lines, quantities)
    return {"amounts": amounts, "amounts_total": refund_amounts.total(amounts)}


def _page(ret: Return, status: int = 200, errors: list[str] | None = None, block="content",
          form_token: str | None = None, typed: dict[str, str] | None = None,
          preview_errors: list[str] | None = None):
    """The return's page. The refund form starts from everything still refundable with a
    fresh one-time token; shown again with an error, it keeps what was typed and its token
    (that token was not used: nothing changed)."""
    refunds = refunds_of(ret.id)
    in_flight = any(r.task and r.task.state == TaskState.PENDING for r in refunds)
    if typed is None:
        quantities, typed = {x.number: x.refundable for x in ret.lines}, {}
    else:
        quantities = _chosen(ret, typed)[0]
    settled = is_htmx() and bool(request.args.get("poll")) and not in_flight
    context = dict(ret=ret, refunds=refunds, errors=errors or [], in_flight=in_flight,
                   form_token=form_token or secrets.token_urlsafe(16), typed=typed,
                   history=[(r, refund_amounts.of_refund(r)) for r in refunds],
                   refunded=refund_amounts.refunded_total(refunds),
                   refunded_by=refund_amounts.refunded_by(ret.lines, refunds),
                   stock_rows=stock_rows(ret), settled=settled,
                   preview_errors=preview_errors or [], **_preview(ret, quantities))
    response = render_page("returns/show.html", block, status=status, **context)
    if settled:  # the refund settled: the form opens again (swapped out of band)
        response.set_data(response.get_data(as_text=True) + render_block(
            "returns/show.html", "refund_form", **context, oob=True))
        stop_polling(response)
    return response


@bp.get("/<int:return_id>")
def show(return_id: int):
    """A return: its lines, refunds, and the refund form."""
    return _page(_return_or_404(return_id), block="live")


@bp.get("/<int:return_id>/preview")
def preview(return_id: int):
    """What the quantities typed in the refund form would refund, line by line (the whole
    page, with those quantities in the form, outside htmx)."""
    ret = _return_or_404(return_id)
    _quantities, typed, errors = _chosen(ret, request.args)
    return _page(ret, block="preview", typed=typed, preview_errors=errors)


@bp.post("/<int:return_id>/refund")
@require_role(Role.OPERATOR)
def refund(return_id: int):
    """Refund some or all of a return; chosen lines go back to stock."""
    ret = _return_or_404(return_id)
    form = RefundForm.of(ret.lines)
    errors = [] if form.validate_on_submit() else form.messages()
    made = None
    if not errors:
        try:
            made = refund_return(ret.id, form.quantities(), form.restock(), by=current_user,
                                 form_token=form.form_token.data or None)
        except ActionRefused as exc:
            errors.append(str(exc))
    if errors:
        return _page(_return_or_404(return_id), 422, errors,
                     form_token=form.form_token.data or None,
                     typed=_chosen(ret, request.form)[1])
    message = f"Refund of ${made.amount:,.2f} submitted; it is on its way to Walmart."
    if is_htmx():  # the return as it is now, in place; the form starts afresh
        return hx_trigger(_page(_return_or_404(return_id)), "toast", message)
    flash(message, "success")
    return redirect(url_for("returns.show", return_id=return_id), 303)


@bp.post("/<int:return_id>/track")
@require_role(Role.OPERATOR)
def track(return_id: int):
    """Start tracking an untracked SKU of a return line, so its units can go back on hand."""
    ret = _return_or_404(return_id)
    form = StartTrackingForm()
    line = next((x for x in ret.lines if str(x.number) == form.line.data), None)
    try:
        if line is None or not line.sku:
            raise ActionRefused("This return has no such line.")
        held = start_tracking(ret.store_id, line.sku, form.on_hand.data or "",
                              by=current_user, node=line.order.ship_node if line.order else None)
    except ActionRefused as exc:
        return _page(_return_or_404(return_id), 422, [str(exc)])
    message = f"{held.sku} is tracked now: {held.on_hand} on hand. Tick Back on hand to add " \
              "the returned units."
    if is_htmx():
        return hx_trigger(_page(_return_or_404(return_id)), "toast", message)
    flash(message, "success")
    return redirect(url_for("returns.show", return_id=return_id), 303)
