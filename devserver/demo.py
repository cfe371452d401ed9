"""The demo `make run` sets up: the built-in Walmart simulator, a seller with orders, a store.

One deliberate exception to "the simulator behaves as Walmart": the demo seller's rate limits
are DEMO_RATE_SCALE times Walmart's (its own scale at the simulator; every other seller keeps
Walmart's), and the demo store's own limits say the same. At Walmart's 60 acknowledgements a
minute, the 300 demo orders would read "Acknowledging with Walmart…" for five minutes; scaled,
the first minute of the demo is the product, not a queue. The demo's SKUs start tracked (a
cancellation or a refund moves stock, and Walmart hears of it), as a merchant's would once
set up.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from devserver.net import free_port, port_is_free
from devserver.supervisor import Child

DEMO_SELLER = "demo-seller"
DEMO_CLIENT_ID = "orderdeck-demo"
DEMO_STORE = "Demo store (simulator)"
DEMO_RATE_SCALE = 10  # × Walmart's limits, for the demo seller and store only


def demo_limits() -> dict[str, int]:
    """The demo store's own limits: Walmart's × DEMO_RATE_SCALE, as the simulator applies."""
    from webapp.walmart.enums import RATE_LIMITS

    return {endpoint: calls * DEMO_RATE_SCALE for endpoint, calls in RATE_LIMITS.items()}


def demo_stock() -> dict[str, int]:
    """On hand per SKU of the simulator's catalogue: enough for the demo's orders (about 30
    units a SKU) and then some, a different figure each so the Stock page reads real."""
    from simulator.generator import CATALOGUE

    return {sku: 40 + (number * 17) % 60 for number, (sku, _name, _price) in
            enumerate(CATALOGUE)}


def simulator_child(instance: Path, port: int, env: dict[str, str],
                    log: Path | None = None) -> tuple[Child, str]:
    """The simulator as a supervised child, on `port` or, when that is taken, a free one;
    its output goes to `log`."""
    port = port if port_is_free(port) else free_port()
    db = instance / "simulator.sqlite"
    command = [sys.executable, "-m", "simulator", "--db", str(db), "serve", "--port", str(port),
               "--workers", "2", "--threads", "16"]
    return Child("simulator", command, env, log=log), f"http://127.0.0.1:{port}"


def simulator_conn(instance: Path):
    from simulator import control

    return control.conn_for(instance / "simulator.sqlite")


def prepare_seller(conn, orders: int) -> str:
    """The demo seller at the simulator (`conn`: its state), seeded once, its limits scaled;
    returns its client secret."""
    from simulator import control

    row = conn.execute("SELECT client_secret FROM sellers WHERE seller_id = ?",
                       (DEMO_SELLER,)).fetchone()
    secret = row["client_secret"] if row else secrets.token_urlsafe(24)
    if row is None:
        control.add_seller(conn, DEMO_SELLER, DEMO_CLIENT_ID, secret, "Demo seller")
    control.set_rate_scale(conn, DEMO_RATE_SCALE, seller_id=DEMO_SELLER)
    has_orders = conn.execute("SELECT 1 FROM orders WHERE seller_id = ? LIMIT 1",
                              (DEMO_SELLER,)).fetchone()
    if not has_orders and orders > 0:
        # A shop's history, not a backlog: what was due is shipped (on its ship date, in
        # Seller Center), so Home opens on today's work rather than a hundred overdue orders.
        control.seed_orders(conn, DEMO_SELLER, orders, seed=2026, days=3, ship_due=True)
        seed_returns(conn, count=max(orders // 30, 1))
    return secret


def seed_returns(conn, count: int) -> None:
    """A few older orders shipped in Seller Center (by the seed's history, or here),
    delivered and returned at Walmart, so Returns has work (Orderdeck's import records their
    shipments as Walmart shows them)."""
    from simulator import control

    older = [r["po"] for r in conn.execute(
        "SELECT po FROM orders WHERE seller_id = ? ORDER BY order_ms LIMIT ?",
        (DEMO_SELLER, count))]
    for n, po in enumerate(older):
        if _unshipped(control.order_state(conn, DEMO_SELLER, po)):
            control.seller_center_ship(conn, DEMO_SELLER, po, f"1ZDEMO{n:012d}")
        control.deliver(conn, DEMO_SELLER, po)
        control.open_return(conn, DEMO_SELLER, po, seed=n, received=n % 2 == 0)


def _unshipped(order: dict) -> bool:
    """Units of the order (as Walmart answers it) still to ship."""
    return any(status["status"] in ("Created", "Acknowledged")
               for line in order["orderLines"]["orderLine"]
               for status in line["orderLineStatuses"]["orderLineStatus"])


def prepare_store(simulator_url: str, secret: str) -> str:
    """Create the demo store (its limits scaled, its SKUs tracked), or point it at this run's
    simulator address."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Environment, Store
    from webapp.services.stores.editing import StoreInput, create_store, update_store

    store = db.session.scalar(select(Store).where(Store.name == DEMO_STORE))
    data = StoreInput(name=DEMO_STORE, environment=Environment.SIMULATOR,
                      base_url=simulator_url, client_id=DEMO_CLIENT_ID, client_secret=secret,
                      import_enabled=True, rate_limits=demo_limits())
    if store is None:
        store = create_store(data, by=None)
        seed_stock(store.id)
        return f"created {DEMO_STORE} on {simulator_url}"
    from webapp.secrets_box import SecretUnreadable
    from webapp.services.stores.editing import client_secret

    seed_stock(store.id)  # (a demo from before its SKUs were tracked)
    try:
        same_secret = client_secret(store) == secret
    except SecretUnreadable:
        same_secret = False
    if store.base_url != simulator_url or not same_secret or not store.rate_limits:
        # What a person changed on the demo store stays; only the address and keys move.
        data.import_enabled = store.import_enabled
        data.rate_limits = store.rate_limits or demo_limits()
        data.default_ship_node = store.default_ship_node
        update_store(store, data, by=None)
        return f"pointed {DEMO_STORE} at {simulator_url}"
    return f"{DEMO_STORE} ready on {simulator_url}"


def seed_stock(store_id: int) -> None:
    """Track the demo SKUs (once: a store with any tracked SKU is left as it is), through the
    Stock page's own service, so Walmart is told the available quantities."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import SkuStock
    from webapp.services.stock.levels import set_on_hand

    if db.session.scalar(select(SkuStock.id).where(SkuStock.store_id == store_id,
                                                   SkuStock.on_hand.is_not(None)).limit(1)):
        return
    for sku, quantity in demo_stock().items():
        set_on_hand(store_id, sku, quantity, by=None, actor="make run (demo)")


def subscribe_store() -> str:
    """Receive orders instantly for the demo store: its subscription at the simulator points
    at this run's web address (ORDERDECK_PUBLIC_URL; renewed when the port moved). A refusal
    (the store made read-only, say) is said, not fatal: the scheduled import goes on."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Store
    from webapp.services.errors import ActionRefused
    from webapp.services.stores import webhooks

    store = db.session.scalar(select(Store).where(Store.name == DEMO_STORE))
    if store is None:
        return f"{DEMO_STORE} is missing: no instant orders"
    try:
        url = webhooks.event_url(store)
        if store.events_status != webhooks.ACTIVE or store.events_url != url:
            webhooks.subscribe(store, by=None)
    except ActionRefused as exc:
        return f"{DEMO_STORE} does not receive orders instantly: {exc}"
    return (f"{DEMO_STORE} receives orders instantly (the simulator posts to {url}); "
            f"make one: python -m simulator seed --seller {DEMO_SELLER} --count 1")
