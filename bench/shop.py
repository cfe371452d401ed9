"""An Orderdeck database with one store connected to the simulator, for the benchmarks."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Shop:
    app: object
    database_url: str
    encryption_key: str
    store_id: int
    folder: Path
    redis: str
    simulator_url: str

    def worker_env(self, **extra: str) -> dict:
        """The environment a worker or web process needs to open this shop."""
        return {**os.environ, "DATABASE_URL": self.database_url, "REDIS_URL": self.redis,
                "SECRET_KEY": "bench", "ORDERDECK_ENCRYPTION_KEY": self.encryption_key,
                "ORDERDECK_INSTANCE": str(self.folder),
                # a simulator store may only use the simulator's own address
                "ORDERDECK_SIMULATOR_URL": self.simulator_url, **extra}


def acknowledge_all(sim, seller: str) -> None:
    """Walmart has acknowledged every order of the seller (as minutes after they arrive)."""
    from simulator import control, rules

    for (po,) in sim.conn.execute("SELECT po FROM orders WHERE seller_id = ?", (seller,)):
        control.update_order(sim.conn, seller, po, rules.acknowledge)


def open_shop(folder: Path, redis: str, sim, client_id: str, secret: str,
              rate_limits: dict | None) -> Shop:
    """A migrated SQLite database in `folder` with the store "Bench" at the simulator."""
    from cryptography.fernet import Fernet
    from flask_migrate import upgrade

    from bench.orders_page import build_app
    from webapp.models import Environment

    key = Fernet.generate_key().decode()
    database_url = f"sqlite:///{folder}/orderdeck.sqlite"
    app = build_app(database_url, redis, folder, encryption_key=key, simulator_url=sim.url)
    with app.app_context():
        upgrade()
        from webapp.services.stores.editing import StoreInput, create_store

        store = create_store(StoreInput(
            name="Bench", environment=Environment.SIMULATOR, base_url=sim.url,
            client_id=client_id, client_secret=secret, import_enabled=False,
            rate_limits=rate_limits), by=None)
        store_id = store.id
    return Shop(app, database_url, key, store_id, folder, redis, sim.url)
