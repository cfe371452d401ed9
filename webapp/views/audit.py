"""The Audit log: who did what, when, on which order (read only; nothing edits it)."""

from __future__ import annotations

from flask import Blueprint, request
from sqlalchemy import select

from webapp.extensions import db
from webapp.htmx import render_page
from webapp.models import Order, Role, User
from webapp.numbers import row_id
from webapp.security import require_role
from webapp.services import audit

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@require_role(Role.OPERATOR)
def index():
    f = audit.AuditFilter.parse(request.args)
    rows, next_before = audit.events(f, row_id(request.args.get("before")))
    # Link each event about an order to that order.
    subjects = {e.subject for e in rows if e.subject}
    orders = dict(db.session.execute(select(Order.number, Order.id).where(
        Order.number.in_(subjects))).all()) if subjects else {}
    users = db.session.scalars(select(User).order_by(User.email)).all()
    return render_page("audit/index.html", "results", f=f, rows=rows, next_before=next_before,
                       orders=orders, users=users, labels=audit.ACTION_LABELS)
