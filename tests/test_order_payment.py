"""Payment information as Channel Manager's order view has it: subtotal, shipping, tax, total,
and what was canceled and refunded — from Walmart's charges, as Decimal."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from simulator import control
from simulator import orders as sim_orders
from simulator import returns as sim_returns

CENT = Decimal("0.01")


def _d(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _payment(page: str) -> dict[str, str]:
    """The Payment information card's rows: {label: the amount's text}."""
    card = re.search(r'<section class="card" id="payment">(.*?)</section>', page, re.S)
    assert card, "no Payment information on the page"
    rows = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", card.group(1), re.S)
    return {dt: html.unescape(re.sub(r"<[^>]+>", "", dd)).strip() for dt, dd in rows}


def _amount(text: str) -> Decimal:
    """The first amount in a row's text: "$1,234.50 (3 unit(s))" → 1234.50."""
    return Decimal(re.search(r"\$([\d,]+\.\d\d)", text).group(1).replace(",", ""))


def _walmart_lines(seller, po: str) -> list[dict]:
    """The order's lines as the simulator keeps them (unit price, unit tax, line shipping)."""
    return sim_orders.load(seller.sim.conn, seller.seller_id, po)["lines"]


def _pick(app, test) -> tuple[int, str]:
    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        for order in db.session.scalars(select(Order).order_by(Order.id)).unique():
            if not order.intent_to_cancel and test(order):
                return order.id, order.purchase_order_id
    raise AssertionError("no such order in the seed")


def test_payment_information_shows_subtotal_shipping_tax_and_total(app, signed_in, client,
                                                                    shop):
    """An order of several lines with a shipping fee: Subtotal, Shipping, Tax and Order total
    are Walmart's charges; nothing canceled or refunded yet."""
    _store_id, seller = shop
    order_id, po = _pick(app, lambda o: len(o.lines) >= 2 and any(x.shipping for x in o.lines))
    lines = _walmart_lines(seller, po)
    subtotal = sum(_d(x["unitPrice"]) * x["qty"] for x in lines)
    tax = sum(_d(x["tax"]) * x["qty"] for x in lines)
    shipping = sum(_d(x["shipping"]) for x in lines)
    assert shipping and tax
    signed_in("viewer")
    rows = _payment(client.get(f"/orders/{order_id}").text)
    assert _amount(rows["Subtotal"]) == subtotal
    assert _amount(rows["Shipping"]) == shipping
    assert _amount(rows["Tax"]) == tax
    assert _amount(rows["Order total"]) == subtotal + shipping + tax
    assert _amount(rows["Canceled"]) == 0 and _amount(rows["Refunded"]) == 0
    assert "Net total" not in rows and "Cancellation reason" not in rows


def test_canceled_amount_is_the_canceled_units_charges(app, signed_in, client, shop, worker):
    """Ship 1 of 3 units and cancel the rest: Canceled is 2 × (price + tax), the line's
    shipping still charged; a whole order canceled cancels its shipping too (net 0). The reason
    reads in words."""
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.models.base import utcnow
    from webapp.services.orders.money import payment
    from webapp.services.shipping.ship import PackageInput, ship_order
    from webapp.services.stock.cancelling import cancel_order

    _store_id, seller = shop
    partly, po = _pick(app, lambda o: len(o.lines) == 1 and o.lines[0].quantity == 3)
    whole, _po = _pick(app, lambda o: any(x.shipping for x in o.lines) and o.id != partly)
    with app.app_context():
        ship_order(partly, [PackageInput("1Z999AA10123456784", "Standard", {"1": 1}, "UPS")],
                   utcnow(), by=None, actor="test")
        cancel_order(partly, "SELLER_CANCEL_OUT_OF_STOCK", by=None, actor="test")
        cancel_order(whole, "SELLER_CANCEL_PRICING_ERROR", by=None, actor="test")
    worker()
    [line] = _walmart_lines(seller, po)
    signed_in("viewer")
    rows = _payment(client.get(f"/orders/{partly}").text)
    assert _amount(rows["Canceled"]) == 2 * (_d(line["unitPrice"]) + _d(line["tax"]))
    assert "2 unit(s)" in rows["Canceled"]
    assert rows["Cancellation reason"] == "Out of stock"
    assert _amount(rows["Net total"]) == _amount(rows["Order total"]) - _amount(rows["Canceled"])
    rows = _payment(client.get(f"/orders/{whole}").text)
    assert _amount(rows["Canceled"]) == _amount(rows["Order total"]) > 0
    assert _amount(rows["Net total"]) == 0 and rows["Cancellation reason"] == "Pricing error"
    with app.app_context():  # the service's figures are Decimal, to the cent
        money = payment(db.session.get(Order, whole))
        assert isinstance(money.canceled, Decimal) and money.canceled == money.total


