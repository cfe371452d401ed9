"""Last Update moves only when something about the order changed: an import (of orders or of
returns) that reads the same orders again from Walmart writes nothing to them."""

from __future__ import annotations

import re
from contextlib import contextmanager

from sqlalchemy import event, select

from simulator import control


def _stamps(app) -> dict[int, object]:
    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        return dict(db.session.execute(select(Order.id, Order.updated_at)).all())


@contextmanager
def _order_writes(app):
    """Every INSERT, UPDATE or DELETE of orders and order lines sent meanwhile."""
    from webapp.extensions import db

    seen: list[str] = []

    def listen(_conn, _cursor, statement, *_args):
        text = " ".join(statement.split()).lower()
        if text.startswith(("update orders", "update order_lines", "insert into orders",
                            "insert into order_lines", "delete from order")):
            seen.append(text[:120])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def _rows(html: str) -> list[str]:
    """The Orders page's rows, Last Update included (not the page's signed tokens)."""
    rows = re.findall(r'<tr id="order-\d+".*?</tr>', html, re.S)
    assert len(rows) == 40
    return rows


def _import(app, store_id):
    from webapp.services.orders.importer import import_store

    with app.app_context():
        run = import_store(store_id)
        return run.seen, run.ok


def test_an_import_that_finds_nothing_new_leaves_every_order_untouched(app, shop, signed_in,
                                                                       client):
    """The 40 orders, read again from Walmart twice, keep their Last Update, and not one
    UPDATE reaches the orders or their lines; the Orders page shows the same Last Update."""
    store_id, _seller = shop
    _import(app, store_id)  # whatever the acknowledgements changed is in now
    before = _stamps(app)
    signed_in("viewer")
    page = _rows(client.get("/orders/?sort=updated").text)
    with _order_writes(app) as writes:
        for _ in range(2):
            seen, ok = _import(app, store_id)
            assert ok and seen == 40  # every order was read again (the overlap window)
    assert writes == []
    assert _stamps(app) == before
    assert _rows(client.get("/orders/?sort=updated").text) == page


def test_a_change_at_walmart_moves_only_that_orders_last_update(app, shop):
    """A line the buyer cancels at Walmart and an order the buyer asks to cancel move their
    Last Update on the next import; the other 38 keep theirs."""
    from webapp.extensions import db
    from webapp.models import Order

    store_id, seller = shop
    _import(app, store_id)
    before = _stamps(app)
    with app.app_context():
        orders = db.session.scalars(select(Order).order_by(Order.id)).unique().all()
        cancelled = next(o for o in orders if len(o.lines) > 1)
        asked = next(o for o in orders if o.id != cancelled.id and not o.intent_to_cancel)
        cancelled_id, asked_id = cancelled.id, asked.id
        line = cancelled.lines[0].line_number
        cancelled_po, asked_po = cancelled.purchase_order_id, asked.purchase_order_id
    assert control.buyer_cancel(seller.sim.conn, seller.seller_id, cancelled_po, line) > 0
    control.intent_to_cancel(seller.sim.conn, seller.seller_id, asked_po)
    _import(app, store_id)
    after = _stamps(app)
    moved = {order_id for order_id in before if after[order_id] != before[order_id]}
    assert moved == {cancelled_id, asked_id}
    with app.app_context():
        order = db.session.get(Order, cancelled_id)
        assert next(x for x in order.lines if x.line_number == line).canceled_qty > 0
        assert db.session.get(Order, asked_id).intent_to_cancel


def test_a_returns_import_that_finds_nothing_new_leaves_the_order_untouched(app, returned):
    """The returns import links a return to its order once; reading the same return again
    changes nothing on the order (its Last Update stays)."""
    from webapp.services.returns.importer import import_returns

    store_id, _seller, order_id, _rma = returned
    before = _stamps(app)[order_id]
    with _order_writes(app) as writes:
        with app.app_context():
            assert import_returns(store_id) == 1  # read again (the overlap window)
    assert writes == []
    assert _stamps(app)[order_id] == before


def test_an_order_read_again_on_its_own_is_left_untouched(app, shop):
    """The one-order path (a Walmart notification, a reconciliation's fix) reading orders
    unchanged writes nothing to them; the same import failure read again leaves its order
    alone too."""
    from webapp.extensions import db
    from webapp.models import Order, Store
    from webapp.models.base import utcnow
    from webapp.services.orders import storing
    from webapp.services.orders.importer import store_order
    from webapp.services.stores.walmart_access import client_for

    store_id, _seller = shop
    _import(app, store_id)
    with app.app_context():
        pos = db.session.scalars(select(Order.purchase_order_id).order_by(Order.id)
                                 .limit(5)).all()
        store = db.session.get(Store, store_id)
        storing.record_failure(store, "BROKEN-1", "no lines", {"purchaseOrderId": "BROKEN-1"})
        db.session.commit()
    before = _stamps(app)
    with _order_writes(app) as writes:
        with app.app_context():
            store = db.session.get(Store, store_id)
            client = client_for(store)
            for po in pos:
                store_order(store, client.get_order(po), utcnow())
            storing.record_failure(store, "BROKEN-1", "no lines",
                                   {"purchaseOrderId": "BROKEN-1"})
            db.session.commit()
    assert writes == []
    assert _stamps(app) == before
