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
    from webapp.services.shipping import PackageInput, ship_order
    from webapp.services.sync_engine import process_task

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
