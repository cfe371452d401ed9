"""A shipment or cancellation Walmart refuses with a 400 is read back before it is called an
error: already done at Walmart is Synced (with a note saying so); lines Walmart cancelled
before a shipment reached it end in Error saying exactly that."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from simulator import control
from webapp.walmart import payloads


@pytest.fixture
def acknowledged(app, walmart_store, worker):
    """Imported orders, acknowledged at Walmart. Returns (seller, [(order id, po, {line:
    qty})]) for the one-line orders whose buyer did not ask to cancel."""
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.orders.importer import import_store

    store_id, seller = walmart_store(orders=6, seed=7)
    with app.app_context():
        import_store(store_id)
    worker()
    with app.app_context():
        rows = db.session.scalars(select(Order).where(Order.intent_to_cancel.is_(False))
                                  .order_by(Order.id)).unique().all()
        return seller, [(o.id, o.purchase_order_id, {x.line_number: x.quantity for x in o.lines})
                        for o in rows if len(o.lines) == 1]


def _ship(app, order_id: int, lines: dict, number: str) -> int:
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order

    with app.app_context():
        return ship_order(order_id, [PackageInput(number, "Standard", lines, "UPS")], utcnow(),
                          by=None, actor="test", confirm_warnings=True).task_id


def _cancel(app, order_id: int) -> int:
    from webapp.services.stock.cancelling import cancel_order

    with app.app_context():
        return cancel_order(order_id, "SELLER_CANCEL_OUT_OF_STOCK", by=None,
                            actor="test").task_id


def _run(app, task_id: int):
    from webapp.extensions import db
    from webapp.models import SyncTask
    from webapp.services.sync.engine import process_task

    with app.app_context():
        process_task(task_id)
        task = db.session.get(SyncTask, task_id)
        db.session.expunge(task)
        return task


def _ship_at_walmart(seller, po: str, lines: dict, number: str) -> None:
    """Someone shipped the order in Seller Center (or an earlier attempt got through)."""
    seller.client().ship(po, payloads.shipment([payloads.Package(
        number, "Standard", datetime.now(UTC), tuple(lines.items()), carrier="UPS")], "SC-1"))


def _status_codes(seller, endpoint: str) -> list[int]:
    return [r["status"] for r in seller.requests() if r["endpoint"] == endpoint]


def test_a_shipment_walmart_already_has_is_synced_with_a_note(app, acknowledged, signed_in,
                                                              client):
    """Walmart refuses a shipment of lines already shipped with the same tracking number (400,
    not idempotent); reading back shows it is there, so the task is Synced, with a note shown
    on the order's sync history and on the Sync page."""
    seller, orders = acknowledged
    order_id, po, lines = orders[0]
    _ship_at_walmart(seller, po, lines, "1Z999AA10123456784")
    task = _run(app, _ship(app, order_id, lines, "1Z999AA10123456784"))
    assert _status_codes(seller, "shipping") == [200, 400]  # Walmart did refuse it
    assert task.state == "synced" and task.last_error_message is None
    assert task.note == ("Synced by read-back: Walmart already showed these lines shipped with "
                         "this tracking number.")
    signed_in("operator")
    assert task.note in client.get(f"/orders/{order_id}").text
    assert task.note in client.get("/sync/?state=synced").text


def test_a_shipment_of_lines_shipped_with_another_number_stays_an_error(app, acknowledged):
    """Lines Walmart has shipped under another tracking number are not this shipment: the
    400 stays an Error, with Walmart's words."""
    seller, orders = acknowledged
    order_id, po, lines = orders[0]
    _ship_at_walmart(seller, po, lines, "1ZOTHER0000000001")
    task = _run(app, _ship(app, order_id, lines, "1Z999AA10123456784"))
    assert task.state == "error" and task.note is None
    assert "SHIPPED status" in task.last_error_message


@pytest.mark.parametrize("how", ["seller center", "buyer"])
def test_a_cancellation_walmart_already_has_is_synced_with_a_note(app, acknowledged, how):
    """The lines are already Cancelled at Walmart (by the seller in Seller Center, or by the
    buyer): Walmart refuses the cancel with a 400, the read-back shows them Cancelled, and the
    task is Synced with a note."""
    seller, orders = acknowledged
    order_id, po, lines = orders[0]
    if how == "buyer":
        control.buyer_cancel(seller.sim.conn, seller.seller_id, po)
    else:
        seller.client().cancel(po, payloads.cancellation(list(lines.items()),
                                                         "SELLER_CANCEL_OUT_OF_STOCK"))
    task = _run(app, _cancel(app, order_id))
    assert _status_codes(seller, "cancel")[-1] == 400
    assert task.state == "synced"
    assert task.note == "Synced by read-back: Walmart already showed these lines cancelled."


def test_a_cancellation_of_lines_walmart_shipped_stays_an_error(app, acknowledged):
    """Lines shipped at Walmart were not cancelled: nothing is open there, yet the cancel is
    not Synced; it is an Error with Walmart's words."""
    seller, orders = acknowledged
    order_id, po, lines = orders[0]
    _ship_at_walmart(seller, po, lines, "1ZSHIPPEDELSEWHERE")
    task = _run(app, _cancel(app, order_id))
    assert task.state == "error" and task.note is None
    assert "SHIPPED status" in task.last_error_message


@pytest.mark.parametrize("how, reason", [
    ("buyer", "Customer asked to cancel"),
    ("auto-cancel", "no reason given"),
])
def test_a_shipment_of_lines_walmart_cancelled_says_so(app, acknowledged, signed_in, client,
                                                       how, reason):
    """The buyer cancelled, or Walmart cancelled automatically (4 days past Ship By), before
    the shipment reached Walmart: the task ends in Error saying Walmart cancelled those lines,
    and the Sync page explains it."""
    seller, orders = acknowledged
    order_id, po, lines = orders[0]
    if how == "buyer":
        control.buyer_cancel(seller.sim.conn, seller.seller_id, po)
    else:
        control.advance_clock(seller.sim.conn, 24 * 9)
    try:
        task = _run(app, _ship(app, order_id, lines, "1Z999AA10123456784"))
    finally:
        if how != "buyer":
            control.advance_clock(seller.sim.conn, -24 * 9)
    assert task.state == "error" and task.note is None
    line, qty = next(iter(lines.items()))
    assert task.last_error_message.startswith(
        f"Walmart cancelled line {line} ({qty} unit{'s' if qty != 1 else ''}, {reason}) "
        "before this shipment reached it")
    signed_in("operator")
    page = client.get("/sync/?state=error").text
    assert "Walmart cancelled these lines before the shipment reached it" in page
