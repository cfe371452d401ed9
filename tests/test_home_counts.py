"""Home's counts at any size: those only writes change are cached in Redis and counted again
after every commit that wrote a table they read (whoever wrote it, bulk statements included);
those that move with the clock are counted live; without Redis every count is live."""

from __future__ import annotations

import itertools
import re
import socket
from datetime import timedelta

import pytest
from sqlalchemy import select, update

_po = itertools.count(1)


def _count(html: str, label: str) -> int:
    """The count on Home's tile named `label`."""
    match = re.search(rf'<span class="count">(\d+)</span> <span class="label">{re.escape(label)}'
                      r'</span>', html)
    assert match, f"no tile {label!r}"
    return int(match.group(1))


def _insert_open(store_id: int, count: int, *, due_in: timedelta = timedelta(days=2)) -> list[int]:
    """Open orders of one line, not acknowledged yet, inserted in bulk (Core, as the
    importer does)."""
    from webapp.extensions import db
    from webapp.models import Order, OrderLine
    from webapp.models.base import utcnow

    now = utcnow()
    table = Order.__table__
    ids = [row[0] for row in db.session.execute(table.insert().returning(table.c.id), [
        {"store_id": store_id, "purchase_order_id": f"PO-COUNTS-{next(_po)}",
         "order_date": now - timedelta(hours=1), "ship_by": now + due_in}
        for _ in range(count)])]
    db.session.execute(OrderLine.__table__.insert(), [
        {"order_id": order_id, "line_number": "1", "sku": "COUNT-SKU", "quantity": 2}
        for order_id in ids])
    db.session.commit()
    return ids


@pytest.fixture
def shop(app, signed_in, client):
    """A store with three open orders (due in two days, not acknowledged), a viewer signed
    in, and Home seen once: its counts are in the cache."""
    from tests.factories import make_store

    with app.app_context():
        store_id = make_store().id
        ids = _insert_open(store_id, 3)
    signed_in("viewer")
    html = client.get("/").text
    assert _count(html, "Waiting for acknowledgement") == 3
    return {"store_id": store_id, "ids": ids}


def _home(client) -> str:
    return client.get("/").text


def test_orders_imported_in_bulk_count_at_once(app, walmart_store, signed_in, client):
    """The importer's bulk INSERT of new orders (Core statements through the session) makes
    Home count again: five new orders wait for their acknowledgement."""
    from simulator import control
    from webapp.services.orders.importer import import_store

    store_id, seller = walmart_store()
    signed_in("viewer")
    assert _count(_home(client), "Waiting for acknowledgement") == 0
    control.seed_orders(seller.sim.conn, seller.seller_id, 5, seed=9, intent_rate=0)
    with app.app_context():
        import_store(store_id)
    assert _count(_home(client), "Waiting for acknowledgement") == 5


def test_a_write_to_order_lines_alone_counts(app, shop, client):
    """Lines acknowledged by a bulk UPDATE of order_lines alone (no order row written): Home
    says so at once."""
    from webapp.extensions import db
    from webapp.models import OrderLine

    with app.app_context():
        db.session.execute(update(OrderLine).where(OrderLine.order_id == shop["ids"][0])
                           .values(acknowledged=True))
        db.session.commit()
    assert _count(_home(client), "Waiting for acknowledgement") == 2


def test_a_write_to_orders_alone_counts(app, shop, client):
    """The buyer's request to cancel, written on the order by a bulk UPDATE: counted at
    once."""
    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        db.session.execute(update(Order).where(Order.id == shop["ids"][1])
                           .values(intent_to_cancel=True))
        db.session.commit()
    assert _count(_home(client), "Buyer asked to cancel") == 1


def test_a_walmart_difference_counts_when_found_and_when_resolved(app, shop, client):
    """A finding written alone (as a reconciliation would, the order untouched) counts at
    once; resolving it takes it off at once."""
    from webapp.extensions import db
    from webapp.models import WalmartDifference
    from webapp.models.base import utcnow

    with app.app_context():
        difference = WalmartDifference(store_id=shop["store_id"], order_id=shop["ids"][2],
                                       source="reconcile", kind="tracking", ours="1Z1",
                                       walmart="1Z2")
        db.session.add(difference)
        db.session.commit()
        assert _count(_home(client), "Walmart disagrees") == 1
        difference.resolved_at = utcnow()
        db.session.commit()
    assert _count(_home(client), "Walmart disagrees") == 0


def test_a_return_counts_when_it_arrives_and_when_refunded(app, shop, client):
    """A return received (the returns import writes it) counts as awaiting its refund at once;
    refunded, it no longer does."""
    from webapp.extensions import db
    from webapp.models import Return, ReturnStatus

    with app.app_context():
        ret = Return(store_id=shop["store_id"], rma="RMA-COUNTS", customer_order_id="C-1",
                     status=ReturnStatus.RECEIVED)
        db.session.add(ret)
        db.session.commit()
        html = _home(client)
        assert _count(html, "Awaiting refund") == 1 and "RMA RMA-COUNTS" in html
        ret.status = ReturnStatus.REFUNDED
        db.session.commit()
    assert _count(_home(client), "Awaiting refund") == 0


def test_a_failed_update_counts_at_once(app, shop, client):
    """An update to Walmart entering Error is counted at once (read live, by state)."""
    from webapp.extensions import db
    from webapp.models import SyncTask, TaskKind, TaskState

    assert _count(_home(client), "Failed updates to Walmart") == 0
    with app.app_context():
        db.session.add(SyncTask(store_id=shop["store_id"], order_id=shop["ids"][0],
                                kind=TaskKind.ACKNOWLEDGE, target="PO", state=TaskState.ERROR))
        db.session.commit()
    assert _count(_home(client), "Failed updates to Walmart") == 1


def test_counts_that_move_with_the_clock_are_not_cached(app, shop):
    """With the written counts cached, the clock alone moves "ship by today" and "overdue":
    the orders due in two days are due today two days on, and overdue after that."""
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.models.base import utcnow
    from webapp.services.orders import dashboard
    from webapp.team_time import day_start, team_zone

    with app.test_request_context("/"):
        now = utcnow()
        ship_by = db.session.get(Order, shop["ids"][0]).ship_by
        that_morning = day_start(ship_by.astimezone(team_zone()).date())
        for when, today, overdue in ((now, 0, 0), (that_morning, 3, 0),
                                     (ship_by + timedelta(days=1), 0, 3)):
            counts = {n.key: n.count for n in dashboard.todo(when).needs}
            assert (counts["ship-today"], counts["overdue"]) == (today, overdue), when


@pytest.fixture
def no_redis(app_settings):
    """The app's Redis stopped (nothing listens on its port)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    app_settings["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"


def test_without_redis_home_counts_live(no_redis, app, signed_in, client):
    """Redis stopped: Home still answers, each count read from the database after every
    change."""
    from tests.factories import make_store
    from webapp.extensions import db
    from webapp.models import OrderLine

    with app.app_context():
        ids = _insert_open(make_store().id, 2)
    signed_in("viewer")
    assert _count(_home(client), "Waiting for acknowledgement") == 2
    with app.app_context():
        db.session.execute(update(OrderLine).where(OrderLine.order_id == ids[0])
                           .values(acknowledged=True))
        db.session.commit()
    assert _count(_home(client), "Waiting for acknowledgement") == 1
    with app.app_context():
        assert db.session.scalar(select(OrderLine.acknowledged)
                                 .where(OrderLine.order_id == ids[0])) is True
