"""Returns in a real browser: from the order to its return, a partial refund, in place; what
it refunds per line before and after; Start tracking a SKU for Back on hand."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_follow_the_order_to_its_return_and_refund_part(page, sign_in, app, returned,
                                                        live_worker):
    """Status details link to the return; the form shows what 2 units refund ($18.75 and
    $1.50 tax each: $40.50, Walmart's Refund amount), then what the 1 typed refunds. Refunding
    it shows Refunded $20.25 — the figures shown before — without a reload; meanwhile the form
    is closed, and it opens again with the 1 unit left, not the 1 typed."""
    from webapp.extensions import db
    from webapp.models import Order

    _store_id, seller, order_id, rma = returned
    with app.app_context():
        po = db.session.get(Order, order_id).purchase_order_id
    email = sign_in()
    page.goto(f"/orders/?q={po}")
    page.get_by_role("link", name="View return").click()
    expect(page.get_by_role("heading", name=f"Return {rma}")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    preview = page.locator("#refund-preview")
    expect(preview.locator("tfoot")).to_contain_text("$40.50")
    expect(page.locator("#return-live")).to_contain_text("Refund amount$40.50")
    page.get_by_label("Refund quantity of line 1").fill("1")
    expect(preview.locator("tbody tr")).to_have_text(["1 1 $18.75 $1.50 $0.00 $20.25"],
                                                     use_inner_text=True)
    expect(preview.locator("tfoot")).to_contain_text("$20.25")
    page.get_by_role("button", name="Refund", exact=True).click()
    live = page.locator("#return-live")
    expect(live).to_contain_text("Refunded $20.25", timeout=10000)
    expect(live.locator(".tag.ok")).to_have_count(1)
    expect(live.locator("table.refunds tbody tr")).to_contain_text(["$20.25"])
    expect(live.locator("table").first).to_contain_text(email)  # Refunded by
    form = page.locator("#refund-form fieldset")
    expect(form).to_be_enabled()
    expect(page.get_by_label("Refund quantity of line 1")).to_have_value("1")
    assert page.evaluate("window.__sameDocument") is True
    refunds = [r for r in seller.requests() if r["endpoint"] == "return_refund"]
    assert len(refunds) == 1 and '"measurementValue": 1' in refunds[0]["body"]


def test_start_tracking_an_untracked_sku_and_put_the_units_back(page, sign_in, app, returned,
                                                                 live_worker):
    """The SKU is not tracked: no Back on hand, but Start tracking this SKU; with 5 on the
    shelf it starts, Back on hand appears, and refunding both units puts them back (7)."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Return, SkuStock

    _store_id, _seller, _order_id, rma = returned
    with app.app_context():
        ret = db.session.scalar(select(Return).where(Return.rma == rma))
        return_id, sku = ret.id, ret.lines[0].sku
    sign_in()
    page.goto(f"/returns/{return_id}")
    form = page.locator("#refund-form")
    expect(form).to_contain_text("Not tracked")
    expect(form.get_by_label("back on hand")).to_have_count(0)
    form.get_by_text("Start tracking this SKU").click()
    form.get_by_label("On hand now").fill("5")
    form.get_by_role("button", name="Start tracking").click()
    expect(page.locator("#toasts")).to_contain_text(f"{sku} is tracked now: 5 on hand")
    page.locator("#refund-form").get_by_label("back on hand").check()
    page.get_by_role("button", name="Refund", exact=True).click()
    expect(page.locator("#return-live")).to_contain_text("Refunded $40.50", timeout=10000)
    with app.app_context():
        assert db.session.scalar(select(SkuStock.on_hand).where(SkuStock.sku == sku)) == 7
