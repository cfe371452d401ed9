"""Walmart's notifications end to end: the simulator delivers them over real HTTP to the
store's endpoint (the app served on a port), with its faults — lost, duplicated, delayed, out
of order, a wrong password — and every order still ends as Walmart holds it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from simulator import control
from tests.factories import make_walmart_order
from tests.receivers import wait_for


@pytest.fixture
def delivering(app, live_server, walmart_store):
    """A simulator store subscribed (through the service) to its seller's notifications,
    delivered to this test's server: (store_id, seller)."""
    from webapp.extensions import db
    from webapp.models import Store
    from webapp.services.stores import webhooks

    store_id, seller = walmart_store()
    app.config["PUBLIC_URL"] = live_server
    with app.app_context():
        webhooks.subscribe(db.session.get(Store, store_id), by=None)
        db.session.remove()
    return store_id, seller


def _count(app, model, *where) -> int:
    from webapp.extensions import db

    with app.app_context():
        found = db.session.scalar(select(func.count(model.id)).where(*where))
        db.session.remove()
        return found


def _stored_events(app) -> int:
    from webapp.models import WalmartEvent

    return _count(app, WalmartEvent)


def _imported(app, store_id: int, pos) -> set[str]:
    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        found = set(db.session.scalars(select(Order.purchase_order_id).where(
            Order.store_id == store_id, Order.purchase_order_id.in_(list(pos)))))
        db.session.remove()
        return found


def _delivered(sim, seller, state: str = "delivered") -> int:
    return sum(1 for d in control.deliveries(sim.conn, seller.seller_id) if d["state"] == state)


def test_an_order_made_at_walmart_arrives_through_its_notification(app, delivering, worker,
                                                                  sim):
    """The simulator POSTs PO_CREATED to the endpoint; the job reads the order back, stores
    it and acknowledges it — no import pass involved."""
    store_id, seller = delivering
    po = make_walmart_order(seller, (1, 2))
    assert wait_for(lambda: _stored_events(app) == 1)
    worker()
    assert _imported(app, store_id, [po]) == {po}
    state = control.order_state(sim.conn, seller.seller_id, po)
    assert {s["status"] for x in state["orderLines"]["orderLine"]
            for s in x["orderLineStatuses"]["orderLineStatus"]} == {"Acknowledged"}


def test_a_lost_event_is_made_good_by_the_scheduled_import(app, delivering, worker, sim):
    """`lost`: the notification never comes; the next scheduled import brings the order."""
    from webapp.services.orders.importer import import_store

    store_id, seller = delivering
    control.set_faults(sim.conn, "events", next={"lost": 1})
    lost = make_walmart_order(seller, (1,))
    sent = make_walmart_order(seller, (1,))
    assert wait_for(lambda: _stored_events(app) == 1)
    worker()
    assert _imported(app, store_id, [lost, sent]) == {sent}
    with app.app_context():
        import_store(store_id)
    assert _imported(app, store_id, [lost, sent]) == {lost, sent}


def test_a_duplicated_event_is_stored_and_read_once(app, delivering, worker, sim):
    """`duplicate`: Walmart sends one event twice; both answered 200 (the simulator marks both
    delivered), one row, one read of the order."""
    store_id, seller = delivering
    control.set_faults(sim.conn, "events", next={"duplicate": 1})
    po = make_walmart_order(seller, (1,))
    assert wait_for(lambda: _delivered(sim, seller) == 2)
    worker()
    assert _stored_events(app) == 1
    assert _imported(app, store_id, [po]) == {po}
    assert sum(1 for r in seller.requests() if r["endpoint"] == "order") == 1


def test_delayed_and_out_of_order_events_end_in_walmarts_state(app, delivering, worker, sim):
    """`delay` and `reorder`: a PO_CREATED held back arrives after the buyer's request to
    cancel that followed it. Each event reads the order as it is now: the order arrives with
    the buyer's request, whatever came first."""
    from webapp.extensions import db
    from webapp.models import Order, WalmartEvent

    store_id, seller = delivering
    pos = []
    for kind in ("delay", "reorder"):
        control.set_faults(sim.conn, "events", next={kind: 1}, delay_seconds=2,
                           reorder_seconds=2)
        po = make_walmart_order(seller, (1,))
        control.intent_to_cancel(sim.conn, seller.seller_id, po)
        pos.append(po)
    assert wait_for(lambda: _stored_events(app) == 4)
    worker()
    with app.app_context():
        arrived = [(e.purchase_order_id, e.sub_event_type) for e in db.session.scalars(
            select(WalmartEvent).order_by(WalmartEvent.id))]
        for po in pos:
            assert [sub for p, sub in arrived if p == po] == ["INTENT_TO_CANCEL", "PO_CREATED"]
            order = db.session.scalar(select(Order).where(Order.purchase_order_id == po))
            assert order.intent_to_cancel
        db.session.remove()


def test_a_wrong_password_is_refused_and_stores_nothing(app, delivering, worker, sim):
    """`wrong_password`: every attempt gets 401, nothing is stored; the import brings the
    order."""
    from webapp.services.orders.importer import import_store

    store_id, seller = delivering
    control.set_faults(sim.conn, "events", next={"wrong_password": 1})
    po = make_walmart_order(seller, (1,))
    assert wait_for(lambda: any(d["last_status"] == 401 for d in
                                control.deliveries(sim.conn, seller.seller_id)))
    worker()
    assert _stored_events(app) == 0
    assert _imported(app, store_id, [po]) == set()
    with app.app_context():
        import_store(store_id)
    assert _imported(app, store_id, [po]) == {po}


def test_with_a_tenth_of_events_lost_every_order_is_imported_after_a_poll(
        app, delivering, worker, sim):
    """30 orders with 10% of their notifications lost (two of them for certain): those whose
    event came are imported from it; after one scheduled import, every one is there."""
    from webapp.models import WalmartEvent
    from webapp.services.orders.importer import import_store

    store_id, seller = delivering
    control.set_faults(sim.conn, "events", lost_rate=0.1, next={"lost": 2})
    pos = [make_walmart_order(seller, (1,)) for _ in range(30)]
    lost = _delivered(sim, seller, "lost")
    assert lost >= 2
    assert wait_for(lambda: _count(app, WalmartEvent) == 30 - lost)
    worker()
    assert len(_imported(app, store_id, pos)) == 30 - lost
    with app.app_context():
        import_store(store_id)
    assert _imported(app, store_id, pos) == set(pos)
