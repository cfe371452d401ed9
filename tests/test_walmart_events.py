"""Walmart's order notifications at a store's endpoint: BASIC_AUTH or 401, stored once per
eventId before the 200, then handled by a job that reads the order back from the simulator."""

from __future__ import annotations

import base64
import json
import socket
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from simulator import control
from tests.factories import make_walmart_order


def event(po: str | None, sub: str = "PO_CREATED", event_id: str | None = None, **order) -> dict:
    """A notification shaped like Walmart's ORDER_UPDATES (docs/walmart.md)."""
    block = {"purchaseOrderId": po, "orderLines": [], **order} if po is not None else {}
    return {"source": {"eventType": "ORDER_UPDATES", "eventTime": "2026-12-08T10:00:00.000Z",
                       "eventId": event_id or str(uuid.uuid4())},
            "payload": {"subEventType": sub, "order": block}}


def basic(password: str, user: str = "orderdeck", prefix: str = "") -> str:
    return prefix + base64.b64encode(f"{user}:{password}".encode()).decode()


def post(client, store_id: int, body, authorization: str | None):
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(f"/walmart/events/{store_id}", data=data, headers=headers)


@pytest.fixture
def receiving(app, walmart_store):
    """A simulator store with a notifications password: (store_id, seller, password)."""
    from webapp.extensions import db
    from webapp.models import Store
    from webapp.services.stores.webhooks import new_password

    store_id, seller = walmart_store()
    with app.app_context():
        password = new_password(db.session.get(Store, store_id))
        db.session.commit()
    return store_id, seller, password


def _events(app) -> list:
    from webapp.extensions import db
    from webapp.models import WalmartEvent

    with app.app_context():
        rows = db.session.scalars(select(WalmartEvent).order_by(WalmartEvent.id)).all()
        db.session.expunge_all()
        return rows


def _order(app, store_id: int, po: str):
    from sqlalchemy.orm import selectinload

    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        order = db.session.scalar(select(Order).where(
            Order.store_id == store_id, Order.purchase_order_id == po)
            .options(selectinload(Order.lines)))
        if order is not None:
            db.session.expunge_all()
        return order


def _reads(seller, po: str) -> int:
    """GET /v3/orders/{po} calls the simulator received from the seller."""
    return sum(1 for r in seller.requests() if r["endpoint"] == "order" and po in r["path"])


def test_an_event_is_stored_then_its_order_read_back_stored_and_acknowledged(
        app, client, receiving, worker, sim):
    """PO_CREATED: 200 once the event is stored; the job reads the order from Walmart, stores
    it as the import does and acknowledges it — no sign-in, no CSRF token."""
    store_id, seller, password = receiving
    po = make_walmart_order(seller, (2, 1))
    response = post(client, store_id, event(po), basic(password))
    assert response.status_code == 200 and response.text == "OK"
    [stored] = _events(app)
    assert (stored.purchase_order_id, stored.sub_event_type, stored.handled_at) == \
        (po, "PO_CREATED", None)
    worker()
    [handled] = _events(app)
    assert handled.outcome == "created" and handled.handled_at is not None
    order = _order(app, store_id, po)
    assert [x.quantity for x in order.lines] == [2, 1]
    assert control.order_state(sim.conn, seller.seller_id, po)["orderLines"]["orderLine"][0][
        "orderLineStatuses"]["orderLineStatus"][0]["status"] == "Acknowledged"


def test_the_event_is_never_trusted_as_data(app, client, receiving, worker):
    """An event claiming other lines, quantities and dates changes nothing of what is
    stored: the order is Walmart's view as GET /v3/orders/{po} gives it."""
    store_id, seller, password = receiving
    po = make_walmart_order(seller, (1,))
    lying = event(po, orderDate="1999-01-01T00:00:00.000Z", orderLines=[
        {"lineNumber": "1", "sku": "FAKE-SKU", "quantity": {"measurementValue": "99"}},
        {"lineNumber": "2", "sku": "OTHER", "quantity": {"measurementValue": "5"}}])
    assert post(client, store_id, lying, basic(password)).status_code == 200
    worker()
    order = _order(app, store_id, po)
    assert [(x.line_number, x.quantity) for x in order.lines] == [("1", 1)]
    assert order.lines[0].sku != "FAKE-SKU" and order.order_date.year > 2000


def test_a_duplicate_event_answers_200_without_a_second_row_or_read(app, client, receiving,
                                                                   worker):
    """Walmart sends an event again (same eventId): 200, still one row, one read."""
    store_id, seller, password = receiving
    po = make_walmart_order(seller, (1,))
    same = event(po, event_id="evt-0001")
    assert post(client, store_id, same, basic(password)).status_code == 200
    worker()
    assert post(client, store_id, same, basic(password)).status_code == 200
    assert post(client, store_id, same, basic(password, prefix="Basic ")).status_code == 200
    worker()
    assert len(_events(app)) == 1
    assert _reads(seller, po) == 1


