"""The order page, rendered by every view that shows it after an action (Ship, Cancel,
Correct and send again, the page itself): one renderer, so no view imports another's."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import abort
from flask_login import current_user
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.forms.shipping import ShipForm
from webapp.htmx import is_htmx, render_page
from webapp.models import Order, OrderStatus, Role
from webapp.services.orders import detail as order_detail
from webapp.services.orders import money as order_money
from webapp.services.orders import walmart_differences
from webapp.services.printing import records as print_records
from webapp.services.reconcile import findings as reconcile_findings
from webapp.services.shipping.tracking_correction import correction_deadline
from webapp.services.sync.explain import summary
from webapp.team_time import team_zone
from webapp.walmart import enums


def order_or_404(order_id: int) -> Order:
    return db.session.scalar(db.select(Order).where(Order.id == order_id)
                             .options(selectinload(Order.lines))) or abort(404)


def blank_form(order: Order) -> ShipForm:
    """No package yet (Add tracking number adds one), shipped now."""
    form = ShipForm(formdata=None)
    form.ship_time.data = datetime.now(team_zone()).replace(second=0, microsecond=0, tzinfo=None)
    form.form_token.data = secrets.token_urlsafe(16)
    return form


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
    prints = print_records.prints_of(order.id) if block == "content" else None
    return render_page("orders/show.html", block, status=status, payment=payment, prints=prints,
                       order=order, tasks=order_detail.tasks_of(order),
                       shipments=order_detail.shipments_of(order),
                       form=form or (blank_form(order) if can_ship else None),
                       can_ship=can_ship, warnings=warnings or [], carriers=enums.CARRIERS,
                       correction_deadline=correction_deadline, can_cancel=can_ship,
                       differences=walmart_differences.open_for(order),
                       difference_advice=walmart_differences.ADVICE,
                       update_names=walmart_differences.UPDATE_NAMES,
                       reconcile_labels=reconcile_findings.KIND_LABELS,
                       summary=summary, **extra)
