"""Reconciliation: each kind of difference between Orderdeck and Walmart found and explained
in words, closed when they agree again; Adopt Walmart's state and Send ours again (refused for
read-only stores and viewers); faults at Walmart during the reads (5xx, 429, timeouts) are
recorded and read again, never a crash, never a false difference; the CLI's exit codes and
JSON; the job spreading its reads under its own bucket."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from simulator import control

TRACKING = "1Z999AA10123456784"


@pytest.fixture
def app_settings(app_settings):
    app_settings.update(RECONCILE_RETRY_SECONDS=0, RECONCILE_SLICE_SECONDS=30)
    return app_settings


@pytest.fixture
def store(walmart_store):
    return walmart_store()


def _reconcile(app, store_id, days=None):
    from webapp.extensions import db
    from webapp.services.reconcile import run

    with app.app_context():
        found, new = run.start(store_id, "cli", days)
        db.session.commit()
        assert new
        done = run.run_now(found.id, sleep=lambda s: None)
        return {k: getattr(done, k) for k in ("checked", "skipped", "reads", "failed_reads",
                                              "unread", "phase", "error", "found")}


def _open(app, store_id=None):
    from webapp.extensions import db
    from webapp.models import WalmartDifference

    with app.app_context():
        query = select(WalmartDifference).where(WalmartDifference.resolved_at.is_(None),
                                                WalmartDifference.source == "reconcile")
        if store_id:
            query = query.where(WalmartDifference.store_id == store_id)
        rows = db.session.scalars(query.order_by(WalmartDifference.id)).all()
        return [{"id": d.id, "kind": d.kind, "order_id": d.order_id, "ours": d.ours,
                 "walmart": d.walmart, "detail": d.detail, "sku": d.sku} for d in rows]


def _kinds(app, store_id=None):
    return sorted((d["kind"], d["order_id"]) for d in _open(app, store_id))


def _shipped_order(app, store, walmart_order, worker, quantities=(2,)):
    from tests.factories import make_shipment

    order_id, po = walmart_order(store, quantities)
    with app.app_context():
        make_shipment(order_id, tracking=TRACKING)
    worker()
    return order_id, po


def _retrack(sim, seller, po, number):
    """Seller Center changes the tracking number, and no search shows it (quiet)."""
    def change(order, _now):
        for line in order["lines"]:
            for shipment in line["shipments"]:
                shipment["tracking"]["trackingNumber"] = number
    control.update_order(sim.conn, seller.seller_id, po, change, quiet=True)


def test_agreeing_orders_make_no_difference(app, store, walmart_order, worker):
    order_id, _po = _shipped_order(app, store, walmart_order, worker)
    walmart_order(store, (1, 2))  # open, acknowledged
    result = _reconcile(app, store[0])
    assert result["phase"] == "done" and result["checked"] == 2
    assert result["reads"] >= 3  # two orders and the returns search
    assert _open(app) == []


def test_each_kind_is_found_explained_and_flags_the_order(app, store, walmart_order, worker,
                                                          sim):
    from tests.factories import make_walmart_return
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.reconcile import findings
    from webapp.services.returns.importer import import_returns
    from webapp.services.stock.levels import set_on_hand

    store_id, seller = store
    # Every order imported first (an import reads the newest orders again, as it should).
    canceled_id, canceled_po = walmart_order(store, (2,))
    ack_id, ack_po = walmart_order(store, (1,))
    ack2_id, ack2_po = walmart_order(store, (1,))
    shipped_id, shipped_po = walmart_order(store, (1,))
    lost_id, lost_po = _shipped_order(app, store, walmart_order, worker, (1,))
    tracked_id, tracked_po = _shipped_order(app, store, walmart_order, worker, (1,))
    refunded_id, refunded_po = _shipped_order(app, store, walmart_order, worker, (2,))
    rma = make_walmart_return(seller, refunded_po)
    with app.app_context():
        import_returns(store_id)
        sku = db.session.get(Order, ack_id).lines[0].sku
        set_on_hand(store_id, sku, 7, by=None)
    worker()
    # Then, behind Orderdeck's back (no search shows these):
    control.seller_center_cancel(sim.conn, seller.seller_id, canceled_po, quiet=True)
    control.seller_center_ship(sim.conn, seller.seller_id, shipped_po, "1ZSELLERCENTER1",
                               quiet=True)
    control.lose_update(sim.conn, seller.seller_id, lost_po)
    _retrack(sim, seller, tracked_po, "1ZOTHERNUMBER9")
    control.seller_center_refund(sim.conn, seller.seller_id, rma)
    control.seller_center_stock(sim.conn, seller.seller_id, sku, 3)
    with app.app_context():  # an acknowledgement by another tool never recorded here
        order = db.session.get(Order, ack2_id)
        order.lines[0].acknowledged = False
        db.session.commit()

    result = _reconcile(app, store_id)
    assert result["phase"] == "done" and result["failed_reads"] == 0
    kinds = _kinds(app, store_id)
    assert ("canceled", canceled_id) in kinds
    assert ("shipped", shipped_id) in kinds
    assert ("shipped", lost_id) in kinds and ("acknowledged", lost_id) in kinds
    assert ("tracking", tracked_id) in kinds
    assert ("refunded", refunded_id) in kinds
    assert ("stock", None) in kinds
    assert ("acknowledged", ack2_id) in kinds
    assert not any(order_id == ack_id for _k, order_id in kinds)  # it agrees
    by = {(d["kind"], d["order_id"]): d for d in _open(app, store_id)}
    assert by[("canceled", canceled_id)]["ours"] == "0 units canceled"
    assert by[("canceled", canceled_id)]["walmart"].startswith("2 units canceled")
    assert by[("shipped", lost_id)]["ours"] == "1 unit shipped"
    assert "1 Created" in by[("shipped", lost_id)]["walmart"]
    assert by[("tracking", tracked_id)]["walmart"] == "tracking 1ZOTHERNUMBER9"
    assert by[("refunded", refunded_id)]["ours"] == "0 units refunded"
    assert by[("refunded", refunded_id)]["walmart"].startswith("2 units refunded")
    assert " last sent (" in by[("stock", None)]["ours"]  # 7 less the open orders' units
    assert by[("stock", None)]["walmart"] == "3 units available"
    with app.app_context():
        from webapp.models import WalmartDifference
        for d in db.session.scalars(select(WalmartDifference)):
            why = findings.explain(d)
            words = " ".join([why.title, why.meaning, d.ours, d.walmart])
            assert "_" not in words and "CANCEL" not in words  # words, never codes
        for order_id in (canceled_id, shipped_id, lost_id, tracked_id, refunded_id):
            assert db.session.get(Order, order_id).walmart_disagrees
        assert not db.session.get(Order, ack_id).walmart_disagrees
        assert findings.count_open(store_id) == len(kinds)


def test_agreement_again_closes_the_difference(app, store, walmart_order, worker, sim):
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.stock.levels import set_on_hand

    store_id, seller = store
    order_id, po = _shipped_order(app, store, walmart_order, worker, (1,))
    _retrack(sim, seller, po, "1ZOTHERNUMBER9")
    with app.app_context():
        sku = db.session.get(Order, order_id).lines[0].sku
        set_on_hand(store_id, sku, 5, by=None)
    worker()
    control.seller_center_stock(sim.conn, seller.seller_id, sku, 2)
    _reconcile(app, store_id)
    assert sorted(k for k, _o in _kinds(app, store_id)) == ["stock", "tracking"]
    _retrack(sim, seller, po, TRACKING)
    control.seller_center_stock(sim.conn, seller.seller_id, sku, 5)
    _reconcile(app, store_id)
    assert _open(app, store_id) == []
    with app.app_context():
        assert not db.session.get(Order, order_id).walmart_disagrees


def _post(client, auth, path):
    return client.post(path, data={"csrf_token": auth.csrf("/reconciliation/")},
                       headers={"HX-Request": "true"})


def test_adopt_walmarts_state_reads_again_and_applies_it(app, store, walmart_order, worker,
                                                         sim, client, auth, signed_in):
    from webapp.extensions import db
    from webapp.models import AuditEvent, Order, SkuStock
    from webapp.services.stock.levels import set_on_hand

    store_id, seller = store
    order_id, po = walmart_order(store, (2,))
    control.seller_center_cancel(sim.conn, seller.seller_id, po, quiet=True)
    with app.app_context():
        sku = db.session.get(Order, order_id).lines[0].sku
        set_on_hand(store_id, sku, 10, by=None)
    worker()
    with app.app_context():
        held = db.session.scalar(select(SkuStock).where(SkuStock.sku == sku))
        assert (held.reserved, held.pushed_quantity) == (2, 8)
    control.seller_center_stock(sim.conn, seller.seller_id, sku, 4)
    _reconcile(app, store_id)
    by = {d["kind"]: d for d in _open(app, store_id)}
    assert set(by) == {"canceled", "stock"}
    signed_in("operator")
    page = client.get("/reconciliation/").text
    assert "Walmart shows more units canceled" in page and "Adopt Walmart&#39;s state" in page
    for kind in ("canceled", "stock"):
        assert _post(client, auth, f"/reconciliation/{by[kind]['id']}/adopt").status_code == 204
    assert "reading Walmart again" in client.get("/reconciliation/").text
    worker()
    assert _open(app, store_id) == []
    with app.app_context():
        line = db.session.get(Order, order_id).lines[0]
        assert (line.canceled_qty, line.open_qty) == (2, 0)
        held = db.session.scalar(select(SkuStock).where(SkuStock.sku == sku))
        assert held.reserved == 0 and held.available == 4 and held.pushed_quantity == 4
        assert not db.session.get(Order, order_id).walmart_disagrees
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert actions.count("reconcile.adopt") == 2


def test_send_ours_again_goes_through_the_sync_engine_reading_back_first(
        app, store, walmart_order, worker, sim, client, auth, signed_in):
    from webapp.extensions import db
    from webapp.models import SyncTask

    store_id, seller = store
    order_id, po = _shipped_order(app, store, walmart_order, worker, (1,))
    control.lose_update(sim.conn, seller.seller_id, po)
    _reconcile(app, store_id)
    by = {d["kind"]: d for d in _open(app, store_id)}
    assert set(by) == {"acknowledged", "shipped"}
    signed_in("operator")
    assert _post(client, auth, f"/reconciliation/{by['acknowledged']['id']}/send"
                 ).status_code == 204
    assert _post(client, auth, f"/reconciliation/{by['shipped']['id']}/send"
                 ).status_code == 204
    with app.app_context():
        tasks = db.session.scalars(select(SyncTask).where(SyncTask.order_id == order_id)
                                   .order_by(SyncTask.id)).all()
        sent = tasks[-2:]
        assert [t.kind for t in sent] == ["acknowledge", "ship"]
        assert all(t.ambiguous for t in sent)  # Walmart is read back before sending
        assert sent[1].payload["orderShipment"]["orderLines"]["orderLine"][0][
            "orderLineStatuses"]["orderLineStatus"][0]["trackingInfo"]["trackingNumber"] \
            == TRACKING
    worker()
    with app.app_context():
        assert [db.session.get(SyncTask, t.id).state for t in sent] == ["synced", "synced"]
        assert [db.session.get(SyncTask, t.id).read_backs for t in sent] == [1, 1]
    shown = control.order_state(sim.conn, seller.seller_id, po)
    status = shown["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"]
    assert [s["status"] for s in status] == ["Shipped"]
    assert _open(app, store_id) == []  # the update's read-back stored it: they agree


def test_two_clicks_at_once_send_ours_again_once(app, store, walmart_order, worker, sim):
    """Two people (or a double click) press Send ours again together: both read the
    difference open, the first queues the update, the second is refused — not a second
    update in the outbox. The same for Adopt."""
    from webapp.extensions import db
    from webapp.models import SyncTask
    from webapp.services.errors import ActionRefused
    from webapp.services.reconcile import actions

    store_id, seller = store
    order_id, po = _shipped_order(app, store, walmart_order, worker, (1,))
    control.lose_update(sim.conn, seller.seller_id, po)
    _reconcile(app, store_id)
    shipped = next(d["id"] for d in _open(app, store_id) if d["kind"] == "shipped")
    acknowledged = next(d["id"] for d in _open(app, store_id) if d["kind"] == "acknowledged")
    with app.app_context():
        before = db.session.scalar(select(func.count(SyncTask.id)))
        for finding, act in ((shipped, actions.send_again), (acknowledged, actions.adopt)):
            second = actions._open(finding)  # the second click has read it open
            with app.app_context():  # the first click, in its own request, meanwhile
                act(finding, by=None)
            with pytest.raises(ActionRefused, match="just now"):
                actions._claim(second)
        assert db.session.scalar(select(func.count(SyncTask.id))) == before + 1


def test_send_again_refused_for_read_only_stores_and_for_viewers(
        app, store, walmart_order, worker, sim, client, auth, signed_in):
    from webapp.extensions import db
    from webapp.models import Store, SyncTask

    store_id, seller = store
    order_id, po = _shipped_order(app, store, walmart_order, worker, (1,))
    control.lose_update(sim.conn, seller.seller_id, po)
    _reconcile(app, store_id)
    shipped = next(d for d in _open(app, store_id) if d["kind"] == "shipped")
    with app.app_context():
        before = db.session.scalar(select(SyncTask.id).order_by(SyncTask.id.desc()).limit(1))
    signed_in("viewer")
    assert "Send ours again" not in client.get("/reconciliation/").text
    for action in ("send", "adopt"):
        assert _post(client, auth, f"/reconciliation/{shipped['id']}/{action}"
                     ).status_code == 403
    auth.logout()
    signed_in("operator")
    with app.app_context():
        db.session.get(Store, store_id).read_only = True
        db.session.commit()
    with app.app_context():  # and a stock difference (a push would be skipped, not refused)
        from webapp.models import SkuStock, WalmartDifference
        db.session.add(SkuStock(store_id=store_id, sku="RO-1", ship_node="", on_hand=3,
                                reserved=0, pushed_quantity=3))
        stock = WalmartDifference(store_id=store_id, source="reconcile", kind="stock",
                                  sku="RO-1", ship_node="", ours="3 units last sent",
                                  walmart="1 unit available",
                                  detail={"ours": 3, "walmart": 1, "available": 3})
        db.session.add(stock)
        db.session.commit()
        stock_id = stock.id
    for finding_id in (shipped["id"], stock_id):
        assert _post(client, auth, f"/reconciliation/{finding_id}/send").status_code == 204
        assert "is read-only" in client.get("/reconciliation/").text
    with app.app_context():
        assert db.session.scalar(select(SyncTask.id).order_by(SyncTask.id.desc()).limit(1)) \
            == before
        assert db.session.get(WalmartDifference, stock_id).action is None
    # Walmart already shows more than we do: nothing of ours to send.
    canceled_id, canceled_po = walmart_order(store, (1,))
    control.seller_center_cancel(sim.conn, seller.seller_id, canceled_po, quiet=True)
    with app.app_context():
        db.session.get(Store, store_id).read_only = False
        db.session.commit()
    _reconcile(app, store_id)
    canceled = next(d for d in _open(app, store_id) if d["kind"] == "canceled")
    _post(client, auth, f"/reconciliation/{canceled['id']}/send")
    assert "nothing of ours to send" in client.get("/reconciliation/").text


@pytest.mark.parametrize("fault", [
    {"next": {"error": 2}},                       # Walmart's 500 twice
    {"next": {"down": 1}},                        # the gateway's bare 503
    {"next": {"throttle": 2}, "replenish_seconds": 0.2},   # Walmart's 429
    {"next": {"timeout": 1}, "hang_seconds": 0.05},         # Walmart's 504 after a hang
    {"next": {"malformed": 1}},                   # an answer that is not Walmart's JSON
])
def test_faults_while_reading_are_retried_never_a_false_difference(
        app, store, walmart_order, worker, sim, fault):
    store_id, seller = store
    agreeing_id, _po = walmart_order(store, (1,))
    canceled_id, canceled_po = walmart_order(store, (1,))
    control.seller_center_cancel(sim.conn, seller.seller_id, canceled_po, quiet=True)
    control.set_faults(sim.conn, "order", **fault)
    result = _reconcile(app, store_id)
    assert result["phase"] == "done" and result["unread"] == 0 and result["error"] is None
    if "throttle" not in fault["next"]:
        assert result["failed_reads"] >= 1
    assert _kinds(app, store_id) == [("canceled", canceled_id)]


def test_reads_failing_every_time_leave_differences_as_they_were(app, store, walmart_order,
                                                                 sim, worker):
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.stock.levels import set_on_hand

    store_id, seller = store
    order_id, po = walmart_order(store, (1,))
    control.seller_center_cancel(sim.conn, seller.seller_id, po, quiet=True)
    with app.app_context():
        sku = db.session.get(Order, order_id).lines[0].sku
        set_on_hand(store_id, sku, 4, by=None)
    worker()
    control.seller_center_stock(sim.conn, seller.seller_id, sku, 1)
    _reconcile(app, store_id)
    assert sorted(k for k, _o in _kinds(app, store_id)) == ["canceled", "stock"]
    # Walmart now agrees on the stock, but every read fails: nothing may close (or open).
    control.seller_center_stock(sim.conn, seller.seller_id, sku, 3)
    for endpoint in ("order", "returns", "inventory_get"):
        control.set_faults(sim.conn, endpoint, error_rate=1.0)
    result = _reconcile(app, store_id)
    assert result["phase"] == "done" and result["unread"] == 3
    assert "still failing" in result["error"]
    assert sorted(k for k, _o in _kinds(app, store_id)) == ["canceled", "stock"]
    control.clear_faults(sim.conn)
    _reconcile(app, store_id)  # read at last: the stock agrees (4 on hand, 1 reserved)
    assert sorted(k for k, _o in _kinds(app, store_id)) == ["canceled"]


def test_a_read_that_times_out_at_our_end_is_read_again(app, store, walmart_order, sim):
    store_id, seller = store
    order_id, po = walmart_order(store, (1,))
    control.seller_center_cancel(sim.conn, seller.seller_id, po, quiet=True)
    app.config["WALMART_READ_TIMEOUT"] = 0.3
    control.set_faults(sim.conn, "order", next={"timeout": 1}, hang_seconds=1.0)
    result = _reconcile(app, store_id)
    assert result["failed_reads"] == 1 and result["unread"] == 0
    assert _kinds(app, store_id) == [("canceled", order_id)]


def test_cli_prints_differences_and_exits_1(app, store, walmart_order, sim, runner):
    store_id, seller = store
    order_id, po = walmart_order(store, (1,))
    with app.app_context():
        from webapp.extensions import db
        from webapp.models import Store
        name = db.session.get(Store, store_id).name
    result = runner.invoke(args=["sync", "reconcile", "--store", name])
    assert result.exit_code == 0, result.output
    assert "No difference" in result.output
    control.seller_center_cancel(sim.conn, seller.seller_id, po, quiet=True)
    result = runner.invoke(args=["sync", "reconcile", "--store", name, "--days", "7",
                                 "--json"])
    assert result.exit_code == 1, result.output
    body = json.loads(result.output)
    [difference] = body["differences"]
    assert difference["kind"] == "canceled" and difference["store"] == name
    assert difference["purchase_order_id"] == po and difference["line"] == "1"
    assert difference["title"] == "Walmart shows more units canceled"
    assert body["runs"][0]["compared"] == 1
    result = runner.invoke(args=["sync", "reconcile"])
    assert result.exit_code == 1 and "Walmart shows more units canceled" in result.output
    assert runner.invoke(args=["sync", "reconcile", "--store", "nope"]).exit_code != 0
    control.set_faults(sim.conn, "order", error_rate=1.0)
    control.seller_center_cancel(sim.conn, seller.seller_id, po, quiet=True)  # (no change)
    with app.app_context():
        from webapp.models import WalmartDifference
        for d in db.session.scalars(select(WalmartDifference)):
            d.resolved_at = d.found_at
        db.session.commit()
    result = runner.invoke(args=["sync", "reconcile", "--store", name])
    assert result.exit_code == 2, result.output  # nothing compared: not "no difference"


def test_the_job_spreads_reads_under_its_own_bucket(app, walmart_store, walmart_order, worker,
                                                    sim, client, auth, signed_in):
    from rq.registry import ScheduledJobRegistry

    from jobs.queue import get_queue
    from tests.conftest import FAST_LIMITS
    from webapp.extensions import db, redis_connection
    from webapp.models import ReconcileRun
    from webapp.models.base import utcnow

    store = walmart_store(rate_limits={**FAST_LIMITS, "reconcile_order": 2})
    for _ in range(4):
        walmart_order(store, (1,))
    with app.app_context():
        buckets_before = {k.decode() for k in redis_connection().keys("orderdeck:bucket:*")}
    signed_in("operator")
    assert _post(client, auth, "/reconciliation/run").status_code == 204
    page = client.get("/reconciliation/").text
    assert "Reading orders" in page and "<progress" in page and "hx-trigger" in page
    worker()  # the first slice: two reads, then the bucket is empty
    with app.app_context():
        run = db.session.scalar(select(ReconcileRun))
        assert run.running and run.checked == 2 and run.phase == "orders"
        assert (run.next_at - utcnow()).total_seconds() > 10  # 1 token per 30 s
        assert len(ScheduledJobRegistry(queue=get_queue()).get_job_ids()) == 1
        buckets = {k.decode() for k in redis_connection().keys("orderdeck:bucket:*")}
        assert buckets - buckets_before == {f"orderdeck:bucket:{store[0]}:reconcile_order"}
        tokens = float(redis_connection().hget(
            f"orderdeck:bucket:{store[0]}:reconcile_order", "tokens"))
        assert tokens < 1
    page = client.get("/reconciliation/").text
    assert "2 of 4" in page
    gets = [r for r in store[1].requests() if r["endpoint"] == "order"]
    assert len(gets) == 2


def test_home_counts_differences_and_links_to_the_page(app, store, walmart_order, sim, client,
                                                       signed_in):
    store_id, seller = store
    order_id, po = walmart_order(store, (1,))
    control.seller_center_cancel(sim.conn, seller.seller_id, po, quiet=True)
    _reconcile(app, store_id)
    signed_in("viewer")
    home = client.get("/").text
    assert ('<a href="/reconciliation/"><span class="count">1</span> <span class="label">'
            'Differences with Walmart</span></a>') in home
    page = client.get("/reconciliation/").text
    assert "Walmart shows more units canceled" in page and "Adopt Walmart" not in page
    order_page = client.get(f"/orders/{order_id}").text
    assert "Walmart shows otherwise than Orderdeck recorded" in order_page
    assert "Canceled quantity" in order_page and "0 units canceled" in order_page
    assert 'href="/reconciliation/#difference-' in order_page


def test_an_order_with_an_update_on_its_way_is_not_compared(app, store, walmart_order, sim,
                                                            worker):
    from tests.factories import make_shipment

    store_id, _seller = store
    order_id, _po = walmart_order(store, (1,))
    with app.app_context():
        make_shipment(order_id, tracking=TRACKING)  # not sent yet: ours is ahead on purpose
    result = _reconcile(app, store_id)
    assert result["skipped"] == 1 and result["checked"] == 0
    assert _open(app, store_id) == []
    worker()
    result = _reconcile(app, store_id)
    assert result["checked"] == 1 and _open(app, store_id) == []


def test_nightly_pass_of_every_store_and_the_sweeper_picks_up_a_lost_slice(
        app, store, walmart_order, sim, worker):
    from datetime import timedelta

    from jobs.reconcile import queue_due, reconcile_all
    from webapp.extensions import db
    from webapp.models import ReconcileRun
    from webapp.models.base import utcnow

    store_id, seller = store
    order_id, po = walmart_order(store, (1,))
    control.seller_center_cancel(sim.conn, seller.seller_id, po, quiet=True)
    with app.app_context():
        assert reconcile_all() == 1
        assert reconcile_all() == 0  # one pass per store at a time
        run = db.session.scalar(select(ReconcileRun))
        assert (run.trigger, run.days, run.orders_total) == ("schedule", 30, 1)
    worker()
    with app.app_context():
        run = db.session.scalar(select(ReconcileRun))
        assert run.phase == "done" and run.found == 1
        # A pass whose next slice was lost (Redis away) is queued again by the sweeper.
        late = ReconcileRun(store_id=store_id, trigger="person", days=30, phase="orders",
                            cursor=0, retry={}, next_at=utcnow() - timedelta(minutes=5))
        db.session.add(late)
        db.session.commit()
        late_id = late.id
        assert queue_due() == 1
    worker()
    with app.app_context():
        assert db.session.get(ReconcileRun, late_id).phase == "done"
    assert _kinds(app, store_id) == [("canceled", order_id)]


def test_one_slice_of_a_pass_at_a_time(app, store, walmart_order):
    from webapp.extensions import db, redis_connection
    from webapp.models import ReconcileRun
    from webapp.models.base import utcnow
    from webapp.services.reconcile import run

    store_id, _seller = store
    walmart_order(store, (1,))
    with app.app_context():
        found, _new = run.start(store_id, "person")
        db.session.commit()
        held = redis_connection().lock(f"orderdeck:reconcile-lock:{found.id}", timeout=30)
        assert held.acquire(blocking=False)  # a worker's slice is running
        at = run.step(found.id)
        assert 3 < (at - utcnow()).total_seconds() <= 5
        assert db.session.get(ReconcileRun, found.id).checked == 0  # nothing read twice
        held.release()
        assert run.step(found.id) is None
        assert db.session.get(ReconcileRun, found.id).checked == 1


def test_an_update_queued_while_walmart_is_read_makes_no_difference(app, store, walmart_order,
                                                                    monkeypatch):
    from tests.factories import make_shipment
    from webapp.walmart.client import WalmartClient

    store_id, _seller = store
    order_id, _po = walmart_order(store, (1,))
    read = WalmartClient.get_order

    def read_while_a_person_ships(self, po):
        data = read(self, po)
        make_shipment(order_id, tracking=TRACKING)  # (in the same app context)
        return data
    monkeypatch.setattr(WalmartClient, "get_order", read_while_a_person_ships)
    result = _reconcile(app, store_id)
    assert result["skipped"] == 1 and result["checked"] == 0
    assert _open(app, store_id) == []


def _adopt_all(app, store_id, worker):
    from webapp.services.reconcile import actions

    with app.app_context():
        for d in _open(app, store_id):
            actions.adopt(d["id"], by=None)
    worker()


def test_adopting_shipments_tracking_and_refunds_records_walmarts(app, store, walmart_order,
                                                                 worker, sim):
    from tests.factories import make_walmart_return
    from webapp.extensions import db
    from webapp.models import Order, Return, ShipmentPackage
    from webapp.services.returns.importer import import_returns

    store_id, seller = store
    shipped_id, shipped_po = walmart_order(store, (2,))
    tracked_id, tracked_po = _shipped_order(app, store, walmart_order, worker, (1,))
    refunded_id, refunded_po = _shipped_order(app, store, walmart_order, worker, (2,))
    rma = make_walmart_return(seller, refunded_po)
    with app.app_context():
        import_returns(store_id)
    control.seller_center_ship(sim.conn, seller.seller_id, shipped_po, "1ZSELLERCENTER1",
                               quiet=True)
    _retrack(sim, seller, tracked_po, "1ZOTHERNUMBER9")
    control.seller_center_refund(sim.conn, seller.seller_id, rma)
    _reconcile(app, store_id)
    assert sorted(k for k, _o in _kinds(app, store_id)) == ["refunded", "shipped", "tracking"]
    _adopt_all(app, store_id, worker)
    assert _open(app, store_id) == []
    with app.app_context():
        def numbers(order_id):
            return sorted(db.session.scalars(select(ShipmentPackage.tracking_number).join(
                ShipmentPackage.shipment).where(ShipmentPackage.shipment.has(
                    order_id=order_id))))
        assert numbers(shipped_id) == ["1ZSELLERCENTER1"]
        assert numbers(tracked_id) == ["1ZOTHERNUMBER9"]
        line = db.session.get(Order, shipped_id).lines[0]
        assert (line.shipped_qty, line.open_qty) == (2, 0)
        assert db.session.get(Order, refunded_id).lines[0].refunded_qty == 2
        assert db.session.scalar(select(Return.status)) == "Refunded"
        assert not any(db.session.get(Order, o).walmart_disagrees
                       for o in (shipped_id, tracked_id, refunded_id))
    _reconcile(app, store_id)  # and they agree for good
    assert _open(app, store_id) == []


def test_adopting_a_shipment_walmart_lost_opens_the_units_again(app, store, walmart_order,
                                                                worker, sim):
    from webapp.extensions import db
    from webapp.models import Order, ShipmentPackage, SkuStock
    from webapp.services.stock.levels import set_on_hand

    store_id, seller = store
    order_id, po = _shipped_order(app, store, walmart_order, worker, (1,))
    with app.app_context():
        sku = db.session.get(Order, order_id).lines[0].sku
        set_on_hand(store_id, sku, 5, by=None)
    worker()
    control.lose_update(sim.conn, seller.seller_id, po)
    _reconcile(app, store_id)
    assert sorted(k for k, _o in _kinds(app, store_id)) == ["acknowledged", "shipped"]
    _adopt_all(app, store_id, worker)
    assert _open(app, store_id) == []
    with app.app_context():
        line = db.session.get(Order, order_id).lines[0]
        assert (line.shipped_qty, line.open_qty, line.acknowledged) == (0, 1, False)
        assert db.session.scalars(select(ShipmentPackage.id)).all() == []
        held = db.session.scalar(select(SkuStock).where(SkuStock.sku == sku))
        assert held.reserved == 1  # the open unit is reserved again
        assert db.session.get(Order, order_id).status == "Open"


def test_the_page_shows_the_newest_differences_and_says_how_many_wait(
        app, store, walmart_order, sim, client, signed_in, monkeypatch):
    """Thousands of differences are not one page: the newest are shown, the count is the whole
    number, and the page says the others come as these are settled."""
    from webapp.services.reconcile import findings

    store_id, seller = store
    orders = [walmart_order(store, (1,)) for _ in range(3)]
    for _order_id, po in orders:  # (after every import: an import would record the cancel)
        control.seller_center_cancel(sim.conn, seller.seller_id, po, quiet=True)
    assert _reconcile(app, store_id)["found"] == 3
    monkeypatch.setattr(findings, "PAGE_LIMIT", 2)
    signed_in("viewer")
    page = client.get("/reconciliation/").text
    assert 'Differences <span class="count">3</span>' in page
    assert "The newest 2 are shown" in page and page.count('<tr id="difference-') == 2
    monkeypatch.setattr(findings, "PAGE_LIMIT", 3)
    page = client.get("/reconciliation/").text
    assert "are shown" not in page and page.count('<tr id="difference-') == 3


def test_an_order_walmart_does_not_know_is_a_difference_not_a_failed_read(
        app, store, walmart_order, sim, runner, client, signed_in):
    """The store's keys now belong to another seller account: Walmart answers 404 for the
    order. Read again in every retry round (a gateway's 404 must not make a difference), it
    is then an answer — one difference in words, with nothing to adopt or send, the pass
    complete (exit 1, not 2 for reads still failing) — and it closes once the order can be
    read again."""
    from webapp import secrets_box
    from webapp.extensions import db
    from webapp.models import Store
    from webapp.services.errors import ActionRefused
    from webapp.services.reconcile import actions
    from webapp.walmart.client import forget_tokens

    store_id, seller = store
    order_id, _po = walmart_order(store, (1,))
    other = sim.seller()

    def keys(account):
        with app.app_context():
            row = db.session.get(Store, store_id)
            row.client_id = account.client_id
            row.client_secret_encrypted = secrets_box.encrypt(account.client_secret)
            db.session.commit()
            forget_tokens()
            return row.name

    name = keys(other)
    result = runner.invoke(args=["sync", "reconcile", "--store", name, "--json"])
    assert result.exit_code == 1, result.output
    [difference] = json.loads(result.output)["differences"]
    assert difference["kind"] == "missing" and "No such order" in difference["walmart"]
    [run] = json.loads(result.output)["runs"]
    rounds = app.config["RECONCILE_RETRY_ROUNDS"]  # read again first, as any failed read
    assert (run["compared"], run["failed_reads"], run["unread"]) == (1, rounds, 0)
    assert _kinds(app, store_id) == [("missing", order_id)]
    signed_in("admin")
    page = client.get("/reconciliation/").text
    assert "Walmart does not know this order" in page
    assert "Adopt Walmart" not in page and "Send ours again" not in page
    finding = _open(app, store_id)[0]["id"]
    with app.app_context(), pytest.raises(ActionRefused):
        actions.adopt(finding, by=None)
    with app.app_context(), pytest.raises(ActionRefused):
        actions.send_again(finding, by=None)
    keys(seller)  # the right keys again: the order reads, the difference closes
    assert _reconcile(app, store_id)["found"] == 0
    assert _kinds(app, store_id) == []
