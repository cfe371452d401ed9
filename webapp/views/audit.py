"""The Audit log: who did what, when, on which order (read only; nothing edits it)."""

from __future__ import annotations

from flask import Blueprint, request

from webapp.htmx import render_page
from webapp.models import Role
from webapp.numbers import row_id
from webapp.security import require_role
from webapp.services import audit

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@require_role(Role.OPERATOR)
def index():
    """Who did what, newest first, filtered by user, action or order; keyset pages."""
    f = audit.AuditFilter.parse(request.args)
    page = audit.list_events(f, row_id(request.args.get("before")))
    return render_page("audit/index.html", "results", f=f, rows=page.rows,
                       next_before=page.next_before, orders=page.orders, users=page.users,
                       labels=audit.ACTION_LABELS)
