"""The Sync page in a real browser: an update Walmart refused, explained; Retry once the cause
is fixed; another closed as Fixed in Seller Center with a note."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from simulator import control

pytestmark = pytest.mark.browser


def test_a_refused_update_is_retried_and_another_closed_by_hand(page, sign_in, app, shop,
                                                                 live_worker):
    from webapp.extensions import db
    from webapp.models import Order, SyncTask
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order
    from webapp.services.sync.engine import process_task

    _store_id, seller = shop
    control.set_faults(seller.sim.conn, "shipping", reject_rate=1.0)
    with app.app_context():
        orders = db.session.scalars(select(Order).where(Order.intent_to_cancel.is_(False))
                                    .order_by(Order.id).limit(2)).unique().all()
        numbers = [o.number for o in orders]
        tasks = []
        for n, order in enumerate(orders):
            task_id = ship_order(order.id, [PackageInput(
                f"1ZBROWSER{n:09d}", "Standard",
                {x.line_number: x.quantity for x in order.lines}, "UPS")],
                utcnow(), by=None, actor="test").task_id
            tasks.append(task_id)
            assert process_task(task_id).state == "error"
    control.clear_faults(seller.sim.conn)  # the cause is fixed
    sign_in()
    page.goto("/")
    expect(page.get_by_role("alert")).to_contain_text("2 updates to Walmart failed")
    page.get_by_role("alert").get_by_role("link", name="see the failed updates").click()
    first, second = (page.locator(f"#task-{t}") for t in tasks)
    expect(first).to_contain_text("Walmart refused the content of the update")
    expect(first).to_contain_text("What to do:")
    first.get_by_role("button", name="Retry").click()
    expect(page.get_by_text("Sent again to Walmart.")).to_be_visible()
    expect(page.locator(f"#task-{tasks[0]}")).to_contain_text("Synced", timeout=10000)
    second = page.locator(f"#task-{tasks[1]}")
    second.get_by_text("Fixed in Seller Center", exact=True).click()
    second.get_by_label("What was done in Seller Center").fill("Shipped by hand in Seller Center")
    second.get_by_role("button", name="Close as fixed").click()
    expect(page.get_by_text("Marked as fixed in Seller Center.")).to_be_visible()
    expect(page.locator(f"#task-{tasks[1]}")).to_contain_text(
        "Shipped by hand in Seller Center")
    expect(page.get_by_role("alert")).to_have_count(0)
    with app.app_context():
        states = [db.session.get(SyncTask, t).state for t in tasks]
    assert states == ["synced", "resolved"]
    page.goto(f"/audit/?order={numbers[1]}")
    expect(page.locator("table.audit")).to_contain_text("Fixed in Seller Center")


def _wait_for(app, task_id: int, state: str) -> None:
    """Until the live worker has taken the task to `state` (a generous deadline, no timing
    asserted)."""
    import time

    from webapp.extensions import db
    from webapp.models import SyncTask

    deadline = time.monotonic() + 60
    while True:
        with app.app_context():
            if db.session.get(SyncTask, task_id).state == state:
                return
        assert time.monotonic() < deadline, f"task {task_id} never reached {state}"
        time.sleep(0.2)


def test_a_refused_shipment_is_corrected_and_sent_again(page, sign_in, app, shop,
                                                        live_worker):
    """Walmart refuses a tracking number with a dash (its format warning was confirmed). From
    the order's Error, Correct and send again opens the Ship form holding what was refused;
    the number corrected, Send again reaches Walmart and turns Synced in place; the refused
    attempt stays in the sync history with Walmart's message; the audit log names it."""
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order

    _store_id, seller = shop
    with app.app_context():
        order = db.session.scalars(select(Order).where(Order.intent_to_cancel.is_(False))
                                   .order_by(Order.id)).first()
        order_id, number, po = order.id, order.number, order.purchase_order_id
        task_id = ship_order(order_id, [PackageInput(
            "1Z999AA1-0123456784", "Standard", {x.line_number: x.quantity for x in order.lines},
            "UPS")], utcnow(), by=None, actor="test", confirm_warnings=True).task_id
    _wait_for(app, task_id, "error")
    sign_in()
    page.goto(f"/orders/{order_id}")
    live = page.locator("#order-live")
    expect(live.locator(".badge")).to_have_text("Error")
    expect(live.locator(".sync-state")).to_contain_text("letters and digits")
    live.locator(".sync-state").get_by_role("link", name="Correct and send again").click()
    form = page.locator("#ship-form")
    expect(form.get_by_role("heading", name="Correct the refused shipment")).to_be_visible()
    expect(form).to_contain_text("Walmart refused it")
    tracking = form.get_by_label("Tracking number", exact=True)
    expect(tracking).to_have_value("1Z999AA1-0123456784")
    expect(form.get_by_label("Carrier", exact=True)).to_have_value("UPS")
    tracking.fill("1Z999AA10123456784")
    form.get_by_role("button", name="Send again").click()
    expect(live.locator(".badge")).to_have_text("Shipped", timeout=10000)
    expect(live.locator(".sync-state .tag.ok")).to_have_text("Synced", timeout=10000)
    refused = page.locator(f"#history-{task_id}")
    expect(refused).to_contain_text("Corrected")
    expect(refused).to_contain_text("letters and digits")
    refused.get_by_text("What Walmart refused").click()
    expect(refused).to_contain_text("1Z999AA1-0123456784")
    expect(page.locator("#ship-form")).to_have_count(0)  # nothing left to ship
    state = control.order_state(seller.sim.conn, seller.seller_id, po)
    assert {s["trackingInfo"]["trackingNumber"] for line in state["orderLines"]["orderLine"]
            for s in line["orderLineStatuses"]["orderLineStatus"]} == {"1Z999AA10123456784"}
    page.goto(f"/audit/?order={number}")
    expect(page.locator("table.audit")).to_contain_text("Corrected refused shipment")
