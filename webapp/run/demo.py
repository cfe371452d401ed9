"""The demo `make run` sets up: the built-in Walmart simulator, a seller with orders, a store."""

from __future__ import annotations

import secrets
import sys
import time
import urllib.request
from pathlib import Path

from webapp.run.redis_server import free_port
from webapp.run.supervisor import Child

DEMO_SELLER = "demo-seller"
DEMO_CLIENT_ID = "orderdeck-demo"
DEMO_STORE = "Demo store (simulator)"


def port_is_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def simulator_child(instance: Path, port: int, env: dict[str, str],
                    log: Path | None = None) -> tuple[Child, str]:
    """The simulator as a supervised child, on `port` or, when that is taken, a free one;
    its output goes to `log`."""
    port = port if port_is_free(port) else free_port()
    db = instance / "simulator.sqlite"
    command = [sys.executable, "-m", "simulator", "--db", str(db), "serve", "--port", str(port),
               "--workers", "2", "--threads", "16"]
    return Child("simulator", command, env, log=log), f"http://127.0.0.1:{port}"


def wait_for(url: str, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def prepare_seller(instance: Path, orders: int) -> str:
    """The demo seller at the simulator, seeded once; returns its client secret."""
    from simulator import control

    conn = control.conn_for(instance / "simulator.sqlite")
    row = conn.execute("SELECT client_secret FROM sellers WHERE seller_id = ?",
                       (DEMO_SELLER,)).fetchone()
    secret = row["client_secret"] if row else secrets.token_urlsafe(24)
    if row is None:
        control.add_seller(conn, DEMO_SELLER, DEMO_CLIENT_ID, secret, "Demo seller")
    has_orders = conn.execute("SELECT 1 FROM orders WHERE seller_id = ? LIMIT 1",
                              (DEMO_SELLER,)).fetchone()
    if not has_orders and orders > 0:
        control.seed_orders(conn, DEMO_SELLER, orders, seed=2026, days=3)
        seed_returns(conn, count=max(orders // 30, 1))
    return secret


def seed_returns(conn, count: int) -> None:
    """A few older orders shipped, delivered and returned at Walmart, so Returns has work."""
    from simulator import control
    from simulator.rules import acknowledge, deliver

    older = [r["po"] for r in conn.execute(
        "SELECT po FROM orders WHERE seller_id = ? ORDER BY order_ms LIMIT ?",
        (DEMO_SELLER, count))]
    for n, po in enumerate(older):
        def ship_all(order, now, n=n):
            acknowledge(order, now)
            for line in order["lines"]:
                line["shipments"].append({"qty": line["acknowledged"], "delivered": 0, "at": now,
                                          "tracking": {"shipDateTime": now, "carrierName": {
                                              "carrier": "UPS", "otherCarrier": None},
                                              "methodCode": "Standard",
                                              "carrierMethodCode": None,
                                              "trackingNumber": f"1ZDEMO{n:012d}",
                                              "trackingURL": None}})
                line["acknowledged"] = 0
            deliver(order, now)
        control.update_order(conn, DEMO_SELLER, po, ship_all)
        control.open_return(conn, DEMO_SELLER, po, seed=n, received=n % 2 == 0)


def prepare_store(simulator_url: str, secret: str) -> str:
    """Create the demo store, or point it at this run's simulator address."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Environment, Store
    from webapp.services.stores import StoreInput, create_store, update_store

    store = db.session.scalar(select(Store).where(Store.name == DEMO_STORE))
    data = StoreInput(name=DEMO_STORE, environment=Environment.SIMULATOR,
                      base_url=simulator_url, client_id=DEMO_CLIENT_ID, client_secret=secret,
                      import_enabled=True)
    if store is None:
        create_store(data, by=None)
        return f"created {DEMO_STORE} on {simulator_url}"
    from webapp.secrets_box import SecretUnreadable
    from webapp.services.stores import client_secret

    try:
        same_secret = client_secret(store) == secret
    except SecretUnreadable:
        same_secret = False
    if store.base_url != simulator_url or not same_secret:
        data.import_enabled = store.import_enabled
        update_store(store, data, by=None)
        return f"pointed {DEMO_STORE} at {simulator_url}"
    return f"{DEMO_STORE} ready on {simulator_url}"
