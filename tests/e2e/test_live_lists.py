"""Lists left open stay current: a ship made with the CLI shows on an open Orders page by
itself; polls rest while the tab is hidden and look at once when it is shown again; a poll
never replaces the Stock table under a quantity being typed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

pytestmark = pytest.mark.browser
IDLE_MS = 300


@pytest.fixture
def app_settings(app_settings):
    return {**app_settings, "IDLE_POLL_MS": IDLE_MS}  # the idle poll, quick for the tests


def _open_orders(app, count: int) -> list[tuple[int, str, dict[str, int]]]:
    """(id, number, {line: open units}) of the newest open orders (the first page's top)."""
    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        return [(o.id, o.number, {x.line_number: x.open_qty for x in o.lines})
                for o in db.session.scalars(select(Order).where(
                    Order.status == "Open", Order.intent_to_cancel.is_(False))
                    .order_by(Order.order_date.desc()).limit(count)).unique()]


def _ship_with_cli(runner, number: str, lines: dict[str, int], tracking: str) -> None:
    args = ["orders", "ship", number, "--carrier", "UPS", "--tracking", tracking, "--yes"]
    for line, quantity in lines.items():
        args += ["--line", f"{line}:{quantity}"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output


def _set_hidden(page, hidden: bool) -> None:
    """What the browser does when the tab goes to the background (or comes back)."""
    page.evaluate("""hidden => {
        Object.defineProperty(document, 'visibilityState',
                              {configurable: true, get: () => hidden ? 'hidden' : 'visible'});
        document.dispatchEvent(new Event('visibilitychange'));
    }""", hidden)


def test_a_ship_made_with_the_cli_shows_on_an_open_orders_page(page, sign_in, app, runner,
                                                                shop):
    (order_id, number, lines), = _open_orders(app, 1)
    sign_in("viewer")
    page.goto("/orders/")
    badge = page.locator(f"#order-{order_id} .badge")
    expect(badge).to_have_text("Open")
    _ship_with_cli(runner, number, lines, "1Z999AA10123456784")
    expect(badge).to_have_text("Shipped")  # no reload: the idle poll brought it
    expect(page.locator(f"#order-{order_id} .details")).to_contain_text(
        "Sending shipment to Walmart")


def test_polls_rest_while_the_tab_is_hidden_and_look_when_it_is_back(page, sign_in, app,
                                                                      runner, shop):
    (order_id, number, lines), = _open_orders(app, 1)
    sign_in("viewer")
    page.goto("/orders/")
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "poll=1" in r.url else None)
    page.wait_for_timeout(IDLE_MS * 3)
    assert polls, "the Orders page does not poll while idle"
    _set_hidden(page, True)
    page.wait_for_timeout(IDLE_MS)  # a request already on its way may still land
    polls.clear()
    _ship_with_cli(runner, number, lines, "1Z999AA10123456785")
    page.wait_for_timeout(IDLE_MS * 5)
    assert polls == []  # hidden: no request at all
    expect(page.locator(f"#order-{order_id} .badge")).to_have_text("Open")
    _set_hidden(page, False)
    expect(page.locator(f"#order-{order_id} .badge")).to_have_text("Shipped")


def test_a_poll_never_replaces_a_quantity_being_typed(page, sign_in, app, shop):
    from webapp.extensions import db
    from webapp.models import SkuStock
    from webapp.services.stock.levels import set_on_hand

    store_id, _seller = shop
    with app.app_context():
        mine, other = db.session.scalars(select(SkuStock).where(SkuStock.store_id == store_id)
                                         .order_by(SkuStock.sku).limit(2)).all()
        mine_id, other_id, other_sku = mine.id, other.id, other.sku
    sign_in("operator")
    page.goto(f"/stock/?store={store_id}")
    field = page.locator(f"#on-hand-{mine_id}")
    field.fill("17")
    with app.app_context():
        set_on_hand(store_id, other_sku, 4321, by=None, actor="colleague")
    page.wait_for_timeout(IDLE_MS * 5)
    expect(field).to_have_value("17")  # still what the person typed, and still focused
    expect(field).to_be_focused()
    expect(page.locator(f"#sku-{other_id}")).not_to_contain_text("4321")
    field.fill(field.get_attribute("value") or "")  # typed back as it was, and left
    field.blur()
    expect(page.locator(f"#sku-{other_id}")).to_contain_text("4321")