def test_the_unique_constraint_holds_even_without_the_check(app, receiving):
    """Two rows with one store and eventId cannot be written, whatever the code does."""
    from sqlalchemy.exc import IntegrityError

    from webapp.extensions import db
    from webapp.models import WalmartEvent

    store_id, _seller, _password = receiving
    with app.app_context():
        db.session.add_all([WalmartEvent(store_id=store_id, event_id="same"),
                            WalmartEvent(store_id=store_id, event_id="same")])
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


@pytest.mark.parametrize("authorization", [
    None, "", "Basic", "Basic !!!not-base64!!!", "Bearer abc",
    "WRONG",  # (replaced below by the wrong password, the other store's, the wrong user)
])
def test_anything_but_the_store_password_is_401_and_stores_nothing(
        app, client, receiving, walmart_store, authorization):
    """No header, an empty or malformed one, another scheme, a wrong password, the right
    password with another user name, another store's password, a store that never subscribed
    and a store that does not exist: 401, nothing stored, nothing queued."""
    from tests.test_security import snapshot

    store_id, seller, password = receiving
    other_store, _ = walmart_store()
    po = make_walmart_order(seller, (1,))
    attempts = [(store_id, authorization)]
    if authorization == "WRONG":
        attempts = [(store_id, basic(password + "x")), (store_id, basic(password, user="admin")),
                    (store_id, basic("")), (other_store, basic(password)),
                    (99999, basic(password))]
    before = snapshot(app)
    for target, header in attempts:
        response = post(client, target, event(po), header)
        assert response.status_code == 401, (target, header)
        assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert snapshot(app) == before


def test_both_spellings_of_basic_auth_are_taken(app, client, receiving):
    """Walmart's docs do not say whether "Basic " comes first: both are accepted."""
    store_id, seller, password = receiving
    po = make_walmart_order(seller, (1,))
    assert post(client, store_id, event(po), basic(password)).status_code == 200
    assert post(client, store_id, event(po), basic(password, prefix="Basic ")).status_code == 200
    assert len(_events(app)) == 2


def test_a_large_or_unreadable_body_is_refused_and_stores_nothing(app, client, receiving,
                                                                  live_server):
    """Over 64 KB: 413, declared or sent chunked over real HTTP (no length to check first);
    not JSON, not an object: 400; nothing stored."""
    import requests

    store_id, seller, password = receiving
    po = make_walmart_order(seller, (1,))
    big = json.dumps(event(po, padding="x" * 70_000)).encode()
    assert post(client, store_id, big, basic(password)).status_code == 413
    chunked = requests.post(f"{live_server}/walmart/events/{store_id}",
                            data=(big[i:i + 8192] for i in range(0, len(big), 8192)),
                            headers={"Authorization": basic(password),
                                     "Content-Type": "application/json"}, timeout=30)
    assert chunked.status_code == 413
    for body in (b"not json", b"[1, 2]", b"\xff\xfe", b""):
        assert post(client, store_id, body, basic(password)).status_code == 400, body
    assert _events(app) == []


def test_the_route_needs_no_sign_in_and_no_csrf_and_takes_only_post(client, receiving):
    """The one route open without sign-in and CSRF: a signed-out POST without any token gets
    through on the password alone; GET is not allowed."""
    store_id, seller, password = receiving
    assert post(client, store_id, event(None), basic(password)).status_code == 200
    assert client.get(f"/walmart/events/{store_id}").status_code == 405


def test_redis_away_keeps_the_event_and_the_sweeper_hands_it_to_a_job(
        app, client, receiving, worker):
    """Redis unreachable when the event arrives: still 200, the event stored and not lost;
    once Redis answers, the sweeper (jobs.sync.sweep) queues it and the order arrives."""
    from redis import Redis

    from webapp.extensions import db, fail_fast_pool
    from webapp.models import WalmartEvent

    store_id, seller, password = receiving
    po = make_walmart_order(seller, (1,))
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    working = app.extensions["orderdeck_redis"] = app.extensions.get("orderdeck_redis")
    app.extensions["orderdeck_redis"] = Redis(connection_pool=fail_fast_pool(
        {**app.config, "REDIS_URL": f"redis://127.0.0.1:{port}/0"}))
    try:
        assert post(client, store_id, event(po), basic(password)).status_code == 200
    finally:
        app.extensions["orderdeck_redis"] = working
        if working is None:
            app.extensions.pop("orderdeck_redis")
    worker()  # nothing was queued
    assert _order(app, store_id, po) is None
    with app.app_context():  # a minute later, the sweeper's turn
        stored = db.session.scalars(select(WalmartEvent)).one()
        stored.next_attempt_at = stored.received_at = stored.received_at - timedelta(minutes=1)
        db.session.commit()
        from jobs.sync import sweep
        assert sweep()["walmart_events_queued"] == 1
    worker()
    assert _order(app, store_id, po) is not None
    assert _events(app)[0].outcome == "created"


