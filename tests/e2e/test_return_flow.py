"""Returns in a real browser: from the order to its return, a partial refund, in place."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_follow_the_order_to_its_return_and_refund_part(page, sign_in, app, returned,
                                                        live_worker):
    """Status details link to the return; refunding 1 of 2 shows Refunded without a reload."""
    from webapp.extensions import db
    from webapp.models import Order

    _store_id, seller, order_id, rma = returned
    with app.app_context():
        po = db.session.get(Order, order_id).purchase_order_id
    sign_in()
    page.goto(f"/orders/?q={po}")
    page.get_by_role("link", name="View return").click()
    expect(page.get_by_role("heading", name=f"Return {rma}")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Refund quantity of line 1").fill("1")
    page.get_by_role("button", name="Refund", exact=True).click()
    live = page.locator("#return-live")
    expect(live).to_contain_text("Refunded $", timeout=10000)
    expect(live.locator(".tag.ok")).to_have_count(1)
    assert page.evaluate("window.__sameDocument") is True
    refunds = [r for r in seller.requests() if r["endpoint"] == "return_refund"]
    assert len(refunds) == 1 and '"measurementValue": 1' in refunds[0]["body"]
