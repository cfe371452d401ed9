"""The Home page: what needs doing now."""

from __future__ import annotations

from flask import Blueprint, render_template

from webapp.models.base import utcnow
from webapp.services.orders import dashboard
from webapp.services.stores import health as store_health

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    now = utcnow()
    health = store_health.all_health(count_today=False)
    refunds_count, awaiting = dashboard.awaiting_refund(now=now)
    return render_template(
        "home/index.html", now=now, stores=[h.store for h in health], health=health,
        needs=dashboard.needs(now), errors=sum(h.open_errors for h in health),
        refunds_count=refunds_count, awaiting=awaiting,
        chart=dashboard.chart(dashboard.last_days(now=now)))
