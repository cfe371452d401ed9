"""A store's default ship node changing: its stock moves with it, the reservations are counted
again from the open orders, and every row that changed is pushed."""

from __future__ import annotations

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Order, OrderLine, SkuStock, Store, SyncTask, TaskKind, TaskState
from webapp.services.stock import levels as stock
from webapp.services.stock import ship_nodes


def open_units(store: Store) -> dict[tuple[str, str], int]:
    """Units of the store's open orders not yet shipped or canceled, per (SKU, stock node):
    what its stock rows must hold as reserved."""
    open_qty = OrderLine.quantity - OrderLine.shipped_qty - OrderLine.canceled_qty
    totals: dict[tuple[str, str], int] = {}
    for sku, node, units in db.session.execute(
            select(OrderLine.sku, Order.ship_node, func.sum(open_qty))
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.store_id == store.id, open_qty > 0)
            .group_by(OrderLine.sku, Order.ship_node)):
        key = (sku, ship_nodes.stock_node(store, node))
        totals[key] = totals.get(key, 0) + int(units)
    return totals


def change_default(store: Store, new: str | None) -> None:
    """Make `new` the store's default node, moving stock with it: the old default row becomes
    that node's own row, the new node's row becomes the default row (on-hand quantities of rows
    that meet are added), reservations are recounted from the open orders, and every row that
    changed is pushed. The caller commits."""
    old = store.default_ship_node
    if old == new:
        return
    rows = db.session.scalars(select(SkuStock).where(
        SkuStock.store_id == store.id, SkuStock.ship_node.in_(["", new or ""]))).all()
    store.default_ship_node = new
    targets: dict[tuple[str, str], list] = {}
    for row in rows:  # where each row's units are: its node, "" meaning the old default
        node = ship_nodes.stock_node(store, row.ship_node or old)
        targets.setdefault((row.sku, node), []).append(row)
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
