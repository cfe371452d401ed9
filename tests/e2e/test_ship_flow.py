"""Shipping in a real browser with a real worker: the status changes in place, then Synced."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

pytestmark = pytest.mark.browser


@pytest.fixture
def three_unit_order(app, walmart_store, worker):
    """An acknowledged single-line order of 3 units at the simulator."""
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.orders.importer import import_store

    store_id, seller = walmart_store(orders=40, seed=32)
    with app.app_context():
        import_store(store_id)
    worker()
    with app.app_context():
        for order in db.session.scalars(select(Order).order_by(Order.id)).unique():
            if len(order.lines) == 1 and order.lines[0].quantity == 3 and \
                    not order.intent_to_cancel:
                return order.id, order.purchase_order_id, seller
    raise AssertionError("no 3-unit order")


@pytest.mark.parametrize("viewport", ["desktop", "phone"], indirect=True)
def test_ship_two_then_one_without_reloading(page, viewport, sign_in, three_unit_order,
                                            live_worker):
    """Ship 2 of 3 then the last unit: Partially Shipped, then Shipped, each shipment turning
    to Synced in place; the page is never reloaded."""
    from simulator import control

    order_id, po, seller = three_unit_order
    sign_in()
    page.goto(f"/orders/{order_id}")
    page.evaluate("window.__sameDocument = true")
    form = page.locator("#ship-form")
    page.get_by_role("button", name="Add tracking number").click()
    expect(form.get_by_label("Carrier", exact=True)).to_be_focused()
    form.get_by_label("Carrier", exact=True).select_option("UPS")
    form.get_by_label("Tracking number", exact=True).fill("1Z999AA10123456784")
    page.get_by_label("Quantity of line 1").fill("2")
    page.get_by_role("button", name="Ship", exact=True).click()
    live = page.locator("#order-live")
    expect(live.locator(".badge")).to_have_text("Partially Shipped")
    expect(live.locator(".tag.ok")).to_have_count(1, timeout=10000)  # Synced
    # The page now also offers to correct the first tracking number: the words a person looks
    # for still name one field each (Playwright's default, loose match, is strict on count).
    page.get_by_role("button", name="Add tracking number").click()
    page.get_by_label("Carrier").select_option("USPS")
    page.get_by_label("Tracking number").fill("9400111899223197428490")
    expect(page.get_by_label("Quantity of line 1")).to_have_value("1")
    page.get_by_role("button", name="Ship").click()
    expect(live.locator(".badge")).to_have_text("Shipped")
    expect(live.locator(".tag.ok")).to_have_count(2, timeout=10000)
    assert page.evaluate("window.__sameDocument") is True
    expect(page.locator("#ship-form")).to_have_count(0)  # nothing left to ship
    state = control.order_state(seller.sim.conn, seller.seller_id, po)
    numbers = sorted(s["trackingInfo"]["trackingNumber"] for s in
                     state["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"])
    assert numbers == ["1Z999AA10123456784", "9400111899223197428490"]


def test_ship_anyway_after_a_tracking_number_warning(page, sign_in, three_unit_order):
    """A number that does not look like the carrier's is shown back with a warning; ticking
    "Ship anyway" and Ship again ships it. (The box once came back with an empty value after
    the first submit, so ticking it sent "no" and the warning returned forever.)"""
    order_id, _po, _seller = three_unit_order
    sign_in()
    page.goto(f"/orders/{order_id}")
    form = page.locator("#ship-form")
    page.get_by_role("button", name="Add tracking number").click()
    form.get_by_label("Carrier", exact=True).select_option("UPS")
    form.get_by_label("Tracking number", exact=True).fill("4537079593780")
    page.get_by_role("button", name="Ship", exact=True).click()
    expect(form.get_by_role("alert")).to_contain_text("does not look like a UPS tracking number")
    form.get_by_label("Ship anyway — I checked the tracking number").check()
    page.get_by_role("button", name="Ship", exact=True).click()
    expect(page.locator("#order-live .badge")).to_have_text("Shipped")
    expect(page.locator("#order-live")).to_contain_text("4537079593780")
