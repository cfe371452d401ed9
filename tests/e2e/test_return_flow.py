"""Returns in a real browser: from the order to its return, a partial refund, in place."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

pytestmark = pytest.mark.browser


def test_follow_the_order_to_its_return_and_refund_part(page, sign_in, app, shop, worker,
                                                        live_worker):
    """Status details link to the return; refunding 1 of 2 shows Refunded without a reload."""
    from simulator import control
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.models.base import utcnow
    from webapp.services.returns_import import import_returns
    from webapp.services.shipping import PackageInput, ship_order

    store_id, seller = shop
    with app.app_context():
        order = next(o for o in db.session.scalars(select(Order).order_by(Order.id)).unique()
                     if len(o.lines) == 1 and o.lines[0].quantity == 2 and not o.intent_to_cancel)
        order_id, po = order.id, order.purchase_order_id
        ship_order(order_id, [PackageInput("1Z999AA10123456784", "Standard", {"1": 2}, "UPS")],
                   utcnow(), by=None, actor="test")
    worker()
    control.deliver(seller.sim.conn, seller.seller_id, po)
    rma = control.open_return(seller.sim.conn, seller.seller_id, po, seed=4)["rma"]
    with app.app_context():
        import_returns(store_id)
    sign_in()
    page.goto(f"/?q={po}")
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
