"""Correct and send again: a shipment or cancellation Walmart refused (for real, at the
simulator over HTTP), corrected by a person, synced; the refused attempt stays in the history;
stock stays right; bad corrections change nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from simulator import control
from tests.test_security import changed, snapshot

BAD_NUMBER = "1Z999AA1-0123456784"  # a dash: Walmart takes letters and digits only
GOOD_NUMBER = "1Z999AA10123456784"


def _pick(app, qty: int = 1, lines: int = 1) -> tuple[int, str, str]:
    """An open order of `lines` lines, its first line of `qty` units: (id, PO, SKU)."""
    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        for order in db.session.scalars(select(Order).order_by(Order.id)).unique():
            if len(order.lines) == lines and order.lines[0].quantity == qty and \
                    not order.intent_to_cancel and order.status == "Open":
                return order.id, order.purchase_order_id, order.lines[0].sku
    raise AssertionError("no such order seeded")


def _ship(app, order_id: int, number: str, units: dict[str, int]) -> int:
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order

    with app.app_context():
        return ship_order(order_id, [PackageInput(number, "Standard", units, "UPS")], utcnow(),
                          by=None, actor="test", confirm_warnings=True).task_id


def _task(app, task_id: int):
    from webapp.extensions import db
    from webapp.models import SyncTask

    with app.app_context():
        task = db.session.get(SyncTask, task_id)
        db.session.expunge(task)
        return task


def _stock(app, store_id: int, sku: str) -> tuple[int, int]:
    from webapp.extensions import db
    from webapp.models import SkuStock

    with app.app_context():
        row = db.session.scalars(select(SkuStock).where(SkuStock.store_id == store_id,
                                                        SkuStock.sku == sku)).one()
        return row.on_hand, row.reserved


def _walmart(seller, po: str, line: str = "1") -> list[tuple]:
    state = control.order_state(seller.sim.conn, seller.seller_id, po)
    entry = next(x for x in state["orderLines"]["orderLine"] if x["lineNumber"] == line)
    return sorted((s["status"], int(s["statusQuantity"]["amount"]),
                   (s["trackingInfo"] or {}).get("trackingNumber") or s["cancellationReason"])
                  for s in entry["orderLineStatuses"]["orderLineStatus"])


def test_a_shipment_refused_for_its_tracking_number_is_corrected_and_synced(app, shop,
                                                                            worker):
    """Walmart refuses a tracking number with a dash; the corrected shipment is a new task that
    syncs; the refused task stays 'corrected' with Walmart's message and points to it; the
    order is Shipped, the shipment shows the new number, the correction is audited."""
    from webapp.extensions import db
    from webapp.models import AuditEvent, Order, Shipment, SyncTask
    from webapp.services.shipping.correcting import correct_shipment
    from webapp.services.shipping.ship import PackageInput

    _store_id, seller = shop
    order_id, po, _sku = _pick(app, qty=2)
    refused_id = _ship(app, order_id, BAD_NUMBER, {"1": 2})
    worker()
    refused = _task(app, refused_id)
    assert refused.state == "error" and refused.last_error_field == "trackingNumber"
    assert "letters and digits" in refused.last_error_message
    with app.app_context():
        assert db.session.get(Order, order_id).status == "Error"
        shipment = correct_shipment(refused_id, [PackageInput(
            GOOD_NUMBER, "Standard", {"1": 2}, "UPS")], refused.created_at, by=None)
        new_id = shipment.task_id
    assert new_id != refused_id
    worker()
    old, new = _task(app, refused_id), _task(app, new_id)
    assert (old.state, old.replaced_by_id, old.last_error_field) == ("corrected", new_id,
                                                                      "trackingNumber")
    assert BAD_NUMBER in str(old.payload) and GOOD_NUMBER in str(new.payload)
    assert new.state == "synced"
    assert _walmart(seller, po) == [("Shipped", 2, GOOD_NUMBER)]
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert (order.status, [x.shipped_qty for x in order.lines]) == ("Shipped", [2])
        shipment = db.session.scalars(select(Shipment).where(Shipment.order_id == order_id)
                                      ).one()
        assert [p.tracking_number for p in shipment.packages] == [GOOD_NUMBER]
        assert shipment.corrected_at is not None
        tasks = db.session.scalars(select(SyncTask.state).where(
            SyncTask.order_id == order_id, SyncTask.kind == "ship")).all()
        assert sorted(tasks) == ["corrected", "synced"]
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "order.ship_correction")).one()
        assert event.details["was"] == [BAD_NUMBER] and event.details["tracking"] == [
            GOOD_NUMBER]


def test_a_shipment_refused_as_overshipped_ships_what_is_left_and_gives_the_rest_back(
        app, shop, worker):
    """One unit was shipped in Seller Center: Walmart refuses our shipment of both ("Qty
    OverShipped"). Corrected to one unit, it syncs; the unit no longer shipped by it is open,
    reserved and on hand again."""
    from webapp.services.shipping.correcting import correct_shipment
    from webapp.services.shipping.ship import PackageInput
    from webapp.services.stock.levels import set_on_hand

    store_id, seller = shop
    order_id, po, sku = _pick(app, qty=2)
    with app.app_context():
        set_on_hand(store_id, sku, 20, by=None)
    control.seller_center_ship(seller.sim.conn, seller.seller_id, po, "1ZSELLERCENTER0001",
                               lines={"1": 1})
    refused_id = _ship(app, order_id, GOOD_NUMBER, {"1": 2})
    worker()
    assert "OverShipped" in _task(app, refused_id).last_error_message
    on_hand, reserved = _stock(app, store_id, sku)
    with app.app_context():
        correct_shipment(refused_id, [PackageInput("1Z999AA10123456785", "Standard",
                                                   {"1": 1}, "UPS")],
                         _task(app, refused_id).created_at, by=None)
    assert _stock(app, store_id, sku) == (on_hand + 1, reserved + 1)
    worker()
    assert _walmart(seller, po) == [("Shipped", 1, "1Z999AA10123456785"),
                                    ("Shipped", 1, "1ZSELLERCENTER0001")]


def test_a_refused_cancellation_corrected_releases_its_units_only_once_accepted(app, shop,
                                                                                 worker):
    """Walmart refuses to cancel units shipped in Seller Center meanwhile. Corrected to the
    unit still open (and another reason), it syncs: the units stay reserved until Walmart
    accepts, then the canceled unit is released (with the one shipped elsewhere) and pushed."""
    from webapp.extensions import db
    from webapp.models import Cancellation, Order
    from webapp.services.shipping.correcting import correct_cancellation
    from webapp.services.stock.cancelling import cancel_order
    from webapp.services.stock.levels import set_on_hand

    store_id, seller = shop
    order_id, po, sku = _pick(app, qty=2)
    with app.app_context():
        set_on_hand(store_id, sku, 20, by=None)
    worker()
    _on_hand, held = _stock(app, store_id, sku)
    control.seller_center_ship(seller.sim.conn, seller.seller_id, po, "1ZSELLERCENTER0001",
                               lines={"1": 1})
    with app.app_context():
        refused_id = cancel_order(order_id, "SELLER_CANCEL_OUT_OF_STOCK", by=None,
                                  actor="test").task_id
    worker()
    assert "cannot cancel" in _task(app, refused_id).last_error_message
    assert _stock(app, store_id, sku)[1] == held
    with app.app_context():
        new_id = correct_cancellation(refused_id, "SELLER_CANCEL_PRICING_ERROR", {"1": 1},
                                      by=None).task_id
        order = db.session.get(Order, order_id)
        assert [(x.canceled_qty, x.cancellation_reason) for x in order.lines] == [
            (1, "SELLER_CANCEL_PRICING_ERROR")]
    assert _stock(app, store_id, sku)[1] == held  # not released before Walmart accepts
    worker()
    assert _task(app, new_id).state == "synced"
    assert _task(app, refused_id).replaced_by_id == new_id
    assert ("Cancelled", 1, "SELLER_CANCEL_PRICING_ERROR") in _walmart(seller, po)
    # Released: the canceled unit, and the unit Walmart's answer shows shipped elsewhere.
    assert _stock(app, store_id, sku)[1] == held - 2
    with app.app_context():
        cancellation = db.session.scalars(select(Cancellation).where(
            Cancellation.order_id == order_id)).one()
        assert (cancellation.task_id, cancellation.reason) == (new_id,
                                                              "SELLER_CANCEL_PRICING_ERROR")
    pushes = [r for r in seller.requests() if r["endpoint"] == "inventory"]
    assert f'"amount": {20 - (held - 2)}' in pushes[-1]["body"]


@pytest.fixture
def refused_shipment(app, shop, worker):
    """An order of 2 units shipped with a tracking number Walmart refused: (order, task)."""
    order_id, _po, _sku = _pick(app, qty=2)
    task_id = _ship(app, order_id, BAD_NUMBER, {"1": 2})
    worker()
    assert _task(app, task_id).state == "error"
    return order_id, task_id


BAD_SHIPMENTS = [
    ({"1": 3}, GOOD_NUMBER, "only 2 unit(s) left to ship, not 3"),
    ({"1": -1}, GOOD_NUMBER, "whole numbers"),
    ({"9": 1}, GOOD_NUMBER, "no line 9"),
    ({"1": 0}, GOOD_NUMBER, "at least one unit"),
    ({"1": 2}, BAD_NUMBER, "exactly what Walmart refused"),
    ({"1": 2}, "", "Enter the tracking number"),
]


def test_a_bad_shipment_correction_changes_nothing(app, refused_shipment):
    """Quantities beyond what is open, odd numbers, unknown lines, nothing, the refused
    content itself or no tracking number: a clear refusal, and no row or job changes."""
    from webapp.services.errors import ActionRefused
    from webapp.services.shipping.correcting import correct_shipment
    from webapp.services.shipping.ship import PackageInput

    _order_id, task_id = refused_shipment
    when = _task(app, task_id).created_at
    before = snapshot(app)
    for units, number, message in BAD_SHIPMENTS:
        with app.app_context(), pytest.raises(ActionRefused, match=re.escape(message)):
            correct_shipment(task_id, [PackageInput(number, "Standard", units, "UPS")], when,
                             by=None, confirm_warnings=True)
        assert changed(before, snapshot(app)) == [], (units, number)


def test_only_a_refusal_still_in_error_is_corrected_once(app, refused_shipment, worker):
    """Corrected once, the refusal cannot be corrected, retried or closed again; a retried
    one (pending) cannot be corrected; an acknowledgement is not a correctable update."""
    from webapp.extensions import db
    from webapp.models import SyncTask
    from webapp.services.errors import ActionRefused
    from webapp.services.shipping.correcting import correct_shipment
    from webapp.services.shipping.ship import PackageInput
    from webapp.services.sync.actions import resolve_task, retry_task

    order_id, task_id = refused_shipment
    when = _task(app, task_id).created_at
    fix = [PackageInput(GOOD_NUMBER, "Standard", {"1": 2}, "UPS")]
    with app.app_context():
        correct_shipment(task_id, fix, when, by=None)
    before = snapshot(app)
    with app.app_context():
        with pytest.raises(ActionRefused, match="corrected already"):
            correct_shipment(task_id, fix, when, by=None)
        with pytest.raises(ActionRefused, match="Only a failed update"):
            retry_task(task_id, by=None)
        with pytest.raises(ActionRefused, match="Only a failed update"):
            resolve_task(task_id, "done", by=None)
    assert changed(before, snapshot(app)) == []
    with app.app_context():
        ack = db.session.scalars(select(SyncTask.id).where(
            SyncTask.order_id == order_id, SyncTask.kind == "acknowledge")).first()
        db.session.get(SyncTask, ack).state = "error"
        db.session.commit()
    before = snapshot(app)
    with app.app_context(), pytest.raises(ActionRefused, match="Only a shipment or a cancel"):
        correct_shipment(ack, fix, when, by=None)
    assert changed(before, snapshot(app)) == []


def test_a_concurrent_action_on_the_refusal_wins_cleanly(app, refused_shipment):
    """Someone retries the refusal between our reading it and our writing: the correction is
    refused and writes nothing (one conditional UPDATE decides)."""
    from sqlalchemy import update

    from webapp.extensions import db
    from webapp.models import Shipment, SyncTask
    from webapp.services.errors import ActionRefused
    from webapp.services.shipping.correcting import correct_shipment
    from webapp.services.shipping.ship import PackageInput
    from webapp.services.sync import actions as sync_actions

    order_id, task_id = refused_shipment
    when = _task(app, task_id).created_at
    real = sync_actions.claim_failed

    def retried_meanwhile(task, state, **values):  # another request's Retry commits first
        with db.engine.begin() as conn:
            conn.execute(update(SyncTask).where(SyncTask.id == task.id).values(state="pending"))
        return real(task, state, **values)

    with app.app_context():
        from webapp.services.shipping import correcting
        correcting.claim_failed = retried_meanwhile
        try:
            with pytest.raises(ActionRefused, match="Someone else acted on this update"):
                correct_shipment(task_id, [PackageInput(GOOD_NUMBER, "Standard", {"1": 2},
                                                        "UPS")], when, by=None)
        finally:
            correcting.claim_failed = real
        shipment = db.session.scalars(select(Shipment).where(Shipment.order_id == order_id)
                                      ).one()
        assert [p.tracking_number for p in shipment.packages] == [BAD_NUMBER]
        assert shipment.task_id == task_id
        assert db.session.scalar(select(SyncTask.replaced_by_id).where(
            SyncTask.id == task_id)) is None
