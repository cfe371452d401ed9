"""Cancel Order on the order page; the Stock page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user

from webapp.forms.cancelling import CancelForm
from webapp.htmx import hx_retarget, is_htmx
from webapp.models import Role
from webapp.order_page import order_or_404, render_order
from webapp.security import require_role
from webapp.services.errors import ActionRefused
from webapp.services.stock.cancelling import (
    BUYER_REASON,
    buyer_asked,
    cancel_order,
    cancellable,
    reasons_for,
)

bp = Blueprint("cancelling", __name__)


def _form_for(order) -> CancelForm:
    form = CancelForm(formdata=None)
    if buyer_asked(order):  # the buyer asked: that is the reason to give Walmart
        form.reason.data = BUYER_REASON
    return form


def _render(order, form: CancelForm, status: int = 200, block: str = "cancel_form"):
    return render_order(order, status=status, block=block, cancel_form=form,
                        cancel_lines=cancellable(order), reasons=reasons_for(order))


@bp.get("/orders/<int:order_id>/cancel")
@require_role(Role.OPERATOR)
def form(order_id: int):
    """The Cancel Order form (the form is the confirmation: no browser dialog)."""
    order = order_or_404(order_id)
    return _render(order, _form_for(order))


@bp.post("/orders/<int:order_id>/cancel")
@require_role(Role.OPERATOR)
def submit(order_id: int):
    """Cancel everything not yet shipped with the chosen reason."""
    order = order_or_404(order_id)
    cancel = CancelForm()
    if not cancel.validate_on_submit():
        return _render(order, cancel, 422)
    try:
        cancel_order(order.id, cancel.reason.data, by=current_user)
    except ActionRefused as exc:
        if exc.field == "reason":  # shown at the reason, where it is fixed
            cancel.reason.errors = [*cancel.reason.errors, str(exc)]
        else:
            cancel.form_errors.append(str(exc))
        return _render(order_or_404(order_id), cancel, 422)
    if is_htmx():
        return hx_retarget(render_order(order_or_404(order_id), block="content"))
    flash("Cancellation submitted; it is on its way to Walmart.", "success")
    return redirect(url_for("orders.show", order_id=order_id), 303)
