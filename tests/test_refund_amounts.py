"""What a refund gives back: price, tax and (where Walmart refunds it) shipping, per line,
before refunding and after; who refunded; the form after a refund; Back on hand for a SKU
whose stock is not tracked."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from sqlalchemy import select

from simulator import control
from simulator import returns as sim_returns
from tests.conftest import csrf_from

HTMX = {"HX-Request": "true"}


def _returned(app, shop, worker, pick, reason="DAMAGED", lines=None):
    """The first order `pick` accepts, shipped in full, delivered and returned at Walmart
    (`lines`: {line number: units}, default everything) for `reason`, returns imported.
    Returns (order_id, return_id, rma)."""
    from webapp.extensions import db
    from webapp.models import Order, Return
    from webapp.models.base import utcnow
    from webapp.services.returns.importer import import_returns
    from webapp.services.shipping.ship import PackageInput, ship_order

    store_id, seller = shop
    with app.app_context():
        order = next(o for o in db.session.scalars(select(Order).order_by(Order.id)).unique()
                     if pick(o) and not o.intent_to_cancel)
        order_id, po = order.id, order.purchase_order_id
        ship_order(order_id, [PackageInput("1Z999AA10123456784", "Standard",
                                           {x.line_number: x.quantity for x in order.lines},
                                           "UPS")], utcnow(), by=None, actor="test")
    worker()
    control.deliver(seller.sim.conn, seller.seller_id, po)
    rma = control.open_return(seller.sim.conn, seller.seller_id, po, lines=lines,
                              reason=reason, seed=3)["rma"]
    with app.app_context():
        import_returns(store_id)
        return order_id, db.session.scalar(select(Return.id).where(Return.rma == rma)), rma


def _two_units_with_shipping(order) -> bool:
    return len(order.lines) == 1 and order.lines[0].quantity == 2 and order.lines[0].shipping


def _refund(app, return_id, quantities, restock=(), by="test"):
    from webapp.services.returns.refunding import refund_return

    with app.app_context():
        return refund_return(return_id, quantities, set(restock), by=None, actor=by).amount


def _state(app, return_id):
    """(Walmart's refund amount, the refunds' amounts, status details, the order's details)."""
    from webapp.extensions import db
    from webapp.models import Refund, Return

    with app.app_context():
        ret = db.session.get(Return, return_id)
        amounts = db.session.scalars(select(Refund.amount).where(Refund.return_id == ret.id)
                                     .order_by(Refund.id)).all()
        return (ret.total_refund_amount, amounts, ret.status_details,
                ret.lines[0].order.status_details)


def test_refunds_give_back_price_and_tax_adding_up_to_walmarts_refund_amount(
        app, returned, worker):
    """The return's Refund amount ($40.50: 2 × ($18.75 + $1.50 tax)) is what its refunds add
    up to, one unit at a time; the return and the order say Refunded $40.50 (it said $37.50:
    the tax was left out)."""
    from webapp.extensions import db
    from webapp.models import Return

    _store_id, _seller, _order_id, rma = returned
    with app.app_context():
        return_id = db.session.scalar(select(Return.id).where(Return.rma == rma))
    assert _refund(app, return_id, {1: 1}) == Decimal("20.25")
    worker()
    assert _refund(app, return_id, {1: 1}) == Decimal("20.25")
    worker()
    total, amounts, details, order_details = _state(app, return_id)
    assert total == Decimal("40.50") == sum(amounts)
    assert "Refunded $40.50" in details and "Refunded $40.50" in order_details


def test_walmart_refunds_shipping_for_a_damaged_item_in_shares_that_add_up(
        app, shop, worker):
    """A damaged item: Walmart's return line carries the $5.99 shipping charge
    (chargeTotals), and two one-unit refunds get $3.00 and $2.99 of it."""
    from webapp.extensions import db
    from webapp.models import Refund, ReturnLine

    _order_id, return_id, _rma = _returned(app, shop, worker, _two_units_with_shipping)
    with app.app_context():
        line = db.session.scalar(select(ReturnLine).where(ReturnLine.return_id == return_id))
        price, tax = line.unit_price, line.tax_total
        assert line.shipping_total == Decimal("5.99")
        assert line.line_total == 2 * price + tax + Decimal("5.99")
    _refund(app, return_id, {1: 1})
    worker()
    _refund(app, return_id, {1: 1})
    worker()
    with app.app_context():
        refunds = db.session.scalars(select(Refund).order_by(Refund.id)).all()
        shipping = [r.amounts["1"]["shipping"] for r in refunds]
        assert shipping == ["3.00", "2.99"]
        assert sum(r.amount for r in refunds) == 2 * price + tax + Decimal("5.99")
    total, amounts, _details, _order = _state(app, return_id)
    assert total == sum(amounts)


def test_a_change_of_mind_gets_no_shipping_back(app, shop, worker):
    """No longer wanted: Walmart keeps the shipping charge; the refund is price and tax."""
    from webapp.extensions import db
    from webapp.models import ReturnLine

    _order_id, return_id, _rma = _returned(app, shop, worker, _two_units_with_shipping,
                                           reason="NO_LONGER_WANTED")
    with app.app_context():
        line = db.session.scalar(select(ReturnLine).where(ReturnLine.return_id == return_id))
        assert line.shipping_total == 0 and line.line_total == 2 * line.unit_price + \
            line.tax_total
    total, _amounts, _details, _order = _state(app, return_id)
    assert _refund(app, return_id, {1: 2}) == total


def test_walmarts_return_charges_parse_from_totals_or_per_unit_charges():
    """chargeTotals give the line's tax, shipping and total (Walmart's own example); a line
    with per-unit `charges` only gets them times its quantity; one with neither, None."""
    from pathlib import Path

    from webapp.walmart import schema_returns

    example = json.loads((Path(__file__).parent / "contract" / "examples" /
                          "getReturns-response-example.json").read_text())
    line = schema_returns.parse_return_list(example).returns[0].lines[0]
    assert (line.tax_total, line.shipping_total, line.line_total) == (
        Decimal("7.5"), Decimal("0"), Decimal("127.45"))
    raw = example["returnOrders"][0]["returnOrderLines"][0]
    per_unit = {**raw, "chargeTotals": [], "charges": [
        *raw["charges"], {"chargeCategory": "SHIPPING", "chargeName": "Shipping",
                          "chargePerUnit": {"currencyAmount": 2.5, "currencyUnit": "USD"},
                          "tax": [{"taxPerUnit": {"currencyAmount": 0.2}}]}]}
    parsed = schema_returns._return_line(per_unit, "line")
    assert (parsed.tax_total, parsed.shipping_total, parsed.line_total) == (
        Decimal("23.1"), Decimal("7.5"), Decimal("390.45"))  # 3 × (119.95 + 7.7 + 2.5)
    bare = schema_returns._return_line({**raw, "chargeTotals": [], "charges": []}, "line")
    assert bare.line_total is None


def test_refunds_made_outside_orderdeck_show_who_made_them(app, signed_in, client,
                                                            returned, worker):
    """A unit refunded in Seller Center and the other by Walmart itself: the import records
    each as a refund with its figures, by "Seller Center" and by "Walmart"; the lines say
    who refunded them (they said "—", or Walmart's code)."""
    from webapp.extensions import db
    from webapp.models import Refund, Return
    from webapp.services.returns.importer import import_returns

    store_id, seller, _order_id, rma = returned
    with app.app_context():
        ret = db.session.scalar(select(Return).where(Return.rma == rma))
        return_id, customer_order = ret.id, ret.customer_order_id
    sim_returns.refund(seller.sim.conn, seller.seller_id, rma, {  # in Seller Center
        "customerOrderId": customer_order, "refundLines": [
            {"returnOrderLineNumber": 1, "quantity": {"unitOfMeasure": "EA",
                                                      "measurementValue": 1}}]})
    with app.app_context():
        import_returns(store_id)
    sim_returns.walmart_refunds(seller.sim.conn, seller.seller_id, rma)
    with app.app_context():
        import_returns(store_id)
        import_returns(store_id)  # seen again: nothing new
        refunds = db.session.scalars(select(Refund).order_by(Refund.id)).all()
        assert [(r.created_by, r.lines, r.amount, r.task_id) for r in refunds] == [
            ("Seller Center", {"1": 1}, Decimal("20.25"), None),
            ("Walmart", {"1": 1}, Decimal("20.25"), None)]
    total, _amounts, details, _order = _state(app, return_id)
    assert "Refunded $40.50" in details and total == Decimal("40.50")
    signed_in("viewer")
    page = client.get(f"/returns/{return_id}").text
    assert "<td>Seller Center, Walmart</td>" in page
    assert "Refunded in Seller Center" in page and "Refunded by Walmart" in page


def test_the_form_shows_what_each_line_refunds_and_the_refund_the_same(
        app, signed_in, client, shop, worker):
    """Before: per line the units, unit price, tax, shipping and line total of what is typed
    (the whole return at first); after: the refund shows the same figures, by whom."""
    _order_id, return_id, _rma = _returned(app, shop, worker, _two_units_with_shipping)
    email = signed_in("operator")
    page = client.get(f"/returns/{return_id}").text
    preview = page[page.index('id="refund-preview"'):]
    cells = re.findall(r'<td class="num">([^<]+)</td>', preview)
    assert cells[:1] == ["2"] and "$5.99" in cells and "Total to refund" in preview
    one = client.get(f"/returns/{return_id}/preview?qty-1=1", headers=HTMX)
    figures = re.findall(r'<td class="num">([^<]+)</td>', one.text)
    assert one.status_code == 200 and figures[0] == "1" and figures[3] == "$3.00"
    too_many = client.get(f"/returns/{return_id}/preview?qty-1=7", headers=HTMX).text
    assert "only 2 unit(s) can still be refunded" in too_many
    form = {"csrf_token": csrf_from(page), "qty-1": "1",
            "form_token": re.search(r'name="form_token" value="([^"]+)"', page).group(1)}
    assert client.post(f"/returns/{return_id}/refund", data=form).status_code == 303
    worker()
    after = client.get(f"/returns/{return_id}").text
    history = after[after.index('class="table refunds"'):]
    assert re.findall(r'<td class="num">([^<]+)</td>', history)[:5] == figures[:5]
    assert f'<td rowspan="1">{email}</td>' in history  # the refund's By
    assert f"<td>{email}</td></tr>" in after  # the line's Refunded by (it said "—")


def test_after_a_refund_the_form_starts_afresh_and_waits_for_walmart(
        app, signed_in, client, shop, worker):
    """Refund line 1 of a three-line return (0 typed for the others): the answer's form
    has a new token, is closed while the refund is on its way (a second click would refund
    again), and opens with what is still refundable once Walmart has it — not the 0s typed."""
    _order_id, return_id, _rma = _returned(
        app, shop, worker, lambda o: len(o.lines) == 3 and o.lines[0].quantity == 2)
    signed_in("operator")
    page = client.get(f"/returns/{return_id}").text
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    form = {"csrf_token": csrf_from(page), "form_token": token, "qty-1": "2", "qty-2": "0",
            "qty-3": "0"}
    answer = client.post(f"/returns/{return_id}/refund", data=form, headers=HTMX)
    assert answer.status_code == 200 and "Refund of $" in answer.headers["HX-Trigger"]
    assert '<fieldset class="plain" disabled>' in answer.text
    assert f'value="{token}"' not in answer.text and 'id="qty-1"' not in answer.text
    fresh = [("2", "1"), ("3", "1")]  # what is still refundable, not the 0s typed
    assert re.findall(r'name="qty-(\d)" value="(\d+)"', answer.text) == fresh
    worker()
    settled = client.get(f"/returns/{return_id}?poll=1", headers=HTMX)
    assert settled.status_code == 286 and 'id="refund-form" hx-swap-oob="true"' in settled.text
    assert '<fieldset class="plain">' in settled.text
    assert re.findall(r'name="qty-(\d)" value="(\d+)"', settled.text) == fresh


def test_back_on_hand_for_an_untracked_sku_is_refused_and_tracking_starts_from_the_return(
        app, signed_in, client, returned, worker):
    """The SKU's stock is not tracked: the form says so and offers Start tracking instead of
    Back on hand; a refund asking for it anyway is refused, changing nothing (it used to
    refund and put nothing back). Tracking started there, the units go back on hand."""
    from webapp.extensions import db
    from webapp.models import Refund, Return, SkuStock

    _store_id, _seller, _order_id, rma = returned
    with app.app_context():
        ret = db.session.scalar(select(Return).where(Return.rma == rma))
        return_id, sku = ret.id, ret.lines[0].sku
    signed_in("operator")
    page = client.get(f"/returns/{return_id}").text
    assert "Not tracked" in page and "Start tracking this SKU" in page
    assert 'name="restock-1"' not in page
    form = {"csrf_token": csrf_from(page), "qty-1": "1", "restock-1": "y"}
    refused = client.post(f"/returns/{return_id}/refund", data=form)
    assert refused.status_code == 422 and "does not track this SKU" in refused.text
    with app.app_context():
        assert db.session.scalars(select(Refund)).all() == []
    bad = client.post(f"/returns/{return_id}/track",
                      data={"csrf_token": csrf_from(page), "line": "1", "on_hand": "-3"})
    assert bad.status_code == 422 and "whole number" in bad.text
    started = client.post(f"/returns/{return_id}/track", headers=HTMX,
                          data={"csrf_token": csrf_from(page), "line": "1", "on_hand": "5"})
    assert started.status_code == 200 and "tracked now" in started.headers["HX-Trigger"]
    assert 'name="restock-1"' in started.text
    again = client.post(f"/returns/{return_id}/track",
                        data={"csrf_token": csrf_from(page), "line": "1", "on_hand": "9"})
    assert again.status_code == 422 and "tracked already" in again.text
    assert client.post(f"/returns/{return_id}/refund", data=form).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(SkuStock.on_hand).where(SkuStock.sku == sku)) == 6
