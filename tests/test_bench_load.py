"""bench.load's people click what the pages offer: if a page stops offering it (an id, an
hx-get, a form field), the load test would measure errors or nothing — these tests say so first."""

from __future__ import annotations

import queue
import random

from bench.load_users import POLL_KINDS, Person


def _person(base: str, email: str, to_ship: list[int], searches: dict | None = None) -> Person:
    pending: queue.Queue = queue.Queue()
    for order_id in to_ship:
        pending.put(order_id)
    return Person(base, email, random.Random(1), searches or {}, (1, 1), pending)


def _orders(app, store_id: int) -> list[tuple[int, str]]:
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(Order.id, Order.purchase_order_id).where(Order.store_id == store_id)
            .order_by(Order.intent_to_cancel, Order.id))]  # the buyer's wish needs a tick


def test_a_person_finds_the_cards_the_next_page_the_rows_and_the_poll(app, make_user, shop,
                                                                      live_server):
    """Signed in, the Orders page gives the person its seven status cards, its rows, its
    next page and its live poll; each answers without error, and a search by PO finds it."""
    store_id, _seller = shop
    orders = _orders(app, store_id)
    email = make_user(role="operator").email
    person = _person(live_server, email, [], {"PO": [orders[0][1]]})
    person.sign_in()
    assert len(person.list.cards) == 7
    assert set(person.list.rows) <= {order_id for order_id, _po in orders}
    assert len(person.list.rows) == 40 and person.results_poll
    person.status_card()
    person.search("PO")
    person.poll_orders()
    person.order_page()
    assert [s.error for s in person.samples] == [None] * 4
    assert person.samples[2].kind == POLL_KINDS[0]  # nothing changed: 204


def test_a_person_ships_through_the_form_and_polls_the_order_until_it_settles(
        app, make_user, shop, live_server, worker):
    """The Ship form as the page gives it (Add tracking number, then the carrier and a new
    tracking number): the shipment is recorded once; the order page then polls, answering
    204 until the worker syncs it and 286 after, which ends the polling."""
    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.models import Shipment, SyncTask, TaskKind

    store_id, _seller = shop
    order_id = _orders(app, store_id)[0][0]
    person = _person(live_server, make_user(role="operator").email, [order_id])
    person.sign_in()
    assert person.ship() is True
    assert [s.error for s in person.samples] == [None] * 3
    with app.app_context():
        assert db.session.scalar(select(func.count(Shipment.id))
                                 .where(Shipment.order_id == order_id)) == 1
        assert db.session.scalar(select(func.count(SyncTask.id)).where(
            SyncTask.order_id == order_id, SyncTask.kind == TaskKind.SHIP)) == 1
    assert person.order_poll
    assert person.poll_order() == 204
    worker()
    assert person.poll_order() == 286
    assert person.order_poll is None
    assert person.ship() is False and person.no_order_left == 1  # each order at most once


def test_what_a_viewer_cannot_do_and_a_wrong_answer_count_as_errors(app, make_user, shop,
                                                                    live_server):
    """A viewer's order page has no Ship form: their shipment is an error, not a skip. Any
    answer but 2xx/3xx is an error (an order that does not exist: 404), and so is a 204
    anywhere but a poll."""
    store_id, _seller = shop
    order_id = _orders(app, store_id)[0][0]
    person = _person(live_server, make_user(role="viewer").email, [order_id])
    person.sign_in()
    assert person.ship() is False
    assert person.samples[-1].error == "no Ship form on the order page"
    person.order_page(10**9)
    assert person.samples[-1].status == 404 and person.samples[-1].error.startswith("404")
    person._request("order page", "GET", person.results_poll, htmx=True)  # a 204, not polled
    assert person.samples[-1].status == 204 and person.samples[-1].error
