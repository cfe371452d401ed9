"""The Orders dashboard in a real browser: status cards, search, pages, an order."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def orders_ready(app, walmart_store, worker):
    """70 imported orders, acknowledged at Walmart, one of them with a cancellation there."""
    from simulator import control
    from webapp.services.orders.importer import import_store

    store_id, seller = walmart_store(orders=70, seed=9)
    with app.app_context():
        import_store(store_id)
    worker()
    po = seller.sim.conn.execute("SELECT po FROM orders WHERE seller_id = ? ORDER BY order_ms "
                                 "LIMIT 1", (seller.seller_id,)).fetchone()["po"]
    control.buyer_cancel(seller.sim.conn, seller.seller_id, po)
    with app.app_context():
        import_store(store_id)
    return po


def test_filter_search_page_and_open_an_order(page, sign_in, orders_ready):
    """From Home to Orders; click the Canceled card, search by SKU, page forward, and open
    an order."""
    sign_in()
    page.get_by_role("link", name="Orders", exact=True).click()
    page.get_by_role("heading", name="Orders").wait_for()
    rows = page.locator("#orders-results tbody tr")
    assert rows.count() == 50
    page.locator(".status-card", has_text="Canceled").click()
    page.wait_for_url("**status=canceled**")
    expect(rows).to_have_count(1)
    # The cards were swapped in anew: the keyboard is still on the one pressed, now current.
    expect(page.locator("#card-canceled")).to_be_focused()
    expect(page.locator("#card-canceled")).to_have_attribute("aria-current", "true")
    expect(rows.first).to_contain_text(orders_ready)
    page.locator(".status-card").first.click()  # "All"
    page.wait_for_url(lambda url: "status=" not in url)
    sku = "MUG-CER-12"
    page.get_by_label("Search").fill(sku)
    page.wait_for_url(f"**q={sku}**")
    expect(rows.first).to_contain_text(sku)
    assert 0 < rows.count() < 50
    assert all(sku in text for text in rows.all_inner_texts())
    page.get_by_label("Search").fill("")
    page.wait_for_url(re.compile(r"^(?!.*q=MUG)"))
    expect(rows).to_have_count(50)
    first_page = rows.first.inner_text()
    page.get_by_role("link", name="Next →").click()
    page.wait_for_url("**after=**")
    expect(rows).to_have_count(20)
    assert rows.first.inner_text() != first_page
    page.reload()  # the pushed URL shows the same view as a full page
    assert rows.count() == 20
    rows.first.locator("a").first.click()
    page.get_by_role("heading", name="Sync history").wait_for()
    assert page.get_by_text("Paid through Walmart.").is_visible()
