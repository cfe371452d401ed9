"""The Stock page's list: a store's SKUs with their stock and the newest push of each."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import SkuStock, Store, SyncTask, TaskKind, TaskState
from webapp.services.stock import levels, ship_nodes
from webapp.services.stores import lookup as store_lookup

PAGE = 200


@dataclass(frozen=True)
class StockList:
    stores: list[Store]
    store_id: int | None  # the store shown (the first one when none was asked for)
    store: Store | None
    rows: list[SkuStock] = field(default_factory=list)
    tasks: dict[tuple[str, str], SyncTask] = field(default_factory=dict)
    nodes: list[tuple[str, str]] = field(default_factory=list)  # (value, label) to choose
    known: list[str] = field(default_factory=list)  # the ship nodes the store knows

    @property
    def in_flight(self) -> bool:
        return any(t.state == TaskState.PENDING for t in self.tasks.values())


def _latest_tasks(rows: list[SkuStock]) -> dict[tuple[str, str], SyncTask]:
    """The newest push of each (SKU, ship node) shown: per row, its SKU's pushes read newest
    first in ix_sync_tasks_target until one is of its store and node (the first, unless the
    SKU is pushed at several nodes) — a SKU's pushes are kept for good, thousands of them."""
    newest = select(SyncTask.id).where(
        SyncTask.target == SkuStock.sku, SyncTask.store_id == SkuStock.store_id,
        SyncTask.kind == TaskKind.INVENTORY, levels.TASK_NODE == SkuStock.ship_node) \
        .order_by(SyncTask.id.desc()).limit(1).correlate(SkuStock).scalar_subquery()
    # Two statements: inside one, PostgreSQL runs each row's seek twice (once more to join).
    ids = [i for i in db.session.scalars(select(newest).where(
        SkuStock.id.in_([r.id for r in rows]))) if i is not None]
    return {(t.target, levels.task_node(t)): t for t in db.session.scalars(
        select(SyncTask).where(SyncTask.id.in_(ids)))} if ids else {}


def node_choices(store: Store | None, nodes: list[str]) -> list[tuple[str, str]]:
    """(value, label) of the ship nodes stock can be set at; one or none: no choice to make."""
    if store is None or len(nodes) <= 1:
        return []
    default = f"Default node ({store.default_ship_node})" if store.default_ship_node else \
        "Default node"
    return [("", default)] + [(n, n) for n in nodes if n != store.default_ship_node]


def list_stock(store_id: int | None, q: str = "") -> StockList:
    """A store's SKUs whose name holds `q`, by SKU and ship node (at most PAGE); no store
    named: the first by name."""
    stores = store_lookup.by_name()
    store_id = store_id or (stores[0].id if stores else None)
    query = select(SkuStock).where(SkuStock.store_id == store_id)
    if q:
        query = query.where(SkuStock.sku.ilike(f"%{q}%"))
    rows = list(db.session.scalars(query.order_by(SkuStock.sku, SkuStock.ship_node)
                                   .limit(PAGE)))
    store = db.session.get(Store, store_id or 0)
    known = ship_nodes.known_nodes(store) if store else []
    return StockList(stores=stores, store_id=store_id, store=store, rows=rows,
                     tasks=_latest_tasks(rows) if rows else {},
                     nodes=node_choices(store, known), known=known)
