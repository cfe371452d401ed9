"""The Reconciliation page in a real browser, against the simulator with a fault: Reconcile
now shows its progress and the differences made behind Orderdeck's back, each explained;
Adopt Walmart's state and Send ours again settle them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from simulator import control

pytestmark = pytest.mark.browser


def test_reconcile_now_then_adopt_and_send_again(page, sign_in, app, walmart_store,
                                                 walmart_order, worker, live_worker, sim):
    from tests.factories import make_shipment

    store = walmart_store()
    _store_id, seller = store
    canceled_id, canceled_po = walmart_order(store, (2,))
    lost_id, lost_po = walmart_order(store, (1,))
    with app.app_context():
        make_shipment(lost_id, tracking="1Z999AA10123456784")
    worker()
    # Behind Orderdeck's back: cancelled in Seller Center, and a shipment Walmart lost.
    control.seller_center_cancel(sim.conn, seller.seller_id, canceled_po, quiet=True)
    control.lose_update(sim.conn, seller.seller_id, lost_po)
    # (A failed read and its second try are tests/test_reconcile.py's: here the worker
    # process's RQ scheduler may wait for its lock, held by the in-process worker above.)
    sign_in("operator")
    page.goto("/")
    page.get_by_role("link", name="Reconciliation").click()
    expect(page.get_by_text("Never reconciled yet.")).to_be_visible()
    page.get_by_role("button", name="Reconcile now").click()
    expect(page.get_by_text("Reconciliation started")).to_be_visible()
    rows = page.locator("table.reconcile tbody tr")
    expect(rows).to_have_count(3, timeout=30000)  # canceled; acknowledged and shipped
    canceled = rows.filter(has_text="Walmart shows more units canceled")
    expect(canceled).to_contain_text("0 units canceled")
    canceled.get_by_role("button", name="Adopt Walmart's state").click()
    expect(rows.filter(has_text="Walmart shows more units canceled")).to_have_count(
        0, timeout=20000)
    ack = rows.filter(has_text="Walmart does not show the acknowledgement")
    ack.get_by_role("button", name="Send ours again").click()
    expect(page.get_by_text("Sent again to Walmart")).to_be_visible()
    shipped = rows.filter(has_text="Walmart does not show this shipment")
    shipped.get_by_role("button", name="Send ours again").click()
    expect(page.get_by_text("No difference")).to_be_visible(timeout=20000)
    page.goto("/")
    expect(page.locator(".need", has_text="Differences with Walmart")).to_contain_text("0")
    status = control.order_state(sim.conn, seller.seller_id, lost_po)[
        "orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"]
    assert [s["status"] for s in status] == ["Shipped"]
