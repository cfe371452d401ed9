"""make_<model>(**overrides): rows built through the services, as users would create them."""

from __future__ import annotations

import itertools

from webapp.extensions import db

_seq = itertools.count(1)
PASSWORD = "correct horse battery"


def make_user(**overrides):
    from webapp.services.users.accounts import create_user

    n = next(_seq)
    user = create_user(overrides.pop("email", f"user{n}@example.com"),
                       overrides.pop("role", "operator"), overrides.pop("password", PASSWORD))
    for key, value in overrides.items():
        setattr(user, key, value)
    db.session.commit()
    db.session.refresh(user)
    db.session.expunge(user)
    return user


def make_store(**overrides):
    from webapp.models import Environment
    from webapp.services.stores.editing import StoreInput, create_store

    n = next(_seq)
    data = StoreInput(name=overrides.pop("name", f"Store {n}"),
                      environment=Environment(overrides.pop("environment", "sandbox")),
                      base_url=overrides.pop("base_url", None),
                      client_id=overrides.pop("client_id", f"client-{n}"),
                      client_secret=overrides.pop("client_secret", f"secret-{n}-do-not-leak"),
                      import_enabled=overrides.pop("import_enabled", True),
                      rate_limits=overrides.pop("rate_limits", None))
    store = create_store(data, by=None)
    for key, value in overrides.items():
        setattr(store, key, value)
    db.session.commit()
    db.session.refresh(store)
    db.session.expunge(store)
    return store


# -- orders, shipments and returns: made to measure at the simulator, then imported ----------

def make_walmart_order(seller, quantities=(1,), *, shipping: float = 0.0,
                       intent_to_cancel: bool = False, seed: int | None = None,
                       return_center: dict | None = None) -> str:
    """A released order at the simulator with exactly these lines: units per line (catalogue
    SKUs in turn) or (SKU, units) pairs; `shipping` charged on line 1; `intent_to_cancel`: the
    buyer asked to cancel every line; `return_center`: Walmart's returnCenterAddress on every
    line. Returns its purchase order id."""
    import random

    from simulator import generator, orders
    from simulator.db import now_ms, transaction

    catalogue = {sku: (sku, name, price) for sku, name, price in generator.CATALOGUE}
    conn = seller.sim.conn
    now = now_ms(conn)
    order = generator.make_order(random.Random(seed if seed is not None else next(_seq)),
                                 now - generator.HOUR_MS, intent_rate=0)
    template = order["lines"][0]
    order["lines"] = []
    for number, (line, product) in enumerate(zip(quantities, generator.CATALOGUE,
                                                 strict=False), start=1):
        if isinstance(line, tuple):
            product, line = catalogue[line[0]], line[1]
        sku, name, price = product
        order["lines"].append({
            **template, "lineNumber": str(number), "sku": sku, "productName": name,
            "qty": line, "created": line, "unitPrice": price,
            "tax": round(price * 0.08, 2), "shipping": shipping if number == 1 else 0.0,
            "shipments": [], "cancellations": [], "refunds": [],
            "intentToCancel": intent_to_cancel, "returnCenterAddress": return_center})
    with transaction(conn):
        assert orders.save(conn, seller.seller_id, order, now, insert=True)
    return order["purchaseOrderId"]


def import_order(store_id: int, po: str) -> int:
    """Import the store (as the schedule does) and return the order's id (app context)."""
    from sqlalchemy import select

    from webapp.models import Order
    from webapp.services.orders.importer import import_store

    import_store(store_id)
    order_id = db.session.scalar(select(Order.id).where(Order.store_id == store_id,
                                                        Order.purchase_order_id == po))
    assert order_id is not None, f"order {po} was not imported"
    return order_id


def make_shipment(order_id: int, lines: dict | None = None, *,
                  tracking: str = "1Z999AA10123456784", carrier: str = "UPS", **options) -> int:
    """Ship `lines` ({line number: units}; default every open unit) through the service, as
    the Ship form does (app context). Returns the sync task's id."""
    from webapp.models import Order
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order

    if lines is None:
        order = db.session.get(Order, order_id)
        lines = {x.line_number: x.open_qty for x in order.lines if x.open_qty}
    result = ship_order(order_id, [PackageInput(tracking, "Standard", lines, carrier)],
                        utcnow(), by=None, actor=options.pop("actor", "test"), **options)
    return result.task_id


def make_walmart_return(seller, po: str, lines: dict | None = None, *,
                        reason: str = "DAMAGED") -> str:
    """Walmart delivers what is shipped on the order and the buyer returns `lines` ({line
    number: units}; default everything delivered) for `reason`. Returns the RMA."""
    from simulator import control

    control.deliver(seller.sim.conn, seller.seller_id, po)
    return control.open_return(seller.sim.conn, seller.seller_id, po, lines=lines,
                               reason=reason, seed=3)["rma"]
