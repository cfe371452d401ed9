"""Every main page checked with axe-core (pinned in tests/e2e/package.json, installed by
`make test`): no serious or critical violation. The same visit takes the screenshots that
`make screenshots` writes into docs/screenshots/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = os.environ.get("ORDERDECK_SCREENSHOTS")  # a folder: keep them there


@pytest.fixture
def axe_page(browser, live_server):
    """A page whose context lets the test inject axe (our CSP rightly refuses inline
    scripts); everything else is the app as people get it."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make test` installs it with npm (npm ci --prefix "
                    "tests/e2e)")
    context = browser.new_context(base_url=live_server, bypass_csp=True,
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == []


def serious_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' — ' +
                 v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' ' +
                                         n.html.slice(0, 160)).join(' | '));
    }""")
    return result


def check(page, name: str, tmp_path: Path) -> None:
    page.wait_for_load_state("networkidle")
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    assert serious_violations(page) == [], name


def test_main_pages_have_no_serious_accessibility_violation(axe_page, make_user, app,
                                                             returned, tmp_path):
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Return, Store

    page = axe_page
    _store_id, _seller, order_id, _rma = returned
    with app.app_context():
        return_id = db.session.scalar(select(Return.id))
        store_id = db.session.scalar(select(Store.id))
        from webapp.models import WalmartDifference  # a difference for the page to explain
        db.session.add(WalmartDifference(
            store_id=store_id, source="reconcile", kind="stock", sku="A11Y-1", ship_node="",
            ours="3 units last sent (3 units available now)", walmart="1 unit available",
            detail={"ours": 3, "walmart": 1, "available": 3}))
        db.session.commit()
    page.goto("/login")
    check(page, "sign-in", tmp_path)
    user = make_user(role="admin")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Home").wait_for()
    check(page, "home", tmp_path)
    for name, path in (("orders", "/orders/"), ("order", f"/orders/{order_id}"),
                       ("returns", "/returns/"), ("return", f"/returns/{return_id}"),
                       ("stock", "/stock/"), ("sync", "/sync/"),
                       ("reconciliation", "/reconciliation/"), ("stores", "/stores/"),
                       ("store-form", f"/stores/{store_id}/edit"), ("audit-log", "/audit/"),
                       ("users", "/users/"), ("upload-tracking", "/orders/ship-upload")):
        page.goto(path)
        check(page, name, tmp_path)
        if name == "orders":  # at 1280 px its twelve columns fit: none hidden behind a scroll
            table, room, widths = page.evaluate("""t => [t.scrollWidth,
                t.parentElement.clientWidth, [...t.querySelectorAll('thead th')].map(
                    th => th.innerText + ' ' + Math.round(th.getBoundingClientRect().width))]""",
                page.locator("table.orders").element_handle())
            assert table <= room, f"the Orders table is {table}px in {room}px: {widths}"
    # The order page with its forms open, as a person fills them.
    with app.app_context():
        from webapp.models import Order
        open_order = db.session.scalar(select(Order.id).where(
            Order.status == "Open", Order.intent_to_cancel.is_(False)).order_by(Order.id))
    page.goto(f"/orders/{open_order}")
    page.get_by_role("button", name="Add tracking number").click()
    expect(page.get_by_label("Carrier", exact=True)).to_be_focused()
    check(page, "ship-form", tmp_path)
    page.get_by_role("button", name="Cancel", exact=True).click()
    expect(page.get_by_label("Cancellation reason")).to_be_focused()
    check(page, "cancel-order", tmp_path)
    page.get_by_role("button", name="Cancel Order").click()  # no reason: the error, in place
    expect(page.get_by_text("Choose a cancellation reason.")).to_be_visible()
    expect(page.get_by_label("Cancellation reason")).to_be_focused()  # on the field in error
    check(page, "cancel-order-error", tmp_path)
    # Correct and send again: a shipment and a cancellation Walmart refused, in their forms.
    with app.app_context():
        from webapp.models.base import utcnow
        from webapp.services.shipping.ship import PackageInput, ship_order
        from webapp.services.stock.cancelling import cancel_order

        two = db.session.scalars(select(Order).where(
            Order.status == "Open", Order.intent_to_cancel.is_(False), Order.id != open_order)
            .order_by(Order.id).limit(2)).unique().all()
        refused = [ship_order(two[0].id, [PackageInput(
            "1Z999AA1-0123456784", "Standard", {x.line_number: x.quantity for x in two[0].lines},
            "UPS")], utcnow(), by=None, actor="test", confirm_warnings=True).task,
            cancel_order(two[1].id, "SELLER_CANCEL_OUT_OF_STOCK", by=None, actor="test").task]
        from webapp.services.orders import status as order_status
        for task in refused:  # as Walmart's refusal leaves them: the order no longer in flight
            task.state, task.last_error_message = "error", "Invalid request content"
            order_status.refresh(db.session.get(Order, task.order_id))
        db.session.commit()
        refused_ids = [task.id for task in refused]
    for name, task_id in zip(("correct-shipment", "correct-cancellation"), refused_ids,
                             strict=True):
        page.goto(f"/sync/tasks/{task_id}/correct")
        expect(page.get_by_role("button", name="Send again")).to_be_visible()
        check(page, name, tmp_path)
    # Going live: the store form's Test connection result, and the read-write confirmation.
    page.goto(f"/stores/{store_id}/edit")
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("heading", name="Connection works")).to_be_visible()
    check(page, "store-test-connection", tmp_path)
    with app.app_context():
        db.session.get(Store, store_id).read_only = True
        db.session.commit()
    page.goto(f"/orders/{order_id}")
    check(page, "order-read-only", tmp_path)
    page.goto(f"/stores/{store_id}/read-write")
    check(page, "store-read-write", tmp_path)
    # Printing: packing slips and a pick list of open orders, and the prints made.
    with app.app_context():
        from webapp.services.printing import documents, records

        open_ids = list(db.session.scalars(select(Order.id).where(Order.status == "Open")
                                           .order_by(Order.id).limit(3)))
        slips = records.record_print(documents.slips(open_ids), by=None, actor="test").id
        pick = records.record_print(documents.pick_list(open_ids), by=None, actor="test").id
    for name, path in (("packing-slips", f"/print/{slips}"), ("pick-list", f"/print/{pick}"),
                       ("prints", "/print/")):
        page.goto(path)
        check(page, name, tmp_path)
