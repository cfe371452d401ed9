"""At a phone's width (390 px): the return page, the order page and its Ship form fit the
screen (no sideways scroll of the page), and a SKU never breaks in the middle of a word."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# For each SKU (a <code> in a table or list), where its text wraps to a new line other than
# just after a hyphen: "MUG-C|ER-12" is a SKU broken mid-string, "MUG-|CER-12" is fine.
BROKEN_SKUS = """(selector) => [...document.querySelectorAll(selector)].flatMap((el) => {
  const node = el.firstChild;
  if (!node || node.nodeType !== Node.TEXT_NODE) return [];
  const broken = [];
  let top = null;
  for (let i = 0; i < node.length; i++) {
    const range = document.createRange();
    range.setStart(node, i);
    range.setEnd(node, i + 1);
    const rect = range.getClientRects()[0];
    if (!rect) continue;
    if (top !== null && rect.top > top + 1 && node.data[i - 1] !== '-')
      broken.push(node.data.slice(0, i) + '|' + node.data.slice(i));
    top = rect.top;
  }
  return broken;
})"""
SKUS = "td code, li code"


def _fits(page) -> None:
    """The page is no wider than the screen, and every SKU on it is whole."""
    width = page.evaluate("[document.documentElement.scrollWidth, "
                          "document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"{page.url} scrolls sideways: {width[0]}px on {width[1]}px"
    assert page.locator(SKUS).count() > 0
    assert page.evaluate(BROKEN_SKUS, SKUS) == []


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_return_order_and_ship_form_fit_a_phone(page, viewport, sign_in, app, returned, shop):
    """The return page (lines, refund form, refunds), the returned order's page, and an open
    order's page with its Ship form open and the Cancel Order form: no sideways scroll, no SKU
    broken mid-string."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Order, Return

    _store_id, _seller, order_id, rma = returned
    with app.app_context():
        return_id = db.session.scalar(select(Return.id).where(Return.rma == rma))
        open_id = next(o.id for o in db.session.scalars(select(Order).order_by(Order.id))
                       .unique() if len(o.lines) >= 2 and not o.intent_to_cancel
                       and all(x.open_qty for x in o.lines))
    sign_in()
    page.goto(f"/returns/{return_id}")
    expect(page.get_by_role("heading", name=f"Return {rma}")).to_be_visible()
    _fits(page)
    page.goto(f"/orders/{order_id}")
    _fits(page)
    page.goto(f"/orders/{open_id}")
    page.get_by_role("button", name="Add tracking number").click()
    expect(page.get_by_label("Carrier", exact=True)).to_be_focused()
    _fits(page)
    page.get_by_role("button", name="Cancel", exact=True).click()
    expect(page.get_by_role("heading", name="Cancel Order")).to_be_visible()
    _fits(page)


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_packing_slips_and_pick_list_fit_a_phone(page, viewport, sign_in, app, shop):
    """A print looked at on a phone before it goes to the printer: the packing slips and the
    pick list (five columns, order numbers of 13 digits) fit the screen, SKUs whole."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.printing import documents, records

    with app.app_context():
        open_ids = list(db.session.scalars(select(Order.id).where(Order.status == "Open")
                                           .order_by(Order.id).limit(5)))
        slips = records.record_print(documents.slips(open_ids), by=None, actor="test").id
        pick = records.record_print(documents.pick_list(open_ids), by=None, actor="test").id
    sign_in()
    for record in (slips, pick):
        page.goto(f"/print/{record}")
        expect(page.get_by_role("button", name="Print")).to_be_visible()
        width = page.evaluate("[document.documentElement.scrollWidth, "
                              "document.documentElement.clientWidth]")
        assert width[0] <= width[1], f"{page.url} scrolls sideways: {width[0]}px"
        assert page.locator("td.sku").count() > 0
        assert page.evaluate(BROKEN_SKUS, "td.sku") == []


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_list_filters_go_two_to_a_row_on_a_phone(page, viewport, sign_in, shop):
    """Orders' filters on a phone: the search across the screen, the others two to a row
    (one to a row, the list started a screen lower), nothing wider than the screen."""
    sign_in()
    page.goto("/orders/")
    form = page.locator("#order-filters")
    store, since = form.get_by_label("Store"), form.get_by_label("Ordered from")
    # Side by side: on one row (a select and a date field differ by a few pixels in height).
    assert abs(store.bounding_box()["y"] - since.bounding_box()["y"]) < 15
    search = form.get_by_label("Search").bounding_box()
    assert search["width"] > 2 * store.bounding_box()["width"] - 20  # across both columns
    width = page.evaluate("[document.documentElement.scrollWidth, "
                          "document.documentElement.clientWidth]")
    assert width[0] <= width[1]
