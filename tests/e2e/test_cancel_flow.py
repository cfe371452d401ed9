"""Cancel Order in a real browser: the form opens in the page, the order turns Canceled."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", ["desktop", "phone"], indirect=True)
def test_cancel_an_order_from_its_page(page, viewport, sign_in, app, shop, live_worker):
    """Cancel opens the Cancel Order form in place (no browser dialog); with a reason the
    order is Canceled and Walmart has the cancellation."""
    from simulator import control
    from webapp.extensions import db
    from webapp.models import Order

    _store_id, seller = shop
    with app.app_context():
        order = db.session.scalars(select(Order).where(Order.intent_to_cancel.is_(False))
                                   .order_by(Order.id)).first()
        order_id, po = order.id, order.purchase_order_id
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in()
    page.goto(f"/orders/{order_id}")
    page.get_by_role("button", name="Cancel").click()  # loose match: the one Cancel there is
    expect(page.get_by_role("heading", name="Cancel Order")).to_be_visible()
    expect(page.get_by_label("Cancellation reason")).to_be_focused()
    page.get_by_label("Cancellation reason").select_option(label="Pricing error")
    page.get_by_role("button", name="Cancel Order").click()
    live = page.locator("#order-live")
    expect(live.locator(".badge")).to_have_text("Canceled")
    expect(live).to_contain_text("Reason: Pricing error")  # in words; the code goes to Walmart
    expect(live.locator(".task-synced", has_text="Cancel")).to_have_count(1, timeout=10000)
    assert dialogs == []
    state = control.order_state(seller.sim.conn, seller.seller_id, po)
    reasons = {s["cancellationReason"] for x in state["orderLines"]["orderLine"]
               for s in x["orderLineStatuses"]["orderLineStatus"]}
    assert reasons == {"SELLER_CANCEL_PRICING_ERROR"}
