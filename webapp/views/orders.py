"""The Orders dashboard."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Store

bp = Blueprint("orders", __name__)


@bp.get("/")
def index():
    """Orders of every store (import arrives with the order-import feature)."""
    stores = db.session.scalars(select(Store).order_by(Store.name)).all()
    return render_template("orders/index.html", stores=stores)
