"""Ship nodes: the warehouses a store's orders ship from, and the stock row each one counts on.

Stock is kept per (store, SKU, ship node). The node "" is the store's default node: orders from
the default node, and orders that name no node, count there, as does stock set without naming a
node. Walmart updates the default node when an inventory call names none.
"""

from __future__ import annotations

import re

from sqlalchemy import select, text

from webapp.extensions import db
from webapp.models import SkuStock, Store
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


# A loose index scan over ix_orders_store_ship_node: each step seeks the next node after the
# last one found, so the cost is the number of nodes (a handful), not the number of the store's
# orders, which a DISTINCT reads one by one (a third of a million for a big shop) — and every
# inventory push asks (push_node).
NODES_OF_STORE = text("""
    WITH RECURSIVE nodes(node) AS (
        SELECT (SELECT ship_node FROM orders WHERE store_id = :store AND ship_node IS NOT NULL
                ORDER BY ship_node LIMIT 1)
        UNION ALL
        SELECT (SELECT ship_node FROM orders WHERE store_id = :store AND ship_node > nodes.node
                ORDER BY ship_node LIMIT 1)
        FROM nodes WHERE nodes.node IS NOT NULL)
    SELECT node FROM nodes WHERE node IS NOT NULL""")


def known_nodes(store: Store) -> list[str]:
    """The ship nodes a store knows: its default node, then every node its orders named."""
    seen = db.session.scalars(NODES_OF_STORE, {"store": store.id}).all()
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
