"""Ship and cancel with the keyboard only: Tab, Enter, arrows and typing — no mouse."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

pytestmark = pytest.mark.browser


def _tab_to(page, name: str, limit: int = 80) -> None:
    """Press Tab until the focused element is named `name` (its text, label or value)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => { const e = document.activeElement;
            return (e.labels && e.labels.length ? e.labels[0].innerText : e.innerText || '')
                .trim(); }""")
        if focused == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")


def _orders(app):
    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        return [o.id for o in db.session.scalars(select(Order).where(
            Order.status == "Open", Order.intent_to_cancel.is_(False)).order_by(Order.id))
            .unique() if len(o.lines) == 1]


def test_ship_and_cancel_with_the_keyboard_only(page, sign_in, app, shop, live_worker):
    ship_id, cancel_id = _orders(app)[:2]
    sign_in()
    page.goto(f"/orders/{ship_id}")
    _tab_to(page, "Add tracking number")
    page.keyboard.press("Enter")
    carrier = page.get_by_label("Carrier", exact=True)
    expect(carrier).to_be_focused()
    page.keyboard.type("UPS")  # a focused select picks the option starting with what is typed
    expect(carrier).to_have_value("UPS")
    _tab_to(page, "Tracking number")
    page.keyboard.type("1Z999AA10123456784")
    _tab_to(page, "Ship")
    page.keyboard.press("Enter")
    expect(page.locator("#order-live .badge")).to_have_text("Shipped")
    expect(page.locator("#order-live .tag.ok", has_text="Synced")).to_have_count(1,
                                                                               timeout=10000)

    page.goto(f"/orders/{cancel_id}")
    _tab_to(page, "Cancel")
    page.keyboard.press("Enter")
    reason = page.get_by_label("Cancellation reason")
    expect(reason).to_be_focused()
    page.keyboard.press("ArrowDown")  # the first of Walmart's reasons
    expect(reason).not_to_have_value("")
    _tab_to(page, "Cancel Order")
    page.keyboard.press("Enter")
    expect(page.locator("#order-live .badge")).to_have_text("Canceled")
