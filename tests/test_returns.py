"""Returns: import from Walmart, the Returns page, full and partial refunds, stock back."""

from __future__ import annotations

import re

from sqlalchemy import select

from simulator import control


def _ret(app, rma):
    from webapp.extensions import db
    from webapp.models import Return

    with app.app_context():
        ret = db.session.scalar(select(Return).where(Return.rma == rma))
        return ret.id, ret.status, [(x.number, x.quantity, x.refunded_qty) for x in ret.lines]


def _order(app, order_id):
    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        order = db.session.get(Order, order_id)
        return order.status, order.status_details, order.open_return_id


def _walmart_refunds(seller, rma):
    return [r["body"] for r in seller.requests() if r["endpoint"] == "return_refund"
            and rma in r["path"] and r["status"] == 200]


def test_an_imported_return_is_linked_from_its_order(app, signed_in, client, returned):
    """After the returns import the order reads Return requested and links to the return."""
    _store_id, _seller, order_id, rma = returned
    return_id, status, lines = _ret(app, rma)
    assert status == "Received" and lines == [(1, 2, 0)]
    order_status, details, open_return = _order(app, order_id)
    assert order_status == "Return requested" and open_return == return_id
    signed_in("viewer")
    page = client.get(f"/orders/{order_id}").text
    assert f'href="/returns/{return_id}"' in page
    listing = client.get("/returns/").text
    assert rma in listing and "Damaged" not in listing  # the reason is on the return's page
    assert "Damaged" in client.get(f"/returns/{return_id}").text
    assert rma in client.get("/returns/", query_string={"q": rma}).text
    assert rma not in client.get("/returns/?status=refunded").text


def test_partial_then_full_refund_reach_walmart(app, signed_in, client, returned, worker):
    """Refund 1 of 2, then the last one: Walmart receives both with the right quantities; the
    return ends Refunded and the order Shipped with the refunded amount."""
    store_id, seller, order_id, rma = returned
    return_id, _, _ = _ret(app, rma)
    signed_in("operator")
    page = client.get(f"/returns/{return_id}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/returns/{return_id}/refund",
                       data={"csrf_token": token, "qty-1": "1"}).status_code == 303
    live = client.get(f"/returns/{return_id}?poll=1", headers={"HX-Request": "true"})
    assert live.status_code == 200 and "Sending to Walmart…" in live.text
    worker()
    assert client.get(f"/returns/{return_id}?poll=1",
                      headers={"HX-Request": "true"}).status_code == 286
    assert _ret(app, rma)[1] == "Received"
    assert client.post(f"/returns/{return_id}/refund",
                       data={"csrf_token": token, "qty-1": "1"}).status_code == 303
    worker()
    bodies = _walmart_refunds(seller, rma)
    assert len(bodies) == 2 and all('"measurementValue": 1' in b for b in bodies)
    assert _ret(app, rma)[1:] == ("Refunded", [(1, 2, 2)])
    status, details, open_return = _order(app, order_id)
    assert status == "Shipped" and "Refunded $" in details and open_return is None


def test_refunding_more_than_refundable_is_refused(app, signed_in, client, returned, worker):
    """A quantity above what can still be refunded gets a message; nothing is sent."""
    _store_id, seller, _order_id, rma = returned
    return_id, _, _ = _ret(app, rma)
    signed_in("operator")
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get(f"/returns/{return_id}").text).group(1)
    for value, message in (("3", "only 2 unit(s) can still be refunded"),
                           ("-1", "whole number"), ("0", "Refund at least one unit")):
        response = client.post(f"/returns/{return_id}/refund",
                               data={"csrf_token": token, "qty-1": value})
        assert response.status_code == 422 and message in response.text
    worker()
    assert _walmart_refunds(seller, rma) == [] and _ret(app, rma)[2] == [(1, 2, 0)]


def test_refund_with_return_to_stock_pushes_the_sku(app, returned, worker):
    """Units returned to stock go back on hand and the new available quantity is pushed."""
    from webapp.extensions import db
    from webapp.models import Return, SkuStock
    from webapp.services.returns.refunding import refund_return
    from webapp.services.stock.levels import set_on_hand

    store_id, seller, _order_id, rma = returned
    with app.app_context():
        ret = db.session.scalar(select(Return).where(Return.rma == rma))
        sku = ret.lines[0].sku
        set_on_hand(store_id, sku, 10, by=None)
        refund_return(ret.id, {1: 2}, {1}, by=None, actor="test")
        assert db.session.scalar(select(SkuStock.on_hand).where(SkuStock.sku == sku)) == 12
    worker()
    pushes = [r["body"] for r in seller.requests() if r["endpoint"] == "inventory"
              and sku in r["path"]]
    assert pushes and '"amount": ' in pushes[-1]


def test_walmart_refunding_itself_shows_refunded(app, returned):
    """When Walmart refunds on the seller's behalf, the next import shows Refunded."""
    from simulator import returns as sim_returns
    from webapp.services.returns.importer import import_returns

    store_id, seller, _order_id, rma = returned
    sim_returns.walmart_refunds(seller.sim.conn, seller.seller_id, rma)
    with app.app_context():
        import_returns(store_id)
    assert _ret(app, rma)[1] == "Refunded"


def test_a_rejected_refund_shows_error_and_retry_sends_it(app, signed_in, client, returned,
                                                          worker):
    """Walmart refuses the refund: the return shows Error with the message; Retry syncs it."""
    from webapp.extensions import db
    from webapp.models import Refund
    from webapp.services.returns.refunding import refund_return

    _store_id, seller, _order_id, rma = returned
    return_id, _, _ = _ret(app, rma)
    control.set_faults(seller.sim.conn, "return_refund", next={"reject": 1})
    with app.app_context():
        refund_return(return_id, {1: 2}, set(), by=None, actor="test")
    worker()
    assert _ret(app, rma)[1] == "Error"
    signed_in("operator")
    page = client.get(f"/returns/{return_id}").text
    assert "Simulated rejection" in page and ">Retry</button>" in page
    with app.app_context():
        task_id = db.session.scalars(select(Refund)).one().task_id
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(f"/sync/tasks/{task_id}/retry", data={"csrf_token": token})
    worker()
    assert _ret(app, rma)[1] == "Refunded" and len(_walmart_refunds(seller, rma)) == 1


def test_returns_cli(app, runner, returned, worker):
    """`returns list --json`, a refused refund, and `returns refund RMA --line 1:1`."""
    import json

    _store_id, seller, _order_id, rma = returned
    listed = json.loads(runner.invoke(args=["returns", "list", "--json"]).output)
    assert [r["rma"] for r in listed] == [rma] and listed[0]["status"] == "Received"
    too_many = runner.invoke(args=["returns", "refund", rma, "--line", "1:5"])
    assert too_many.exit_code != 0 and "can still be refunded" in too_many.output
    ok = runner.invoke(args=["returns", "refund", rma, "--line", "1:1"])
    assert ok.exit_code == 0, ok.output
    assert "Refund of $20.25" in ok.output  # price and tax, per line as the page shows them
    assert "line 1: 1 × $18.75 + tax $1.50 + shipping $0.00 = $20.25" in ok.output
    assert listed[0]["refund_amount"] == "40.50" and listed[0]["lines"][0]["tax"] == "3.00"
    worker()
    assert len(_walmart_refunds(seller, rma)) == 1
    assert runner.invoke(args=["returns", "import"]).exit_code == 0
