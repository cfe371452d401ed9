"""Ship nodes: the warehouses a store's orders ship from, and the stock row each one counts on.

Stock is kept per (store, SKU, ship node). The node "" is the store's default node: orders from
the default node, and orders that name no node, count there, as does stock set without naming a
node. Walmart updates the default node when an inventory call names none.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Order, Store
from webapp.services.errors import ActionRefused

MAX_NODE = 40  # the columns' size
# Walmart's node ids are short tokens (e.g. "100009", "79897837271126017").
NODE_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")


def clean_node(value: str | None, field: str = "default_ship_node") -> str | None:
    """A ship node id typed by a person: None when empty; refused unless a short token."""
    node = (value or "").strip()
    if not node:
        return None
    if not NODE_ID.fullmatch(node):
        shown = node if len(node) <= 50 else node[:50] + "…"
        raise ActionRefused(f"A ship node id is letters, digits, '-' and '_', at most "
                            f"{MAX_NODE} characters (as Walmart shows it in Seller Center), "
                            f"not {shown!r}.", field=field)
    return node


def order_node(walmart_id: str | None) -> str | None:
    """The node id Walmart sent on an order, if it is one we can keep (fits the column)."""
    return walmart_id if walmart_id and len(walmart_id) <= MAX_NODE else None


def stock_node(store: Store, node: str | None) -> str:
    """The stock row a node counts on: "" for the store's default node or none named."""
    return "" if not node or node == store.default_ship_node else node


def known_nodes(store: Store) -> list[str]:
    """The ship nodes a store knows: its default node, then every node its orders named."""
    seen = db.session.scalars(select(Order.ship_node).where(
        Order.store_id == store.id, Order.ship_node.is_not(None)).distinct()).all()
    default = [store.default_ship_node] if store.default_ship_node else []
    return default + sorted(set(seen) - set(default))


def push_node(store: Store, row_node: str) -> str | None:
    """The shipNode an inventory update names: none while the store knows one node at most
    (Walmart then updates the default node, as before ship nodes); otherwise the row's node,
    or the store's default node for the default row."""
    if len(known_nodes(store)) <= 1:
        return None
    return row_node or store.default_ship_node or None


def _has_stock(store: Store, node: str) -> bool:
    """Stock is kept at the node (e.g. a former default node no order came from)."""
    from webapp.models import SkuStock

    return db.session.scalar(select(SkuStock.id).where(
        SkuStock.store_id == store.id, SkuStock.ship_node == node).limit(1)) is not None


def stock_choice(store: Store, value: str | None, known: list[str] | None = None) -> str:
    """The node a person names when setting stock: one the store knows, or none (default)."""
    node = clean_node(value, field="ship_node")
    if node is None:
        return ""
    if node not in (known if known is not None else known_nodes(store)) and not _has_stock(
            store, node):
        raise ActionRefused(f"{store.name} knows no ship node {node!r}: name its default node "
                            "or one its orders came from.", field="ship_node")
    return stock_node(store, node)


def open_units(store: Store) -> dict[tuple[str, str], int]:
    """Units of the store's open orders not yet shipped or canceled, per (SKU, stock node):
    what its stock rows must hold as reserved."""
    from webapp.models import OrderLine

    open_qty = OrderLine.quantity - OrderLine.shipped_qty - OrderLine.canceled_qty
    totals: dict[tuple[str, str], int] = {}
    for sku, node, units in db.session.execute(
            select(OrderLine.sku, Order.ship_node, func.sum(open_qty))
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.store_id == store.id, open_qty > 0)
            .group_by(OrderLine.sku, Order.ship_node)):
        key = (sku, stock_node(store, node))
        totals[key] = totals.get(key, 0) + int(units)
    return totals


def change_default(store: Store, new: str | None) -> None:
    """Make `new` the store's default node, moving stock with it: the old default row becomes
    that node's own row, the new node's row becomes the default row (on-hand quantities of rows
    that meet are added), reservations are recounted from the open orders, and every row that
    changed is pushed. The caller commits."""
    from webapp.models import SkuStock, SyncTask, TaskKind, TaskState
    from webapp.services.stock import levels as stock

    old = store.default_ship_node
    if old == new:
        return
    rows = db.session.scalars(select(SkuStock).where(
        SkuStock.store_id == store.id, SkuStock.ship_node.in_(["", new or ""]))).all()
    store.default_ship_node = new
    targets: dict[tuple[str, str], list] = {}
    for row in rows:  # where each row's units are: its node, "" meaning the old default
        targets.setdefault((row.sku, stock_node(store, row.ship_node or old)), []).append(row)
    moved = []
    for (_sku, node), group in targets.items():
        keep, *merged = group
        tracked = [r.on_hand for r in group if r.on_hand is not None]
        keep.on_hand = sum(tracked) if tracked else None
        if merged or keep.ship_node != node:
            keep.pushed_quantity = keep.pushed_at = None  # Walmart's figure was another node's
        for row in merged:
            db.session.delete(row)
        moved.append((keep, node))
    db.session.flush()
    for keep, _node in moved:  # (two steps: a row may take the key another row leaves)
        keep.ship_node = f"~{keep.id}"
    db.session.flush()
    for keep, node in moved:
        keep.ship_node = node
    db.session.flush()
    if new:  # pushes waiting for the new default node's own row now push the default row
        for task in db.session.scalars(select(SyncTask).where(
                SyncTask.store_id == store.id, SyncTask.kind == TaskKind.INVENTORY,
                SyncTask.state == TaskState.PENDING, stock.TASK_NODE == new)):
            task.payload = {k: v for k, v in task.payload.items() if k != "shipNode"}
    recount(store, [keep for keep, _node in moved])


def recount(store: Store, changed: list | None = None) -> None:
    """Set every stock row's reserved units to what the store's open orders hold at its node;
    push rows whose available quantity may have changed."""
    from webapp.models import SkuStock
    from webapp.services.stock import levels as stock

    totals = open_units(store)
    rows = {(r.sku, r.ship_node): r for r in db.session.scalars(
        select(SkuStock).where(SkuStock.store_id == store.id))}
    push = {id(r): r for r in changed or []}
    for key, row in rows.items():
        if row.reserved != totals.get(key, 0):
            row.reserved = totals.get(key, 0)
            push[id(row)] = row
    for (sku, node), units in totals.items():
        if (sku, node) not in rows:
            db.session.add(SkuStock(store_id=store.id, sku=sku, ship_node=node, on_hand=None,
                                    reserved=units))
    db.session.flush()
    for row in push.values():
        stock.request_push(row)
