"""After "Fixed in Seller Center", the next import checks Walmart: where Walmart shows
otherwise, the order says so (what we expected, what Walmart shows, what to do), the Orders
page tags and filters it, Home counts it; an import that finds them agreeing clears it."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from simulator import control
from tests.conftest import http_session

TRACKING = "1Z999AA10123456784"


def _failed(app, order_id, kind):
    from webapp.extensions import db
    from webapp.models import SyncTask

    with app.app_context():
        task = db.session.scalar(select(SyncTask).where(SyncTask.order_id == order_id,
                                                        SyncTask.kind == kind))
        assert task.state == "error"
        return task.id


def _resolve(session, base, task_id, note):
    page = session.get(f"{base}/sync/?state=error", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = session.post(f"{base}/sync/tasks/{task_id}/resolve", allow_redirects=False,
                          data={"csrf_token": token, "note": note}, timeout=30)
    assert answer.status_code == 303


def _import(app, store_id):
    from webapp.services.orders.importer import import_store

    with app.app_context():
        assert import_store(store_id).ok


def _home(session, base) -> tuple[int, str]:
    html = session.get(f"{base}/", timeout=30).text
    found = re.search(r'<a href="([^"]+)"><span class="count">(\d+)</span> '
                      r'<span class="label">Walmart disagrees</span></a>', html)
    assert found, "no Walmart disagrees to-do on Home"
    return int(found.group(2)), found.group(1).replace("&amp;", "&")


def _listed(session, base, url) -> list[int]:
    return [int(x) for x in re.findall(r'<tr id="order-(\d+)"',
                                       session.get(f"{base}{url}", timeout=30).text)]


def _open(app, order_id):
    from webapp.extensions import db
    from webapp.models import Order, WalmartDifference

    with app.app_context():
        rows = db.session.scalars(select(WalmartDifference).where(
            WalmartDifference.order_id == order_id,
            WalmartDifference.resolved_at.is_(None))).all()
        order = db.session.get(Order, order_id)
        return ([(d.kind, d.ours, d.walmart) for d in rows], order.walmart_disagrees,
                order.updated_at)


def test_a_shipment_fixed_in_seller_center_that_walmart_does_not_show(app, shop, walmart_order,
                                                                      worker,
                                                                      live_server, make_user):
    """Walmart refuses a shipment; a person closes it as fixed in Seller Center but did not
    ship there. Until an import reads the order nothing is said; then the order, the Orders
    page and Home say Walmart disagrees. Once it is shipped in Seller Center, the next import
    clears it everywhere."""
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order

    store_id, seller = shop
    order_id, po = walmart_order(shop, (2,))
    control.set_faults(seller.sim.conn, "shipping", next={"reject": 1})
    with app.app_context():
        ship_order(order_id, [PackageInput(TRACKING, "Standard", {"1": 2}, "UPS")], utcnow(),
                   by=None, actor="test")
    worker()
    session = http_session(live_server, make_user(role="operator").email)
    _resolve(session, live_server, _failed(app, order_id, "ship"), "shipped it by hand")
    page = session.get(f"{live_server}/orders/{order_id}", timeout=30).text
    assert "Walmart disagrees" not in page  # not read from Walmart since: nothing to say
    assert _home(session, live_server)[0] == 0

    _import(app, store_id)
    found, flagged, _ = _open(app, order_id)
    assert found == [("ship", f"2 units shipped (tracking {TRACKING})", "2 Acknowledged")]
    assert flagged
    page = session.get(f"{live_server}/orders/{order_id}", timeout=30).text
    card = re.search(r'<section class="card notice" id="walmart-disagrees".*?</section>', page,
                     re.S).group(0)
    for words in ("Fixed in Seller Center", "shipped it by hand", "What Orderdeck expected",
                  "What Walmart shows", f"2 units shipped (tracking {TRACKING})",
                  "2 Acknowledged", "What to do:", "Ship these units in Seller Center"):
        assert words in card, words
    count, url = _home(session, live_server)
    assert count == 1 and url == "/orders/?needs=walmart-disagrees"
    assert _listed(session, live_server, url) == [order_id]
    listing = session.get(f"{live_server}/orders/", timeout=30).text
    row = re.search(rf'<tr id="order-{order_id}".*?</tr>', listing, re.S).group(0)
    assert '<span class="tag bad">Walmart disagrees</span>' in row

    stamp = _open(app, order_id)[2]
    _import(app, store_id)  # the same disagreement read again: one finding, nothing moves
    assert _open(app, order_id) == (found, True, stamp)

    control.seller_center_ship(seller.sim.conn, seller.seller_id, po, "1ZBYHAND0001",
                               lines={"1": 2})
    _import(app, store_id)
    assert _open(app, order_id)[:2] == ([], False)
    assert "Walmart disagrees" not in session.get(f"{live_server}/orders/{order_id}",
                                                  timeout=30).text
    assert _home(session, live_server)[0] == 0
    assert _listed(session, live_server, "/orders/?needs=walmart-disagrees") == []


def test_a_cancellation_fixed_in_seller_center_that_walmart_does_not_show(app, shop, walmart_order,
                                                                          worker,
                                                                          live_server,
                                                                          make_user):
    """A refused cancellation closed as fixed by hand, while Walmart still has the units to
    ship: the order says so with what to do; cancelled at Walmart later, it clears."""
    from webapp.services.stock.cancelling import cancel_order

    store_id, seller = shop
    order_id, po = walmart_order(shop, (2,))
    control.set_faults(seller.sim.conn, "cancel", next={"reject": 1})
    with app.app_context():
        cancel_order(order_id, "SELLER_CANCEL_OUT_OF_STOCK", by=None, actor="test")
    worker()
    session = http_session(live_server, make_user(role="operator").email)
    _resolve(session, live_server, _failed(app, order_id, "cancel"), "cancelled by hand")
    _import(app, store_id)
    assert _open(app, order_id)[:2] == ([("cancel", "2 units canceled", "2 Acknowledged")],
                                        True)
    page = session.get(f"{live_server}/orders/{order_id}", timeout=30).text
    assert "Cancel these units in Seller Center" in page and "2 units canceled" in page
    assert _home(session, live_server)[0] == 1

    assert control.seller_center_cancel(seller.sim.conn, seller.seller_id, po) == 2
    _import(app, store_id)
    assert _open(app, order_id)[:2] == ([], False)
    assert _home(session, live_server)[0] == 0


def test_a_fix_walmart_shows_is_never_flagged(app, shop, walmart_order, worker, live_server,
                                              make_user):
    """Shipped in Seller Center (with another tracking number) and then closed as fixed:
    the import finds Walmart agreeing, and nothing is flagged."""
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order

    store_id, seller = shop
    order_id, po = walmart_order(shop, (2,))
    control.set_faults(seller.sim.conn, "shipping", next={"reject": 1})
    with app.app_context():
        ship_order(order_id, [PackageInput(TRACKING, "Standard", {"1": 2}, "UPS")], utcnow(),
                   by=None, actor="test")
    worker()
    control.seller_center_ship(seller.sim.conn, seller.seller_id, po, "1ZOTHER00002",
                               lines={"1": 2})
    session = http_session(live_server, make_user(role="operator").email)
    _resolve(session, live_server, _failed(app, order_id, "ship"), "shipped it by hand")
    _import(app, store_id)
    assert _open(app, order_id)[:2] == ([], False)
    assert _home(session, live_server)[0] == 0


def test_walmart_read_before_the_fix_is_not_judged(app, shop, walmart_order, worker, make_user):
    """An order read from Walmart before the fix was recorded (an import already under way)
    is not held against it: only a read after it counts."""
    from webapp.extensions import db
    from webapp.models import Store, SyncTask
    from webapp.models.base import utcnow
    from webapp.services.orders import storing as order_import
    from webapp.services.stock.cancelling import cancel_order
    from webapp.services.stores.walmart_access import client_for
    from webapp.services.sync.actions import resolve_task

    store_id, seller = shop
    order_id, po = walmart_order(shop, (2,))
    control.set_faults(seller.sim.conn, "cancel", next={"reject": 1})
    with app.app_context():
        cancel_order(order_id, "SELLER_CANCEL_OUT_OF_STOCK", by=None, actor="test")
    worker()
    with app.app_context():
        resolve_task(_failed(app, order_id, "cancel"), "cancelled by hand", by=None)
        resolved_at = db.session.scalar(select(SyncTask.resolved_at).where(
            SyncTask.order_id == order_id, SyncTask.kind == "cancel"))
        store = db.session.get(Store, store_id)
        data = client_for(store).get_order(po)
        order_import.upsert(store, data, read_at=resolved_at - timedelta(seconds=1))
        db.session.commit()
    assert _open(app, order_id)[:2] == ([], False)
    with app.app_context():
        store = db.session.get(Store, store_id)
        order_import.upsert(store, client_for(store).get_order(po), read_at=utcnow())
        db.session.commit()
    assert _open(app, order_id)[0] == [("cancel", "2 units canceled", "2 Acknowledged")]
