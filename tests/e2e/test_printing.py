"""Packing slips and a pick list printed from a real browser: Chromium prints them to PDF,
and a PDF reader (pypdf, tests only) checks that each order starts a page of its own and
shows its customer order number, on Letter and on A4."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
IDLE_MS = 300


@pytest.fixture
def app_settings(app_settings):
    return {**app_settings, "IDLE_POLL_MS": IDLE_MS}  # the idle poll, quick for the tests


@pytest.fixture
def four_orders(app, walmart_store, walmart_order):
    """Four imported orders (the second with several lines and a return centre): their ids
    and customer order numbers, newest first as the Orders page lists them."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Order

    store = walmart_store()
    centre = {"name": "Acme Returns", "address1": "12 Dock Road", "city": "Reno",
              "state": "NV", "postalCode": "89501", "country": "USA"}
    walmart_order(store, [("MUG-CER-12", 1)])
    walmart_order(store, [("MUG-CER-12", 2), ("CAB-HDMI-6FT", 1), ("TWL-BTH-2PK", 3)],
                  return_center=centre)
    walmart_order(store, [("CAB-HDMI-6FT", 2)])
    walmart_order(store, [("LMP-DSK-LED", 1)])
    with app.app_context():
        return [(o.id, o.customer_order_id) for o in db.session.scalars(
            select(Order).order_by(Order.order_date.desc(), Order.id.desc()))]


def _pages(pdf: bytes) -> list[str]:
    from pypdf import PdfReader

    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def _opened(page, click) -> object:
    """The tab a print form opens (target=_blank), loaded, with its script errors watched."""
    with page.context.expect_page() as opened:
        click()
    tab = opened.value
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.wait_for_load_state()
    tab.errors = errors
    return tab


def test_ticked_orders_print_one_page_each_with_their_customer_order_number(
        page, sign_in, four_orders):
    """A viewer ticks three orders on the Orders page and prints their packing slips: the print
    opens in its own tab, and Chromium's PDF of it (Letter and A4) has one page per order, each
    starting with that order's slip and its customer order number, most urgent first; the
    Orders page then shows them printed and "Not yet printed" leaves them out."""
    sign_in("viewer")
    page.goto("/orders/")
    rows = page.locator("#orders-results tbody tr")
    expect(rows).to_have_count(4)
    ticked = four_orders[:3]
    for order_id, _number in ticked:
        page.locator(f"#order-{order_id} input[name=order]").check()
    tab = _opened(page, lambda: page.locator("#print-ticked").get_by_role(
        "button", name="Packing slips").click())
    expect(tab.locator("article.slip")).to_have_count(3)
    expect(tab.get_by_role("button", name="Print")).to_be_visible()
    shown = [int(x) for x in re.findall(r'id="slip-(\d+)"', tab.content())]
    assert sorted(shown) == sorted(i for i, _ in ticked)
    numbers = dict(four_orders)
    for paper in ("Letter", "A4"):
        pages = _pages(tab.pdf(format=paper))
        assert len(pages) == 3, f"{paper}: {len(pages)} pages for 3 slips"
        for text, order_id in zip(pages, shown, strict=True):
            assert text.startswith("Packing slip"), text[:80]
            assert numbers[order_id] in text
            others = [n for i, n in four_orders if i != order_id]
            assert not any(n in text for n in others), f"{paper}: another order on its page"
        assert "Print" not in pages[0].split("Packing slip")[0]  # no toolbar on paper
    assert "Acme Returns 12 Dock Road" in " ".join(_pages(tab.pdf(format="A4")))
    assert tab.errors == []
    tab.close()
    page.reload()
    expect(page.locator("#orders-results .tag", has_text="Printed")).to_have_count(3)
    page.get_by_label("Not yet printed").check()
    page.wait_for_url("**printed=no**")
    expect(rows).to_have_count(1)
    expect(page.locator(f"#order-{four_orders[3][0]}")).to_be_visible()


def test_all_matching_prints_a_pick_list_on_one_sheet(page, sign_in, four_orders):
    """"All matching the filter" prints one pick list of every order listed: SKUs summed and
    sorted, on one sheet."""
    sign_in("operator")
    page.goto("/orders/?q=MUG-CER-12")
    expect(page.locator("#orders-results tbody tr")).to_have_count(2)
    tab = _opened(page, lambda: page.locator("#print-matching").get_by_role(
        "button", name="Pick list").click())
    expect(tab.get_by_role("heading", name="Pick list")).to_be_visible()
    [sheet] = _pages(tab.pdf(format="Letter"))
    assert "2 orders · 7 units · 3 SKUs" in sheet
    assert sheet.index("CAB-HDMI-6FT") < sheet.index("MUG-CER-12") < sheet.index("TWL-BTH-2PK")
    assert tab.errors == []


def test_a_poll_never_unticks_the_orders_chosen_for_printing(page, sign_in, app, runner,
                                                              four_orders):
    """The Orders page's idle poll does not swap the rows while boxes are ticked (it would
    untick them); "tick every order on this page" ticks them all; unticked, the next poll
    brings what changed meanwhile."""
    from webapp.extensions import db
    from webapp.models import Order

    sign_in("operator")
    page.goto("/orders/")
    first = page.locator(f"#order-{four_orders[0][0]} input[name=order]")
    first.check()
    page.get_by_role("heading", name="Orders").click()  # the box no longer focused
    last_id = four_orders[-1][0]
    with app.app_context():
        number = db.session.get(Order, last_id).number
    result = runner.invoke(args=["orders", "slips", number, "-o", str(app.instance_path)
                                 + "/slip.html"])
    assert result.exit_code == 0, result.output
    page.wait_for_timeout(IDLE_MS * 5)
    expect(first).to_be_checked()
    printed = page.locator(f"#order-{last_id} .tag", has_text="Printed")
    expect(printed).to_have_count(0)
    page.get_by_label("Tick every order on this page").check()
    expect(page.locator("#orders-results input[name=order]:checked")).to_have_count(4)
    page.get_by_label("Tick every order on this page").uncheck()
    expect(page.locator("#orders-results input[name=order]:checked")).to_have_count(0)
    expect(printed).to_have_count(1)  # nothing ticked: the poll brought the print