def test_events_out_of_order_or_late_end_in_walmarts_state(app, client, receiving, worker,
                                                          sim):
    """INTENT_TO_CANCEL before PO_CREATED, and a PO_CREATED arriving after the order was
    auto-cancelled: each reads the order as Walmart holds it now, so the last word is
    Walmart's whatever the order of arrival."""
    store_id, seller, password = receiving
    po = make_walmart_order(seller, (1, 1))
    control.intent_to_cancel(sim.conn, seller.seller_id, po, "2")
    assert post(client, store_id, event(po, "INTENT_TO_CANCEL"), basic(password)).status_code \
        == 200
    worker()
    assert _order(app, store_id, po).intent_to_cancel
    assert post(client, store_id, event(po, "PO_CREATED"), basic(password)).status_code == 200
    worker()
    assert [e.outcome for e in _events(app)] == ["created", "updated"]
    assert _order(app, store_id, po).intent_to_cancel


def test_auto_and_fraud_cancels_appear_from_their_events(app, client, receiving, worker, sim):
    """PO_LINE_AUTOCANCELLED and FRAUD_CANCEL: the order read back shows the cancelled lines
    (and releases their stock) as the import would."""
    store_id, seller, password = receiving
    po = make_walmart_order(seller, (2,))
    post(client, store_id, event(po), basic(password))
    worker()
    control.fraud_cancel(sim.conn, seller.seller_id, po)
    post(client, store_id, event(po, "FRAUD_CANCEL"), basic(password))
    worker()
    order = _order(app, store_id, po)
    assert order.lines[0].canceled_qty == 2 and order.status == "Canceled"


def test_a_read_only_store_still_imports_from_events_but_acknowledges_nothing(
        app, client, receiving, worker, sim):
    """Reading is allowed for a read-only store: the order arrives; nothing is sent."""
    from webapp.extensions import db
    from webapp.models import Store, SyncTask

    store_id, seller, password = receiving
    with app.app_context():
        db.session.get(Store, store_id).read_only = True
        db.session.commit()
    po = make_walmart_order(seller, (1,))
    post(client, store_id, event(po), basic(password))
    worker()
    assert _order(app, store_id, po) is not None
    with app.app_context():
        assert db.session.scalar(select(func.count(SyncTask.id))) == 0
    assert control.order_state(sim.conn, seller.seller_id, po)["orderLines"]["orderLine"][0][
        "orderLineStatuses"]["orderLineStatus"][0]["status"] == "Created"


def test_walmart_failing_leaves_the_event_to_be_tried_again(app, client, receiving, sim):
    """A 500 on the read: the event stays unhandled with a next attempt; the next attempt
    stores the order. An order Walmart does not know is given up after a few tries."""
    from webapp.extensions import db
    from webapp.services.orders import events

    store_id, seller, password = receiving
    po = make_walmart_order(seller, (1,))
    post(client, store_id, event(po), basic(password))
    post(client, store_id, event("999999999"), basic(password))
    first, unknown = (e.id for e in _events(app))
    control.set_faults(sim.conn, "order", next={"error": 1})
    with app.app_context():
        retry = events.handle(first)
        assert retry.outcome == "retry" and retry.retry_at is not None
        assert events.handle(first).outcome == "created"
        outcomes = [events.handle(unknown).outcome for _ in range(events.NOT_FOUND_ATTEMPTS)]
        assert outcomes[-1] == "not_found" and set(outcomes[:-1]) == {"retry"}
        db.session.remove()


def test_an_event_naming_no_order_is_recorded_and_reads_nothing(app, client, receiving,
                                                               worker):
    """A test notification (no purchase order), or one whose id Orderdeck would not send to
    Walmart: stored, handled as "no order", nothing read."""
    store_id, seller, password = receiving
    for body in (event(None), event("../../v3/token"), {"source": {}, "payload": {}}):
        assert post(client, store_id, body, basic(password)).status_code == 200
    worker()
    assert [e.outcome for e in _events(app)] == ["no_order"] * 3
    assert not [r for r in seller.requests() if r["endpoint"] == "order"]
