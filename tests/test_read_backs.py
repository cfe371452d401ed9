"""Tries, not calls: a read-back and the send it allows are one try for the backoff and the
limit; read-backs are counted apart and shown alike on the order page and the Sync page; a
manual Retry starts the backoff over without wiping the count."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from simulator import control
from tests.sync_steps import make_due, run_task


def _task(app):
    from webapp.extensions import db
    from webapp.models import SyncTask

    with app.app_context():
        task = db.session.scalars(select(SyncTask)).one()
        db.session.expunge(task)
        return task






def _failing_with_read_backs(app, walmart_store, sends: int):
    """One order's acknowledgement, ambiguous from the start (a dead worker's lease), whose
    next `sends` sends answer 500: each try reads the order back, then sends, and fails."""
    from webapp.extensions import db
    from webapp.models import SyncTask
    from webapp.services.orders.importer import import_store

    app.config.update(SYNC_BACKOFF_BASE=2.0, SYNC_BACKOFF_CAP=600.0)
    store_id, seller = walmart_store(orders=1)
    with app.app_context():
        import_store(store_id)
        db.session.execute(update(SyncTask).values(ambiguous=True))
        db.session.commit()
    task = _task(app)
    control.set_faults(seller.sim.conn, "acknowledge", next={"error": sends})
    return task, seller


def test_a_read_back_and_its_send_are_one_try(app, walmart_store):
    """Four failed sends, each preceded by a read-back: attempts 4 (not 8), read-backs 4, and
    the next try waits as after four tries (8–16 s at a 2 s base), not eight (128–256 s)."""
    from webapp.models.base import utcnow

    task, seller = _failing_with_read_backs(app, walmart_store, sends=4)
    for n in range(4):
        if n:
            make_due(app)
        before = utcnow()
        assert run_task(app, task.id).state == "retry"
        after = utcnow()
    done = _task(app)
    assert (done.attempts, done.read_backs) == (4, 4)
    calls = [r["endpoint"] for r in seller.requests() if r["endpoint"] in ("order",
                                                                             "acknowledge")]
    assert calls == ["order", "acknowledge"] * 4
    assert before + timedelta(seconds=8) <= done.next_attempt_at <= after + timedelta(seconds=16)
    make_due(app)
    assert run_task(app, task.id).state == "synced"
    assert (_task(app).attempts, _task(app).read_backs) == (5, 5)


def test_order_page_and_sync_page_show_the_same_counts(app, walmart_store, signed_in, client):
    """While the task retries, Status details, the order's sync history and the Sync page all
    say 3 attempts and 3 read-backs."""
    task, _seller = _failing_with_read_backs(app, walmart_store, sends=3)
    for n in range(3):
        if n:
            make_due(app)
        assert run_task(app, task.id).state == "retry"
    signed_in("viewer")
    order = client.get(f"/orders/{task.order_id}").text
    sync = client.get("/sync/").text
    for page in (order, sync):
        assert re.search(r"[Rr]etrying after 3 attempts \(3 read-backs\)", page), page
        assert re.search(r'<td class="num">3</td><td class="num">3</td>', page), page


def test_a_manual_retry_keeps_the_count_and_starts_the_backoff_over(app, walmart_store):
    """A task that gave up after 15 tries is retried by a person: its Attempts still read 15
    (not 0), and the next failure waits as after one try, not sixteen."""
    from webapp.extensions import db
    from webapp.models import SyncTask
    from webapp.models.base import utcnow
    from webapp.services.sync.actions import retry_task

    task, _seller = _failing_with_read_backs(app, walmart_store, sends=1)
    with app.app_context():
        db.session.execute(update(SyncTask).values(
            state="error", attempts=15, read_backs=7, last_error_message="Gave up"))
        db.session.commit()
        retry_task(task.id, by=None)
    assert (_task(app).attempts, _task(app).read_backs) == (15, 7)
    before = utcnow()
    assert run_task(app, task.id).state == "retry"
    after = utcnow()
    done = _task(app)
    assert (done.attempts, done.read_backs) == (16, 8)
    assert before + timedelta(seconds=1) <= done.next_attempt_at <= after + timedelta(seconds=2)
