"""The Stock page: on hand, reserved, available, and what Walmart last received (per ship
node when the store knows several)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, request, url_for
from flask_login import current_user

from webapp import list_versions
from webapp.forms.stock import StockForm, StockImportForm
from webapp.htmx import is_htmx, render_page
from webapp.models import Role
from webapp.numbers import row_id
from webapp.security import require_role
from webapp.services.errors import ActionRefused
from webapp.services.stock import levels as stock_service
from webapp.services.stock.listing import list_stock

bp = Blueprint("stock", __name__, url_prefix="/stock")


@bp.get("/")
def index():
    """SKUs of a store with their stock and last push. The table polls: fast while a push is
    on its way, idle otherwise; a poll answers 204 until the stock's change marker moves."""
    if is_htmx() and request.args.get("poll") and list_versions.unchanged("stock"):
        return Response(status=204)
    version = list_versions.mark("stock")  # before the rows: a change after it shows later
    q = request.args.get("q", "").strip()[:100]
    found = list_stock(row_id(request.args.get("store")), q)
    store, store_id, rows, nodes = found.store, found.store_id, found.rows, found.nodes
    return render_page("stock/index.html", "results", stores=found.stores, store_id=store_id,
                       q=q, store=store, can_edit=current_user.can(Role.OPERATOR) and bool(
                           store and not store.read_only),
                       rows=rows, tasks=found.tasks, nodes=nodes,
                       # A node column whenever a row is not at the default node.
                       show_nodes=bool(nodes) or any(r.ship_node for r in rows),
                       node_labels=dict(nodes) or {"": "Default node"},
                       # Orders name nodes, none is the default: their stock stays apart.
                       unnamed_default=found.known if store and not store.default_ship_node
                       else [],
                       in_flight=found.in_flight,
                       poll_url=url_for("stock.index", store=store_id, q=q or None, poll=1,
                                        v=version))


@bp.post("/set")
@require_role(Role.OPERATOR)
def set_on_hand():
    """Set one SKU's on-hand quantity (the SKU becomes tracked and is pushed)."""
    form = StockForm()
    if not form.validate_on_submit():
        flash(form.messages()[0], "error")
        return redirect(url_for("stock.index", store=form.store_id), 303)
    try:
        held = stock_service.set_on_hand(form.store_id, form.sku.data or "",
                                         form.on_hand.data or "", by=current_user,
                                         node=form.ship_node.data)
        at = f" at ship node {held.ship_node}" if held.ship_node else ""
        flash(f"{held.sku}{at}: {held.on_hand} on hand, {held.available} available — "
              "on its way to Walmart.", "success")
    except ActionRefused as exc:
        flash(str(exc), "error")
    return redirect(url_for("stock.index", store=form.store_id), 303)


@bp.post("/import")
@require_role(Role.OPERATOR)
def import_file():
    """Set on-hand quantities from a CSV of sku,quantity rows (all checked first)."""
    form = StockImportForm()
    if not form.validate_on_submit():
        flash(form.messages()[0], "error")
        return redirect(url_for("stock.index", store=form.store_id), 303)
    file = form.file.data
    try:
        text = (file.read() if file else b"").decode("utf-8-sig")
        count = stock_service.import_csv(form.store_id, text, by=current_user)
        flash(f"{count} SKU(s) set; their available quantities are on their way to Walmart.",
              "success")
    except UnicodeDecodeError:
        flash("The file must be UTF-8 text (CSV UTF-8).", "error")
    except ActionRefused as exc:
        flash(str(exc), "error")
    return redirect(url_for("stock.index", store=form.store_id), 303)
