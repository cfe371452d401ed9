"""The Home page: what needs doing now."""

from __future__ import annotations

from flask import Blueprint, render_template

from webapp.models.base import utcnow
from webapp.services.orders import dashboard, day_figures
from webapp.services.stores import health as store_health

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    now = utcnow()
    imports = store_health.store_imports()
    todo = dashboard.todo(now)
    return render_template(
        "home/index.html", now=now, stores=[i.store for i in imports], health=imports,
        needs=todo.needs, errors=sum(i.open_errors for i in imports),
        refunds_count=todo.awaiting_refund, awaiting=todo.refund_deadlines,
        differences=todo.differences,
        chart=dashboard.chart(day_figures.last_days(now=now)))
