"""Going live in the browser: Test connection on the store form, a read-only store whose pages
say so and offer nothing that sends, and the confirmed switch back to read-write."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

pytestmark = pytest.mark.browser


def _shot(page, name: str) -> None:
    folder = os.environ.get("ORDERDECK_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def test_test_connection_read_only_and_back(page, sign_in, app, shop, live_worker):
    """An admin tests the connection (a wrong secret fails in words, the saved one works),
    makes the store read-only (Stores and the order page say so, no Ship or Cancel), then
    switches it back after the confirmation page."""
    from webapp.extensions import db
    from webapp.models import Order, Store

    store_id, _seller = shop
    with app.app_context():
        name = db.session.get(Store, store_id).name
        order_id = db.session.scalars(select(Order).where(
            Order.status == "Open", Order.intent_to_cancel.is_(False)).order_by(Order.id)
        ).first().id
    sign_in("admin")
    page.goto(f"/stores/{store_id}/edit")
    page.get_by_label("Client secret").fill("not-the-secret")
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("heading", name="Connection failed")).to_be_visible()
    expect(page.get_by_text("Walmart refused the client id/secret (400)")).to_be_visible()
    page.get_by_label("Client secret").fill("")
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("heading", name="Connection works")).to_be_visible()
    _shot(page, "store-test-connection")

    page.get_by_label("Read-only").check()
    page.get_by_role("button", name="Save store").click()
    row = page.locator(f"#store-{store_id}")
    expect(row.locator(".tag", has_text="Read-only")).to_be_visible()
    page.goto(f"/orders/{order_id}")
    expect(page.get_by_text("Read-only store.")).to_be_visible()
    expect(page.get_by_role("button", name="Ship")).to_have_count(0)
    expect(page.get_by_role("button", name="Cancel", exact=True)).to_have_count(0)

    page.get_by_role("link", name="Switch to read-write…").click()
    expect(page.get_by_role("heading", name=f"Switch {name} to read-write?")).to_be_visible()
    _shot(page, "store-read-write-confirm")
    page.get_by_role("button", name="Switch to read-write").click()
    expect(page.get_by_text(f"{name} is read-write")).to_be_visible()
    expect(page.locator(f"#store-{store_id} .tag", has_text="Read-only")).to_have_count(0)
    page.goto(f"/orders/{order_id}")
    expect(page.get_by_role("button", name="Cancel", exact=True)).to_be_visible()
