"""Home's refund deadlines list the returns that still wait for the seller's refund — never
one already refunded (by us, in Seller Center, or by Walmart itself)."""

from __future__ import annotations

import re

from sqlalchemy import select

from simulator import control
from simulator import returns as sim_returns
from tests.test_home import _tile


def _return_id(app, rma):
    from webapp.extensions import db
    from webapp.models import Return

    with app.app_context():
        return db.session.scalar(select(Return.id).where(Return.rma == rma))


def _deadlines(session, base) -> tuple[int, str]:
    """Home's Awaiting refund count, and its Refund deadlines card."""
    html = session.get(f"{base}/", timeout=30).text
    count = re.search(r'<span class="count">(\d+)</span> <span class="label">Awaiting refund',
                      html)
    card = re.search(r'<section class="card" aria-labelledby="refunds-title">.*?</section>',
                     html, re.S)
    return int(count.group(1)), card.group(0)


def _refund(session, base, return_id, quantity: str) -> int:
    page = session.get(f"{base}/returns/{return_id}", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    return session.post(f"{base}/returns/{return_id}/refund", allow_redirects=False,
                        data={"csrf_token": token, "form_token": form, "qty-1": quantity},
                        timeout=30).status_code


def test_a_refunded_return_leaves_homes_refund_deadlines(app, returned, worker, live_server,
                                                         make_user):
    """Over HTTP: listed while nothing is refunded, still listed after a partial refund, gone
    once the rest is refunded (on its way, then synced and imported again)."""
    from tests.conftest import http_session
    from webapp.services.returns.importer import import_returns

    store_id, _seller, _order_id, rma = returned
    return_id = _return_id(app, rma)
    session = http_session(live_server, make_user(role="operator").email)
    count, card = _deadlines(session, live_server)
    assert count == 1 and f"RMA {rma}" in card
    assert _refund(session, live_server, return_id, "1") == 303
    worker()
    count, card = _deadlines(session, live_server)
    assert count == 1 and f"RMA {rma}" in card  # one unit still waits
    assert _refund(session, live_server, return_id, "1") == 303
    count, card = _deadlines(session, live_server)
    assert count == 0 and rma not in card and "No return waits for a refund." in card
    worker()
    with app.app_context():
        import_returns(store_id)
    count, card = _deadlines(session, live_server)
    assert count == 0 and rma not in card


def test_a_refunded_return_leaves_the_deadlines_while_another_still_waits(
        app, returned, shop, walmart_order, worker, live_server, make_user):
    """With a second return still waiting, the card keeps listing (its count is not 0), and
    lists only that one: the refunded return is gone from it, not just hidden by a count of
    0."""
    from tests.conftest import http_session
    from tests.factories import make_shipment
    from webapp.services.returns.importer import import_returns

    store_id, seller, _order_id, rma = returned
    other_id, other_po = walmart_order(shop, [("FLT-H2O-3PK", 1)])
    with app.app_context():
        make_shipment(other_id)
    worker()
    control.deliver(seller.sim.conn, seller.seller_id, other_po)
    other = control.open_return(seller.sim.conn, seller.seller_id, other_po,
                                reason="DAMAGED")["rma"]
    with app.app_context():
        import_returns(store_id)
    session = http_session(live_server, make_user(role="operator").email)
    count, card = _deadlines(session, live_server)
    assert count == 2 and f"RMA {rma}" in card and f"RMA {other}" in card
    assert _refund(session, live_server, _return_id(app, rma), "2") == 303
    worker()
    with app.app_context():
        import_returns(store_id)
    count, card = _deadlines(session, live_server)
    assert count == 1 and f"RMA {other}" in card and f"RMA {rma}" not in card


def test_a_failed_refund_that_walmart_shows_done_leaves_home(app, returned, worker, live_server,
                                                            make_user):
    """Walmart refuses our refund: the return is listed with Error (it still waits). Then the
    units are refunded at Walmart (Walmart refunding the buyer itself): the next returns import
    sees it done there, settles the failed refund as a read-back would, and the return leaves
    Home's deadlines, reading Refunded."""
    from tests.conftest import http_session
    from webapp.extensions import db
    from webapp.models import Refund, Return, SyncTask
    from webapp.services.returns.importer import import_returns

    store_id, seller, _order_id, rma = returned
    return_id = _return_id(app, rma)
    session = http_session(live_server, make_user(role="operator").email)
    control.set_faults(seller.sim.conn, "return_refund", next={"reject": 1})
    assert _refund(session, live_server, return_id, "2") == 303
    worker()
    count, card = _deadlines(session, live_server)
    assert count == 1 and f"RMA {rma}" in card and "Error" in card
    link = _tile(session.get(f"{live_server}/", timeout=30).text, "Awaiting refund")[1]
    listed = session.get(f"{live_server}{link}", timeout=30).text
    assert f'id="return-{return_id}"' in listed  # the tile's link shows what it counts
    with app.app_context():
        import_returns(store_id)  # Walmart still shows nothing refunded: no change
    assert _deadlines(session, live_server)[0] == 1
    sim_returns.walmart_refunds(seller.sim.conn, seller.seller_id, rma)
    with app.app_context():
        import_returns(store_id)
    count, card = _deadlines(session, live_server)
    assert count == 0 and rma not in card
    listed = session.get(f"{live_server}{link}", timeout=30).text
    assert f'id="return-{return_id}"' not in listed  # refunded: no longer awaiting
    with app.app_context():
        assert db.session.get(Return, return_id).status == "Refunded"
        task = db.session.get(SyncTask, db.session.scalar(
            select(Refund.task_id).where(Refund.return_id == return_id)))
        assert task.state == "synced" and "Walmart already showed these units refunded" in \
            task.note
    failed = session.get(f"{live_server}/sync/?state=error", timeout=30).text
    assert rma not in failed
