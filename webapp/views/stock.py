"""The Stock page: on hand, reserved, available, and what Walmart last received (per ship
node when the store knows several)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from webapp import list_versions
from webapp.extensions import db
from webapp.htmx import is_htmx, render_page
from webapp.models import Role, SkuStock, Store, SyncTask, TaskKind, TaskState
from webapp.numbers import row_id
from webapp.security import require_role
from webapp.services.errors import ActionRefused
from webapp.services.stock import levels as stock_service
from webapp.services.stock import ship_nodes

bp = Blueprint("stock", __name__, url_prefix="/stock")
PAGE = 200


def _latest_tasks(store_id: int, skus: list[str]) -> dict[tuple[str, str], SyncTask]:
    """The newest push of each (SKU, ship node) shown."""
    newest = select(func.max(SyncTask.id)).where(
        SyncTask.store_id == store_id, SyncTask.kind == TaskKind.INVENTORY,
        SyncTask.target.in_(skus)).group_by(SyncTask.target, stock_service.TASK_NODE)
    return {(t.target, stock_service.task_node(t)): t for t in db.session.scalars(
        select(SyncTask).where(SyncTask.id.in_(newest)))}


def _node_choices(store: Store | None, nodes: list[str]) -> list[tuple[str, str]]:
    """(value, label) of the ship nodes stock can be set at; one or none: no choice to make."""
    if store is None or len(nodes) <= 1:
        return []
    default = f"Default node ({store.default_ship_node})" if store.default_ship_node else \
        "Default node"
    return [("", default)] + [(n, n) for n in nodes if n != store.default_ship_node]


@bp.get("/")
def index():
    """SKUs of a store with their stock and last push. The table polls: fast while a push is
    on its way, idle otherwise; a poll answers 204 until the stock's change marker moves."""
    if is_htmx() and request.args.get("poll") and list_versions.unchanged("stock"):
        return Response(status=204)
    version = list_versions.mark("stock")  # before the rows: a change after it shows later
    stores = db.session.scalars(select(Store).order_by(Store.name)).all()
    store_id = row_id(request.args.get("store")) or (stores[0].id if stores else None)
    q = request.args.get("q", "").strip()[:100]
    query = select(SkuStock).where(SkuStock.store_id == store_id)
    if q:
        query = query.where(SkuStock.sku.ilike(f"%{q}%"))
    rows = db.session.scalars(query.order_by(SkuStock.sku, SkuStock.ship_node)
                              .limit(PAGE)).all()
    store = db.session.get(Store, store_id or 0)
    known = ship_nodes.known_nodes(store) if store else []
    nodes = _node_choices(store, known)
    tasks = _latest_tasks(store_id, [r.sku for r in rows]) if rows else {}
    return render_page("stock/index.html", "results", stores=stores, store_id=store_id, q=q,
                       store=store, can_edit=current_user.can(Role.OPERATOR) and bool(
                           store and not store.read_only),
                       rows=rows, tasks=tasks, nodes=nodes,
                       # A node column whenever a row is not at the default node.
                       show_nodes=bool(nodes) or any(r.ship_node for r in rows),
                       node_labels=dict(nodes) or {"": "Default node"},
                       # Orders name nodes, none is the default: their stock stays apart.
                       unnamed_default=known if store and not store.default_ship_node else [],
                       in_flight=any(t.state == TaskState.PENDING for t in tasks.values()),
                       poll_url=url_for("stock.index", store=store_id, q=q or None, poll=1,
                                        v=version))


@bp.post("/set")
@require_role(Role.OPERATOR)
def set_on_hand():
    """Set one SKU's on-hand quantity (the SKU becomes tracked and is pushed)."""
    store_id = row_id(request.form.get("store"))
    try:
        if db.session.get(Store, store_id or 0) is None:
            raise ActionRefused("Choose a store.")
        held = stock_service.set_on_hand(store_id, request.form.get("sku", ""),
                                         request.form.get("on_hand", ""), by=current_user,
                                         node=request.form.get("ship_node"))
        at = f" at ship node {held.ship_node}" if held.ship_node else ""
        flash(f"{held.sku}{at}: {held.on_hand} on hand, {held.available} available — "
              "on its way to Walmart.", "success")
    except ActionRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("stock.index", store=store_id), 303)


@bp.post("/import")
@require_role(Role.OPERATOR)
def import_file():
    """Set on-hand quantities from a CSV of sku,quantity rows (all checked first)."""
    store_id = row_id(request.form.get("store"))
    file = request.files.get("file")
    try:
        if db.session.get(Store, store_id or 0) is None:
            raise ActionRefused("Choose a store.")
        text = (file.read() if file else b"").decode("utf-8-sig")
        count = stock_service.import_csv(store_id, text, by=current_user)
        flash(f"{count} SKU(s) set; their available quantities are on their way to Walmart.",
              "success")
    except UnicodeDecodeError:
        flash("The file must be UTF-8 text (CSV UTF-8).", "error")
    except ActionRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("stock.index", store=store_id), 303)
