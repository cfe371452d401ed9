"""Generated shop data for the benchmarks: stores and years of orders, inserted in bulk."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, text

FIRST = ["Ana", "Ben", "Chloe", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jack",
         "Kira", "Liam", "Maya", "Noah", "Olga", "Paul", "Quinn", "Rosa", "Sam", "Tara"]
LAST = ["Smith", "Johnson", "Garcia", "Miller", "Davis", "Martinez", "Lopez", "Wilson",
        "Anderson", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White",
        "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright"]
PRODUCTS = ["Mug", "Lamp", "Kettle", "Blanket", "Backpack", "Jacket", "Puzzle", "Speaker",
            "Cable", "Notebook", "Bottle", "Candle", "Pillow", "Scarf", "Wallet"]
# Roughly a shop's life: most orders long shipped, a few open or failing.
STATUSES = [("Shipped", 0.70), ("Open", 0.08), ("Partially Shipped", 0.03),
            ("Canceled", 0.12), ("Return requested", 0.03), ("Error", 0.04)]


def make_stores(count: int = 3) -> list[int]:
    from webapp.models import Environment
    from webapp.services.stores.editing import StoreInput, create_store

    ids = []
    for n in range(count):
        store = create_store(StoreInput(
            name=f"Bench store {n + 1}", environment=Environment.SANDBOX, base_url=None,
            client_id=f"bench-{n}", client_secret=f"bench-secret-{n}", import_enabled=False,
            rate_limits=None), by=None)
        ids.append(store.id)
    return ids


def seed_orders(db, store_ids: list[int], count: int, seed: int = 7,
                chunk: int = 5000) -> dict:
    """`count` orders over three years with 1–3 lines each. Returns samples to search for."""
    from webapp.models import OrderStatus

    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    statuses, weights = zip(*((OrderStatus(s), w) for s, w in STATUSES), strict=True)
    skus = [f"SKU-{p.upper()}-{n:04d}" for p in PRODUCTS for n in range(150)]
    samples: dict = {}
    orders, lines = [], []
    line_id = 0

    def flush() -> None:
        if orders:
            db.session.execute(insert(_table(db, "orders")), orders)
            db.session.execute(insert(_table(db, "order_lines")), lines)
            db.session.commit()
            orders.clear()
            lines.clear()

    for i in range(1, count + 1):
        ordered = now - timedelta(seconds=int(3 * 365 * 86400 * (1 - i / count)) +
                                  rng.randint(0, 3600))
        status = rng.choices(statuses, weights)[0]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        po = f"{rng.randint(10**14, 10**15 - 1)}"
        picked = rng.sample(skus, rng.choice([1, 1, 1, 2, 2, 3]))
        value = Decimal(0)
        for number, sku in enumerate(picked, start=1):
            line_id += 1
            quantity = rng.choice([1, 1, 1, 2, 3])
            price = Decimal(rng.randint(500, 15000)) / 100
            shipped = quantity if status in (OrderStatus.SHIPPED,
                                             OrderStatus.RETURN_REQUESTED) else (
                quantity - 1 if status == OrderStatus.PARTIALLY_SHIPPED and number == 1 else 0)
            canceled = quantity if status == OrderStatus.CANCELED else 0
            value += price * quantity
            lines.append({"id": line_id, "order_id": i, "line_number": str(number), "sku": sku,
                          "product_name": f"{sku.split('-')[1].title()} {number}",
                          "quantity": quantity, "unit_price": price * quantity,
                          "tax": Decimal("0.00"), "shipping": Decimal("0.00"),
                          "shipped_qty": shipped, "delivered_qty": 0, "canceled_qty": canceled,
                          "refunded_qty": 0, "acknowledged": True, "intent_to_cancel": False,
                          "cancellation_reason": "SELLER_CANCEL_OUT_OF_STOCK" if canceled
                          else None, "walmart_statuses": {}})
        details = {OrderStatus.ERROR: "Walmart ship failed: Simulated rejection",
                   OrderStatus.CANCELED: "Reason: SELLER_CANCEL_OUT_OF_STOCK"}.get(status)
        orders.append({
            "id": i, "store_id": store_ids[i % len(store_ids)], "number": str(100000 + i),
            "purchase_order_id": po, "customer_order_id": f"{rng.randint(10**12, 10**13 - 1)}",
            "customer_name": f"{first} {last}", "customer_email": f"{first.lower()}@example.com",
            "phone": "5555550100", "ship_name": f"{first} {last}", "address1": "1 Main St",
            "address2": None, "city": "Springfield", "state": "IL", "postal_code": "62701",
            "country": "USA", "address_type": "RESIDENTIAL", "order_date": ordered,
            "ship_by": ordered + timedelta(days=2), "deliver_by": ordered + timedelta(days=6),
            "ship_method": rng.choice(["Standard", "Standard", "Express", "Value"]),
            "currency": "USD", "order_value": value, "status": status,
            "status_details": details, "intent_to_cancel": False,
            "in_flight": False, "return_open": status == OrderStatus.RETURN_REQUESTED,
            "open_return_id": None, "import_error": None, "raw": None,
            "created_at": ordered, "updated_at": ordered + timedelta(days=1)})
        if i == count // 2:
            samples.update(po=po, customer=last, sku=picked[0])
        if len(orders) >= chunk:
            flush()
    flush()
    if db.engine.dialect.name == "postgresql":  # explicit ids: move the sequences on
        for table in ("orders", "order_lines"):
            db.session.execute(text(f"SELECT setval('{table}_id_seq', "
                                    f"(SELECT max(id) FROM {table}))"))
        db.session.execute(text("ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
    db.session.commit()
    return samples


def _table(db, name: str):
    return db.metadata.tables[name]
