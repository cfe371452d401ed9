"""CUSTOMER_REQUESTED_SELLER_TO_CANCEL only when the buyer asked to cancel: Walmart's spec says
not to use it for an order without an intent to cancel (walmart-api.md §3.3)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from simulator import control

BUYER = "CUSTOMER_REQUESTED_SELLER_TO_CANCEL"


def _counts(app) -> tuple[int, int, int]:
    """Cancellations, sync tasks, canceled units: what a refused cancel must leave alone."""
    from webapp.extensions import db
    from webapp.models import Cancellation, OrderLine, SyncTask

    with app.app_context():
        return (db.session.scalar(select(func.count(Cancellation.id))),
                db.session.scalar(select(func.count(SyncTask.id))),
                db.session.scalar(select(func.coalesce(func.sum(OrderLine.canceled_qty), 0))))


def _csrf(client, url: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(url).text).group(1)


def test_service_refuses_the_buyer_reason_without_a_buyer_request(app, shop, walmart_order):
    """cancel_order with the customer-requested reason on an order the buyer did not ask to
    cancel is refused, on the reason, saying why; nothing is created."""
    from webapp.services.errors import ActionRefused
    from webapp.services.stock.cancelling import cancel_order

    order_id, _po = walmart_order(shop)
    before = _counts(app)
    with app.app_context(), pytest.raises(ActionRefused) as refused:
        cancel_order(order_id, BUYER, by=None, actor="test")
    assert refused.value.field == "reason"
    assert "only when the buyer asked" in str(refused.value)
    assert _counts(app) == before


def test_form_neither_offers_nor_accepts_the_buyer_reason(app, signed_in, client, shop,
                                                          walmart_order):
    """Without a buyer request the Cancel Order form does not offer the customer-requested
    reason, and a POST of it anyway is refused with the explanation (422, nothing created)."""
    order_id, _po = walmart_order(shop)
    signed_in("operator")
    form = client.get(f"/orders/{order_id}/cancel").text
    assert "SELLER_CANCEL_OUT_OF_STOCK" in form and BUYER not in form
    before = _counts(app)
    response = client.post(f"/orders/{order_id}/cancel", data={
        "csrf_token": _csrf(client, f"/orders/{order_id}"), "reason": BUYER})
    assert response.status_code == 422
    assert "only when the buyer asked" in response.text
    assert _counts(app) == before


def test_cli_refuses_the_buyer_reason_without_a_buyer_request(app, runner, shop, walmart_order):
    """`orders cancel --reason CUSTOMER_REQUESTED_SELLER_TO_CANCEL` on an order the buyer did
    not ask to cancel exits non-zero with the explanation; nothing is created."""
    _order_id, po = walmart_order(shop)
    before = _counts(app)
    result = runner.invoke(args=["orders", "cancel", po, "--reason", BUYER])
    assert result.exit_code != 0 and "only when the buyer asked" in result.output
    assert _counts(app) == before


def test_buyer_reason_is_accepted_when_the_buyer_asked(app, signed_in, client, shop, walmart_order,
                                                       worker):
    """With the buyer's request imported, the form offers the customer-requested reason and
    cancelling with it reaches Walmart with that reason."""
    from webapp.services.orders.importer import import_store

    store_id, seller = shop
    order_id, po = walmart_order(shop)
    control.intent_to_cancel(seller.sim.conn, seller.seller_id, po)
    with app.app_context():
        import_store(store_id)
    signed_in("operator")
    assert f'value="{BUYER}"' in client.get(f"/orders/{order_id}/cancel").text
    response = client.post(f"/orders/{order_id}/cancel", data={
        "csrf_token": _csrf(client, f"/orders/{order_id}"), "reason": BUYER})
    assert response.status_code == 303
    worker()
    state = control.order_state(seller.sim.conn, seller.seller_id, po)
    assert {(s["status"], s["cancellationReason"]) for x in state["orderLines"]["orderLine"]
            for s in x["orderLineStatuses"]["orderLineStatus"]} == {("Cancelled", BUYER)}


def test_a_line_request_is_a_buyer_request(app, shop, walmart_order):
    """A buyer's request on one line (the order's own flag unset) allows the reason too."""
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.stock.cancelling import cancel_order

    order_id, _po = walmart_order(shop)
    with app.app_context():
        order = db.session.get(Order, order_id)
        order.lines[0].intent_to_cancel = True
        db.session.commit()
        cancellation = cancel_order(order_id, BUYER, by=None, actor="test")
        assert cancellation.reason == BUYER
