"""The outbox under faults: retries with backoff, Walmart's rate limit, data errors, ambiguous
outcomes read back, dead workers' leases, and a Redis that forgot every job."""

from __future__ import annotations

from datetime import timedelta

from redis import Redis
from sqlalchemy import select, update

from simulator import control
from tests.sync_steps import make_due, run_task


def _setup(app, walmart_store, orders: int = 1):
    from webapp.services.orders.importer import import_store

    store_id, seller = walmart_store(orders=orders)
    with app.app_context():
        import_store(store_id)
    return store_id, seller


def _tasks(app):
    from webapp.extensions import db
    from webapp.models import SyncTask

    with app.app_context():
        rows = db.session.scalars(select(SyncTask).order_by(SyncTask.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows






def _acks(seller):
    return [r["status"] for r in seller.requests() if r["endpoint"] == "acknowledge"]


def test_transient_failures_are_retried_with_backoff_until_synced(app, walmart_store):
    """Two 500s then success: the task records each failure and ends synced. A 500 on a POST
    may have been applied, so each retry first reads the order back."""
    _store_id, seller = _setup(app, walmart_store)
    [task] = _tasks(app)
    control.set_faults(seller.sim.conn, "acknowledge", next={"error": 2})
    first = run_task(app, task.id)
    assert first.state == "retry"
    after = _tasks(app)[0]
    assert after.state == "pending" and after.attempts == 1
    assert after.last_error_code == "HTTP_500" and after.next_attempt_at > after.updated_at
    assert run_task(app, task.id).state == "skipped"  # not due yet: backoff is respected
    make_due(app)
    assert run_task(app, task.id).state == "retry"
    make_due(app)
    assert run_task(app, task.id).state == "synced"
    done = _tasks(app)[0]
    assert (done.state, done.attempts, done.read_backs, done.last_error_message) == (
        "synced", 3, 2, None)  # three tries, two of them after a read-back
    assert _acks(seller) == [500, 500, 200]
    assert len([r for r in seller.requests() if r["endpoint"] == "order"]) == 2


def test_walmart_429_waits_for_the_replenish_time(app, walmart_store):
    """A 429 schedules the next attempt at Walmart's replenish time, not a backoff guess."""
    _store_id, seller = _setup(app, walmart_store)
    [task] = _tasks(app)
    control.set_faults(seller.sim.conn, "acknowledge", next={"throttle": 1})
    assert run_task(app, task.id).state == "retry"
    after = _tasks(app)[0]
    assert after.last_error_code == "RATE_LIMITED"
    wait = (after.next_attempt_at - after.updated_at).total_seconds()
    assert 0 < wait <= 2


def test_walmart_429_far_replenish_time_waits_at_most_the_window(app, walmart_store):
    """A 429 whose replenish header is an HTTP date an hour away: the next attempt is 60 s
    later (Walmart's window), not an hour, nor the 5 s default of an unread header."""
    from webapp.models.base import utcnow

    _store_id, seller = _setup(app, walmart_store)
    [task] = _tasks(app)
    control.set_faults(seller.sim.conn, "acknowledge", next={"throttle": 1},
                       replenish_format="http_date", replenish_seconds=3600)
    before = utcnow()
    assert run_task(app, task.id).state == "retry"
    after = utcnow()
    retry = _tasks(app)[0]
    assert retry.last_error_code == "RATE_LIMITED"
    assert before + timedelta(seconds=60) <= retry.next_attempt_at <= after + timedelta(
        seconds=60)


def test_our_bucket_keeps_us_under_walmarts_limit(app, walmart_store, worker):
    """With a bucket of 3 calls, background acknowledgements use 2 and leave 1 for a person's
    action; the rest are rescheduled (never sent early, never a 429 from Walmart)."""
    from webapp.extensions import db
    from webapp.models import Store

    store_id, seller = _setup(app, walmart_store, orders=5)
    with app.app_context():
        store = db.session.get(Store, store_id)
        store.rate_limits = {**store.rate_limits, "acknowledge": 3}
        db.session.commit()
    for task in _tasks(app):
        run_task(app, task.id)
    states = [t.state for t in _tasks(app)]
    assert states.count("synced") == 2 and states.count("pending") == 3
    assert set(_acks(seller)) == {200} and len(_acks(seller)) == 2
    from webapp.services.sync.rate_limit import take
    with app.app_context():  # the share kept for people is there for an urgent call
        store = db.session.get(Store, store_id)
        assert not take(store, "acknowledge").allowed
        assert take(store, "acknowledge", urgent=True).allowed
    waiting = [t for t in _tasks(app) if t.state == "pending"]
    assert all(t.last_error_message is None and t.attempts == 0 for t in waiting)


def test_a_data_error_ends_in_error_with_walmarts_message(app, walmart_store):
    """A 4xx from Walmart ends the task in Error with code, field and description, and the
    order shows Error with the reason."""
    from webapp.extensions import db
    from webapp.models import Order, OrderLine

    _store_id, seller = _setup(app, walmart_store, orders=12)
    with app.app_context():
        multi = db.session.scalars(select(Order).where(Order.id.in_(
            select(OrderLine.order_id).where(OrderLine.line_number == "2")))).first()
        task = next(t for t in _tasks(app) if t.order_id == multi.id)
    # The buyer cancelled line 1 at Walmart before we acknowledged: Walmart now refuses to
    # acknowledge the order, while line 2 still waits in Created.
    control.buyer_cancel(seller.sim.conn, seller.seller_id, task.target, "1")
    outcome = run_task(app, task.id)
    assert outcome.state == "error"
    failed = next(t for t in _tasks(app) if t.id == task.id)
    assert failed.last_error_code == "INVALID_REQUEST_CONTENT.GMP_ORDER_API"
    assert "higher status" in failed.last_error_message
    with app.app_context():
        order = db.session.get(Order, failed.order_id)
        assert order.status == "Error" and "higher status" in order.status_details
        assert not order.in_flight


def test_an_ambiguous_timeout_is_read_back_instead_of_resent(app, walmart_store):
    """Walmart applied the acknowledgement but the answer timed out: the next attempt reads
    the order back, sees it done, and does not send it again."""
    app.config["WALMART_READ_TIMEOUT"] = 0.5
    _store_id, seller = _setup(app, walmart_store)
    [task] = _tasks(app)
    control.set_faults(seller.sim.conn, "acknowledge", next={"timeout_after": 1},
                       hang_seconds=1.5)
    assert run_task(app, task.id).state == "retry"
    assert _tasks(app)[0].ambiguous
    make_due(app)
    assert run_task(app, task.id).state == "synced"
    assert len(_acks(seller)) == 1  # sent once; the second attempt only read the order
    reads = [r for r in seller.requests() if r["endpoint"] == "order"]
    assert len(reads) == 1


def test_a_dead_workers_lease_expires_and_is_read_back(app, walmart_store):
    """A worker that died mid-attempt leaves a lease; the sweeper expires it, and the next
    attempt reads Walmart back before sending."""
    from webapp.extensions import db
    from webapp.models import SyncTask
    from webapp.models.base import utcnow
    from webapp.services.sync.engine import claim, sweep

    _store_id, seller = _setup(app, walmart_store)
    [task] = _tasks(app)
    with app.app_context():
        assert claim(task.id, utcnow())  # a worker took it … and died
        assert not claim(task.id, utcnow())  # nobody else may take it meanwhile
        db.session.execute(update(SyncTask).values(lease_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert sweep()["expired"] == 1
        assert db.session.get(SyncTask, task.id).ambiguous
    assert run_task(app, task.id).state == "synced"
    assert [r["endpoint"] for r in seller.requests() if r["endpoint"] != "token"][-2:] == [
        "order", "acknowledge"]


def test_a_flushed_redis_loses_nothing(app, walmart_store, worker, redis_url):
    """Every queued job vanishes (Redis restarted without persistence); the sweeper
    re-enqueues the pending tasks and every order is still acknowledged exactly once."""
    from webapp.services.sync.engine import sweep

    _store_id, seller = _setup(app, walmart_store, orders=4)
    Redis.from_url(redis_url).flushdb()
    worker()
    assert {t.state for t in _tasks(app)} == {"pending"}
    with app.app_context():
        assert sweep()["enqueued"] == 4
    worker()
    assert {t.state for t in _tasks(app)} == {"synced"}
    assert _acks(seller) == [200] * 4


def test_a_task_queued_twice_runs_once(app, walmart_store, worker):
    """The same task enqueued again (sweeper and publisher racing) is sent once."""
    from webapp.extensions import db
    from webapp.models import SyncTask
    from webapp.services.sync import outbox

    _store_id, seller = _setup(app, walmart_store)
    with app.app_context():
        task = db.session.scalars(select(SyncTask)).one()
        # Its first attempt rides in the import's batch job, still queued; the sweeper's job
        # for it is a second one: both run, one claims.
        assert outbox.schedule(task)
        assert not outbox.schedule(task)  # that job is queued: a third is a no-op
    worker()
    with app.app_context():
        task = db.session.scalars(select(SyncTask)).one()
        outbox.schedule(task)  # a late duplicate after success claims nothing
    worker()
    assert _acks(seller) == [200]


def test_stuck_tasks_are_flagged_after_ten_minutes(app, walmart_store):
    """A task pending for more than 10 minutes is flagged; Status details say why it waits."""
    from webapp.extensions import db
    from webapp.models import Order, SyncTask
    from webapp.models.base import utcnow
    from webapp.services.orders import status as order_status
    from webapp.services.sync.engine import sweep

    _setup(app, walmart_store)
    with app.app_context():
        db.session.execute(update(SyncTask).values(
            created_at=utcnow() - timedelta(minutes=11),
            next_attempt_at=utcnow() + timedelta(minutes=5)))
        db.session.commit()
        assert sweep()["stuck"] == 1
        order = db.session.scalars(select(Order)).one()
        order_status.refresh(order)
        assert "delayed" in order.status_details
        db.session.execute(update(SyncTask).values(attempts=4,
                                                   last_error_message="Walmart answered 503"))
        order_status.refresh(order)
        assert "retrying after 4 attempts: Walmart answered 503" in order.status_details


def test_drain_waits_through_backoff(app, walmart_store, runner):
    """`flask sync drain` keeps working, through a transient failure, until nothing is pending."""
    _store_id, seller = _setup(app, walmart_store, orders=2)
    control.set_faults(seller.sim.conn, "acknowledge", next={"error": 1})
    result = runner.invoke(args=["sync", "drain", "--timeout", "30"])
    assert result.exit_code == 0, result.output
    assert "No sync task is pending." in result.output
    assert sorted(_acks(seller)) == [200, 200, 500]


def test_drain_times_out_listing_what_is_pending(app, walmart_store, runner):
    """When Walmart keeps failing, drain exits 1 after the timeout and lists the tasks."""
    _store_id, seller = _setup(app, walmart_store)
    control.set_faults(seller.sim.conn, "acknowledge", error_rate=1.0)
    result = runner.invoke(args=["sync", "drain", "--timeout", "2"])
    assert result.exit_code == 1
    assert "1 task(s) still pending" in result.output and "acknowledge" in result.output


def test_transient_failures_end_in_error_only_after_a_day(app, walmart_store):
    """Walmart failing again and again: a young task keeps retrying however many attempts it
    took; one failing for more than 24 hours (and 15 attempts) waits in Error for a person."""
    from webapp.extensions import db
    from webapp.models import SyncTask
    from webapp.models.base import utcnow

    _store_id, seller = _setup(app, walmart_store)
    [task] = _tasks(app)
    control.set_faults(seller.sim.conn, "acknowledge", error_rate=1.0)
    control.set_faults(seller.sim.conn, "order", error_rate=1.0)
    with app.app_context():
        db.session.execute(update(SyncTask).values(attempts=40))
        db.session.commit()
    assert run_task(app, task.id).state == "retry"
    assert _tasks(app)[0].state == "pending"
    with app.app_context():
        db.session.execute(update(SyncTask).values(created_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
    make_due(app)
    assert run_task(app, task.id).state == "error"
    failed = _tasks(app)[0]
    assert failed.state == "error" and failed.last_error_message.startswith("Gave up after")
