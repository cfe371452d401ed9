"""The simulator's state: one SQLite file, shared by its server processes and its CLI."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS sellers (
    seller_id TEXT PRIMARY KEY, partner_id TEXT NOT NULL, name TEXT NOT NULL,
    client_id TEXT UNIQUE NOT NULL, client_secret TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, seller_id TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    seller_id TEXT NOT NULL, po TEXT NOT NULL, customer_order_id TEXT NOT NULL,
    order_ms INTEGER NOT NULL, modified_ms INTEGER NOT NULL, esd_ms INTEGER NOT NULL,
    open_units INTEGER NOT NULL, has_created INTEGER NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (seller_id, po));
-- The order searches page in (order_ms, po) order: each index below holds every column a
-- search filters on and sorts by, so a page's keys are read from the index alone (listing.py)
-- and only the page's own documents are read from the table.
CREATE INDEX IF NOT EXISTS ix_orders_created_page ON orders (seller_id, order_ms, po, modified_ms);
CREATE INDEX IF NOT EXISTS ix_orders_modified_page ON orders (seller_id, modified_ms, order_ms, po);
CREATE INDEX IF NOT EXISTS ix_orders_released_page ON orders (seller_id, has_created, order_ms, po);
-- Orders Walmart may still auto-cancel (every request asks whether one is due).
CREATE INDEX IF NOT EXISTS ix_orders_due ON orders (esd_ms, open_units) WHERE open_units > 0;
DROP INDEX IF EXISTS ix_orders_date;
DROP INDEX IF EXISTS ix_orders_modified;
DROP INDEX IF EXISTS ix_orders_released;
DROP INDEX IF EXISTS ix_orders_open;
CREATE TABLE IF NOT EXISTS returns (
    seller_id TEXT NOT NULL, rma TEXT NOT NULL, customer_order_id TEXT NOT NULL,
    created_ms INTEGER NOT NULL, modified_ms INTEGER NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (seller_id, rma));
CREATE TABLE IF NOT EXISTS inventory (
    seller_id TEXT NOT NULL, sku TEXT NOT NULL, ship_node TEXT NOT NULL DEFAULT '',
    amount INTEGER NOT NULL, PRIMARY KEY (seller_id, sku, ship_node));
CREATE TABLE IF NOT EXISTS buckets (
    seller_id TEXT NOT NULL, endpoint TEXT NOT NULL, tokens REAL NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (seller_id, endpoint));
CREATE TABLE IF NOT EXISTS faults (endpoint TEXT PRIMARY KEY, config TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, seller_id TEXT, method TEXT NOT NULL,
    path TEXT NOT NULL, endpoint TEXT, status INTEGER, correlation_id TEXT, body TEXT,
    response TEXT, headers TEXT);
CREATE INDEX IF NOT EXISTS ix_requests_endpoint ON requests (endpoint, status);
CREATE TABLE IF NOT EXISTS subscriptions (
    subscription_id TEXT PRIMARY KEY, seller_id TEXT NOT NULL, event_type TEXT NOT NULL,
    event_version TEXT NOT NULL, resource_name TEXT NOT NULL, event_url TEXT NOT NULL,
    status TEXT NOT NULL, auth TEXT, headers TEXT, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS ix_subscriptions_seller ON subscriptions (seller_id, status);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, seller_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL, event_id TEXT NOT NULL, event_type TEXT NOT NULL,
    po TEXT, body TEXT NOT NULL, state TEXT NOT NULL, due REAL NOT NULL,
    claimed_until REAL, attempts INTEGER NOT NULL DEFAULT 0,
    wrong_password INTEGER NOT NULL DEFAULT 0, fault TEXT, last_status INTEGER,
    last_error TEXT, created REAL NOT NULL, sent REAL);
CREATE INDEX IF NOT EXISTS ix_deliveries_due ON deliveries (state, due);
CREATE INDEX IF NOT EXISTS ix_deliveries_seller ON deliveries (seller_id, id);
"""

_local = threading.local()
KEEP_REQUESTS = 20000


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection for this thread (WAL, busy timeout: several processes share the file)."""
    key = str(path)
    cache = getattr(_local, "connections", None)
    if cache is None:
        cache = _local.connections = {}
    conn = cache.get(key)
    if conn is None:
        Path(key).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(key, timeout=30, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA synchronous=NORMAL")
        _per_node_inventory(conn)
        conn.executescript(SCHEMA)
        cache[key] = conn
    return conn


def _per_node_inventory(conn: sqlite3.Connection) -> None:
    """A state file from before ship nodes keeps its quantities, at the default node ('')."""
    columns = {row["name"] for row in conn.execute("PRAGMA table_info(inventory)")}
    if columns and "ship_node" not in columns:
        conn.executescript(
            "BEGIN IMMEDIATE; ALTER TABLE inventory RENAME TO inventory_before_nodes; "
            "CREATE TABLE inventory (seller_id TEXT NOT NULL, sku TEXT NOT NULL, "
            "ship_node TEXT NOT NULL DEFAULT '', amount INTEGER NOT NULL, "
            "PRIMARY KEY (seller_id, sku, ship_node)); "
            "INSERT INTO inventory (seller_id, sku, amount) "
            "SELECT seller_id, sku, amount FROM inventory_before_nodes; "
            "DROP TABLE inventory_before_nodes; COMMIT;")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction that takes the lock at once (no upgrade deadlocks)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def get_setting(conn: sqlite3.Connection, key: str, default: Any = None) -> Any:
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return json.loads(row["value"]) if row else default


def set_setting(conn: sqlite3.Connection, key: str, value: Any) -> None:
    conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                 (key, json.dumps(value)))


def now_ms(conn: sqlite3.Connection) -> int:
    """The simulator's clock: real time plus whatever `advance-clock` added."""
    return int(time.time() * 1000) + int(get_setting(conn, "clock_offset_ms", 0))


def log_request(conn: sqlite3.Connection, **fields: Any) -> None:
    cur = conn.execute(
        "INSERT INTO requests (at, seller_id, method, path, endpoint, status, correlation_id, "
        "body, response, headers) VALUES (:at, :seller_id, :method, :path, :endpoint, :status, "
        ":correlation_id, :body, :response, :headers)",
        {"at": time.time(), "headers": None, **fields})
    if cur.lastrowid and cur.lastrowid % 1000 == 0:
        conn.execute("DELETE FROM requests WHERE id <= ?", (cur.lastrowid - KEEP_REQUESTS,))
