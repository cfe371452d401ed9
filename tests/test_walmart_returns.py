"""Returns, refunds for returns, and inventory, over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from simulator import control
from webapp.walmart import DataError, payloads


def _shipped_order(seller, client, lines: int = 1):
    """An order with at least `lines` lines, acknowledged and fully shipped."""
    for page in client.iter_pages(released=True):
        for order in page.orders:
            if len(order.lines) >= lines and not any(x.intent_to_cancel for x in order.lines):
                client.acknowledge(order.purchase_order_id)
                package = payloads.Package(
                    "1Z999AA10123456784", "Standard", datetime.now(UTC),
                    tuple((x.line_number, x.quantity) for x in order.lines), carrier="UPS")
                return client.ship(order.purchase_order_id,
                                   payloads.shipment([package], "OD-7"))
    raise AssertionError("no suitable order")


def test_returns_list_links_back_to_the_order(sim):
    """A return lists its lines with the purchase order and line they came from."""
    seller = sim.seller(seed_orders=10)
    client = seller.client()
    order = _shipped_order(seller, client)
    rma = control.open_return(sim.conn, seller.seller_id, order.purchase_order_id,
                              reason="DAMAGED", seed=1)["rma"]
    [ret] = client.returns().returns
    assert ret.return_order_id == rma and ret.customer_order_id == order.customer_order_id
    line = ret.lines[0]
    assert (line.purchase_order_id, line.purchase_order_line_number) == (
        order.purchase_order_id, int(order.lines[0].line_number))
    assert line.reason == "DAMAGED" and line.refunded_quantity == 0
    assert ret.return_by_date > ret.return_order_date
    assert client.get_order(order.purchase_order_id).lines[0].return_order_id == rma


def test_returns_page_with_next_cursor(sim):
    """Returns page with limit and nextCursor (no 'list' envelope)."""
    seller = sim.seller(seed_orders=40)
    client = seller.client()
    for _ in range(3):
        order = _shipped_order(seller, client)
        control.open_return(sim.conn, seller.seller_id, order.purchase_order_id)
    pages = list(client.iter_return_pages(limit=2))
    assert [len(p.returns) for p in pages] == [2, 1]
    assert pages[0].next_cursor.startswith("?")


@pytest.mark.parametrize("name, missing", [
    ("returnCreationStartDate", "returnCreationEndDate"),
    ("returnCreationEndDate", "returnCreationStartDate"),
    ("returnLastModifiedStartDate", "returnLastModifiedEndDate"),
    ("returnLastModifiedEndDate", "returnLastModifiedStartDate"),
])
def test_simulator_refuses_a_lone_return_date(sim, name, missing):
    """As Walmart: a returns search with one bound of a date range and not the other → 400
    INVALID_REQUEST_PARAM naming the missing bound; both bounds → 200."""
    client = sim.seller().client()
    with pytest.raises(DataError) as caught:
        client._call("GET", "/v3/returns", params={name: "2026-01-01T00:00:00Z"})
    assert (caught.value.status, caught.value.code, caught.value.field) == (
        400, "INVALID_REQUEST_PARAM.GMP_RETURNS_API", missing)
    both = client._call("GET", "/v3/returns", params={name: "2026-01-01T00:00:00Z",
                                                      missing: "2026-01-02T00:00:00Z"})
    assert both["returnOrders"] == []


def test_client_never_sends_a_lone_return_date(sim):
    """The client refuses to search returns with one bound of a range (Walmart's 400)."""
    client = sim.seller().client()
    with pytest.raises(ValueError, match="returnLastModifiedEndDate"):
        client.returns(returnLastModifiedStartDate=datetime(2026, 1, 1, tzinfo=UTC))


def test_next_cursor_keeps_both_dates_of_the_range(sim):
    """Paging a dated returns search: every nextCursor carries both bounds and every page
    is answered (no lone bound on page 2)."""
    seller = sim.seller(seed_orders=40)
    client = seller.client()
    for _ in range(3):
        order = _shipped_order(seller, client)
        control.open_return(sim.conn, seller.seller_id, order.purchase_order_id)
    since, until = datetime(2020, 1, 1, tzinfo=UTC), datetime(2099, 1, 1, tzinfo=UTC)
    pages = list(client.iter_return_pages(limit=2, returnLastModifiedStartDate=since,
                                          returnLastModifiedEndDate=until))
    assert [len(p.returns) for p in pages] == [2, 1]
    assert "returnLastModifiedStartDate=" in pages[0].next_cursor
    assert "returnLastModifiedEndDate=" in pages[0].next_cursor
    calls = [r for r in seller.requests() if r["endpoint"] == "returns"]
    assert [r["status"] for r in calls] == [200, 200]
    assert all("returnLastModifiedEndDate=" in r["path"] for r in calls)


def test_returns_import_sends_both_modified_dates(app, walmart_store):
    """The returns import asks for returns modified between its watermark and now: both
    bounds of the range, never a lone start; the return is read."""
    from webapp.services.returns.importer import import_returns

    store_id, seller = walmart_store(orders=10)
    client = seller.client()
    order = _shipped_order(seller, client)
    control.open_return(seller.sim.conn, seller.seller_id, order.purchase_order_id)
    with app.app_context():
        assert import_returns(store_id) == 1
    [call] = [r for r in seller.requests() if r["endpoint"] == "returns"]
    assert call["status"] == 200
    assert "returnLastModifiedStartDate=" in call["path"]
    assert "returnLastModifiedEndDate=" in call["path"]


def test_refund_a_return_by_quantity(sim):
    """Refunding part then the rest of a return completes it; more than returned is refused."""
    seller = sim.seller(seed_orders=120, seed=3)
    client = seller.client()
    order = None
    for page in client.iter_pages(released=True):
        for candidate in page.orders:
            if candidate.lines[0].quantity >= 2 and not candidate.lines[0].intent_to_cancel:
                order = candidate
                break
        if order:
            break
    client.acknowledge(order.purchase_order_id)
    line = order.lines[0]
    package = payloads.Package("1ZRET", "Standard", datetime.now(UTC),
                               ((line.line_number, line.quantity),), carrier="UPS")
    client.ship(order.purchase_order_id, payloads.shipment([package], "OD-8"))
    doc = control.open_return(sim.conn, seller.seller_id, order.purchase_order_id,
                              {line.line_number: line.quantity})
    rma, customer = doc["rma"], order.customer_order_id
    body = payloads.return_refund(customer, [(1, 1)])
    assert body["refundLines"][0]["quantity"] == {"unitOfMeasure": "EA", "measurementValue": 1}
    result = client.refund_return(rma, body)
    assert result.lines == ((1, 1),)
    with pytest.raises(DataError, match="Requested quantity is not available"):
        client.refund_return(rma, payloads.return_refund(customer, [(1, line.quantity)]))
    client.refund_return(rma, payloads.return_refund(customer, [(1, line.quantity - 1)]))
    [ret] = client.returns(returnOrderId=rma).returns
    assert ret.lines[0].refunded_quantity == line.quantity
    assert ret.lines[0].status == "COMPLETED" and ret.lines[0].refund_channel == \
        "SELLER_MANUAL_REFUND"


def test_return_refund_rules(sim):
    """Unknown RMA, missing mandatory fields and an unnamed line on a multi-line return fail."""
    seller = sim.seller(seed_orders=60, seed=5)
    client = seller.client()
    order = _shipped_order(seller, client, lines=2)
    rma = control.open_return(sim.conn, seller.seller_id, order.purchase_order_id)["rma"]
    with pytest.raises(DataError, match="not valid"):
        client.refund_return("123", payloads.return_refund(order.customer_order_id, [(1, 1)]))
    with pytest.raises(DataError, match="mandatory fields"):
        client.refund_return(rma, {"refundLines": []})
    unnamed = {"customerOrderId": order.customer_order_id,
               "refundLines": [{"quantity": {"unitOfMeasure": "EA", "measurementValue": 1}}]}
    with pytest.raises(DataError, match="more than one line"):
        client.refund_return(rma, unnamed)


def test_walmart_can_refund_a_return_itself(sim):
    """When Walmart refunds on the seller's behalf, the return shows Walmart's channel."""
    from simulator import returns

    seller = sim.seller(seed_orders=10)
    client = seller.client()
    order = _shipped_order(seller, client)
    rma = control.open_return(sim.conn, seller.seller_id, order.purchase_order_id)["rma"]
    returns.walmart_refunds(sim.conn, seller.seller_id, rma)
    [ret] = client.returns(returnOrderId=rma).returns
    assert ret.lines[0].refund_channel == "WALMART_TRIGGERED_REFUND"
    assert ret.lines[0].refunded_quantity == ret.lines[0].quantity


def test_inventory_update_takes_a_numeric_amount(sim):
    """PUT /v3/inventory sends {sku, quantity: {unit: EACH, amount: <number>}}."""
    seller = sim.seller()
    client = seller.client()
    level = client.update_inventory("SKU 1/2", payloads.inventory("SKU 1/2", 7))
    assert (level.sku, level.amount) == ("SKU 1/2", 7)
    sent = seller.requests()[-1]
    assert sent["path"] == "/v3/inventory?sku=SKU%201%2F2"
    with pytest.raises(DataError) as caught:
        client.update_inventory("SKU", {"sku": "SKU", "quantity": {"unit": "EACH",
                                                                    "amount": "7"}})
    assert caught.value.field == "quantity.amount"


def test_returns_pages_end_at_a_repeated_cursor(sim, monkeypatch):
    """Walmart answers a returns page with the cursor it was given: iter_return_pages ends
    there instead of following it forever."""
    from webapp.walmart.client import WalmartClient

    seller = sim.seller(seed_orders=40)
    client = seller.client()
    for _ in range(5):
        order = _shipped_order(seller, client)
        control.open_return(sim.conn, seller.seller_id, order.purchase_order_id)
    control.set_faults(sim.conn, "returns", repeat_cursor_rate=1.0)
    followed, real = [], WalmartClient.next_returns

    def next_returns(self, cursor):
        followed.append(cursor)
        assert len(followed) < 50, "the walk never ends: it keeps following nextCursor"
        return real(self, cursor)
    monkeypatch.setattr(WalmartClient, "next_returns", next_returns)
    pages = list(client.iter_return_pages(limit=2))
    assert len(pages) == 2 and pages[1].next_cursor == pages[0].next_cursor
