"""Two browser journeys: a tracking CSV with a bad row, corrected in the page and confirmed;
and a viewer, who sees the orders but no button that changes anything."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

pytestmark = pytest.mark.browser


def _open_orders(app, count: int, quantity: int | None = None
                 ) -> list[tuple[int, str, str, int]]:
    """(id, number, purchase order id, units) of single-line open orders (of `quantity`
    units, when given)."""
    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        found = [(o.id, o.number, o.purchase_order_id, o.lines[0].quantity)
                 for o in db.session.scalars(select(Order).where(
                     Order.status == "Open", Order.intent_to_cancel.is_(False))
                     .order_by(Order.id)).unique() if len(o.lines) == 1
                 and quantity in (None, o.lines[0].quantity)]
    return found[:count]


def test_upload_tracking_correct_a_bad_row_and_confirm(page, sign_in, app, shop, live_worker,
                                                       tmp_path):
    """One order shipped in full, one in part: the preview and the result say which, link
    each order, and the result follows both shipments until Walmart has them."""
    (one_id, one, _po1, q1), = _open_orders(app, 1, quantity=1)
    (two_id, two, _po2, q2), = _open_orders(app, 1, quantity=2)
    csv_file = tmp_path / "tracking.csv"
    csv_file.write_text("order,line,quantity,carrier,method,tracking number,tracking URL\n"
                        f"{one},1,{q1},UPS,,1Z999AA10123456784,\n"
                        f"{two},1,{q2 - 1},Fedex Ground,,123456789012,\n")
    sign_in()
    page.get_by_role("link", name="Orders", exact=True).click()
    page.get_by_role("link", name="Upload tracking").click()
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Check file").click()
    expect(page.get_by_text("is not one of Walmart's carriers")).to_be_visible()
    expect(page.get_by_text("Nothing was shipped.")).to_be_visible()
    expect(page.get_by_role("button", name="Create shipments")).to_have_count(0)
    text = page.get_by_label("CSV text")
    text.fill(text.input_value().replace("Fedex Ground", "FedEx"))
    page.get_by_role("button", name="Check again").click()
    expect(page.get_by_text("2 order(s) will ship")).to_be_visible()
    expect(page.locator(f"#plan-order-{one_id} .tag")).to_have_text("Shipped")
    expect(page.locator(f"#plan-order-{two_id} .tag")).to_have_text("Partially Shipped")
    page.get_by_role("button", name="Create shipments").click()
    expect(page.locator(f"#upload-order-{one_id} td").nth(1)).to_have_text("Shipped")
    expect(page.locator(f"#upload-order-{two_id} td").nth(1)).to_have_text("Partially Shipped")
    # The result follows each shipment by itself until Walmart has it.
    expect(page.locator("#upload-result .tag.ok", has_text="Synced")).to_have_count(
        2, timeout=15000)
    expect(page.locator("#upload-result h2")).not_to_be_focused()  # polls move no focus
    page.get_by_role("link", name=two, exact=True).click()
    expect(page.locator("#order-live .badge")).to_have_text("Partially Shipped")
    page.goto(f"/orders/{one_id}")
    expect(page.locator("#order-live .badge")).to_have_text("Shipped")
    expect(page.locator("#order-live .tag.ok", has_text="Synced")).to_have_count(1)


def test_a_viewer_sees_no_action_buttons(page, sign_in, app, returned):
    _store_id, _seller, shipped_id, _rma = returned
    (open_id, _n, _po, _q), = _open_orders(app, 1)
    sign_in("viewer")
    actions = ("Ship", "Add tracking number", "Cancel", "Cancel Order", "Retry", "Send now",
               "Refund", "Import now", "Upload tracking", "Fixed in Seller Center", "Set")
    for path in ("/", "/orders/", f"/orders/{open_id}", f"/orders/{shipped_id}", "/returns/",
                 "/sync/", "/stock/", "/stores/"):
        page.goto(path)
        for name in actions:
            expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
            expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
    page.goto(f"/orders/{open_id}")
    expect(page.locator("#order-live .badge")).to_have_text("Open")  # it is readable