def test_cli_shows_the_payment_information(app, runner, shop):
    """`orders show` prints the same figures as the page; --json gives them as exact text."""
    import json

    from webapp.services.stock.cancelling import cancel_order

    _store_id, seller = shop
    order_id, po = _pick(app, lambda o: len(o.lines) == 1 and o.lines[0].quantity == 3)
    with app.app_context():
        cancel_order(order_id, "SELLER_CANCEL_OUT_OF_STOCK", by=None, actor="test")
    [line] = _walmart_lines(seller, po)
    total = 3 * (_d(line["unitPrice"]) + _d(line["tax"])) + _d(line["shipping"])
    shown = runner.invoke(args=["orders", "show", po])
    assert shown.exit_code == 0
    assert f"total ${total:,.2f}, canceled ${total:,.2f}, refunded $0.00, net $0.00" in \
        shown.output
    data = json.loads(runner.invoke(args=["orders", "show", po, "--json"]).output)
    assert Decimal(data["payment"]["canceled"]) == total and data["payment"]["net"] == "0.00"


def test_a_line_first_read_partly_cancelled_keeps_its_unit_price(app, walmart_store):
    """Walmart charges only the units it has not cancelled: a line imported with 1 of 3 already
    cancelled still has its real unit price and tax, and its canceled amount is one unit's."""
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.orders.importer import import_store
    from webapp.services.orders.money import payment

    store_id, seller = walmart_store(orders=40, seed=32)
    doc = next(d for d in (sim_orders.load(seller.sim.conn, seller.seller_id, r["po"]) for r in
                           seller.sim.conn.execute("SELECT po FROM orders WHERE seller_id = ?",
                                                   (seller.seller_id,)))
               if len(d["lines"]) == 1 and d["lines"][0]["qty"] == 3)

    def cancel_one(order, now):
        line = order["lines"][0]
        line["created"] -= 1
        line["cancellations"].append({"qty": 1, "reason": "SELLER_CANCEL_OUT_OF_STOCK"})
    control.update_order(seller.sim.conn, seller.seller_id, doc["purchaseOrderId"], cancel_one)
    with app.app_context():
        import_store(store_id)
        order = db.session.scalar(select(Order).where(
            Order.purchase_order_id == doc["purchaseOrderId"]))
        line = order.lines[0]
        unit = doc["lines"][0]
        assert (line.unit_price, line.tax) == (_d(unit["unitPrice"]), 3 * _d(unit["tax"]))
        assert line.canceled_qty == 1
        assert payment(order).canceled == _d(unit["unitPrice"]) + _d(unit["tax"])


@pytest.fixture
def return_id(app, returned):
    from webapp.extensions import db
    from webapp.models import Return

    _store_id, _seller, _order_id, rma = returned
    with app.app_context():
        return db.session.scalar(select(Return.id).where(Return.rma == rma))


def test_refunded_amount_is_the_refunds_recorded(app, signed_in, client, returned, return_id,
                                                 worker):
    """A refund on its way counts (and says so); once synced it reads plainly; the unit Walmart
    then refunds itself is added at its price and tax."""
    from webapp.extensions import db
    from webapp.models import Order, Refund
    from webapp.services.returns.importer import import_returns
    from webapp.services.returns.refunding import refund_return

    store_id, seller, order_id, rma = returned
    with app.app_context():
        refund_return(return_id, {1: 1}, set(), by=None, actor="test")
        amount = db.session.scalars(select(Refund)).one().amount
        po = db.session.get(Order, order_id).purchase_order_id
    assert amount > 0
    signed_in("viewer")
    rows = _payment(client.get(f"/orders/{order_id}").text)
    assert _amount(rows["Refunded"]) == amount and "on its way to Walmart" in rows["Refunded"]
    worker()
    rows = _payment(client.get(f"/orders/{order_id}").text)
    assert _amount(rows["Refunded"]) == amount and "on its way" not in rows["Refunded"]
    assert _amount(rows["Net total"]) == _amount(rows["Order total"]) - amount
    sim_returns.walmart_refunds(seller.sim.conn, seller.seller_id, rma)
    with app.app_context():
        import_returns(store_id)
    [line] = _walmart_lines(seller, po)
    rows = _payment(client.get(f"/orders/{order_id}").text)
    assert _amount(rows["Refunded"]) == amount + _d(line["unitPrice"]) + _d(line["tax"])
    with app.app_context():  # Status details' "Refunded $…" is the same figure
        from webapp.services.returns.refund_amounts import for_order
        assert for_order(order_id) == _amount(rows["Refunded"])


def test_a_refund_walmart_refused_is_not_counted(app, signed_in, client, returned, return_id,
                                                 worker):
    """A refund Walmart rejected refunded nothing: Refunded stays $0.00 until a retry syncs."""
    from webapp.extensions import db
    from webapp.models import Refund
    from webapp.services.returns.refunding import refund_return
    from webapp.services.sync.actions import retry_task

    _store_id, seller, order_id, _rma = returned
    control.set_faults(seller.sim.conn, "return_refund", next={"reject": 1})
    with app.app_context():
        refund_return(return_id, {1: 2}, set(), by=None, actor="test")
    worker()
    signed_in("viewer")
    assert _amount(_payment(client.get(f"/orders/{order_id}").text)["Refunded"]) == 0
    with app.app_context():
        refund = db.session.scalars(select(Refund)).one()
        retry_task(refund.task_id, by=None)
        amount = refund.amount
    worker()
    assert _amount(_payment(client.get(f"/orders/{order_id}").text)["Refunded"]) == amount > 0
