"""The unit of work: a commit publishes the tasks it wrote and invalidates the order counts, a
rollback forgets them, and a refusal leaving a service rolls back — no service or view has to
remember a step."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select


@pytest.fixture
def order_id(app):
    """A store with one open order of one line (2 units)."""
    from tests.factories import make_store
    from webapp.extensions import db
    from webapp.models import Order, OrderLine

    with app.app_context():
        store = make_store()
        order = Order(store_id=store.id, purchase_order_id="PO-UOW-1", number="100001",
                      lines=[OrderLine(line_number="1", sku="UOW-SKU", quantity=2)])
        db.session.add(order)
        db.session.commit()
        return order.id


def _queued() -> set[str]:
    from jobs.queue import get_queue

    return set(get_queue().job_ids)


def _counts_version() -> int:
    from webapp.extensions import redis_connection
    from webapp.services.orders.queries import COUNTS_VERSION

    return int(redis_connection().get(COUNTS_VERSION) or 0)


def _pending() -> dict:
    from webapp.extensions import db
    from webapp.services.sync import outbox

    return {key: db.session.info[key] for key in outbox.KEYS if db.session.info.get(key)}


def _ship_task(order):
    from webapp.models import TaskKind
    from webapp.services.sync import outbox

    return outbox.add_task(order.store_id, TaskKind.SHIP, order.purchase_order_id, order=order,
                           payload={"lines": 1})


def test_a_commit_publishes_what_it_queued_and_invalidates_the_counts(app, order_id):
    """A task and a batch added, then a plain commit — nothing else called: both are on the
    queue (the task's first attempt, the batch's one job), and the cached order counts are
    stale (the order went in flight)."""
    from webapp.extensions import db
    from webapp.models import Order, TaskKind
    from webapp.services.sync import outbox

    with app.app_context():
        before = _counts_version()
        task = _ship_task(db.session.get(Order, order_id))
        [push] = outbox.add_batch(db.session.get(Order, order_id).store_id, TaskKind.INVENTORY,
                                  [("UOW-SKU", None, {"quantity": 1})])
        db.session.commit()
        assert _queued() == {f"sync-{task.id}-1", f"sync-batch-{push}-{push}"}
        assert _counts_version() > before
        assert _pending() == {}


def test_a_commit_that_wrote_no_order_leaves_the_counts(app, order_id):
    """A stock push alone changes no order: the counts' cache stays valid."""
    from webapp.extensions import db
    from webapp.models import Order, TaskKind
    from webapp.services.sync import outbox

    with app.app_context():
        store_id = db.session.get(Order, order_id).store_id
        before = _counts_version()
        task = outbox.add_task(store_id, TaskKind.INVENTORY, "UOW-SKU", payload={"q": 1})
        db.session.commit()
        assert _queued() == {f"sync-{task.id}-1"}
        assert _counts_version() == before


def test_a_rollback_forgets_what_it_queued(app, order_id):
    """A task added and rolled back is never written nor published; the next commit
    publishes only its own task."""
    from webapp.extensions import db
    from webapp.models import Order, SyncTask

    with app.app_context():
        _ship_task(db.session.get(Order, order_id))
        db.session.flush()
        db.session.rollback()
        assert _pending() == {}
        kept = _ship_task(db.session.get(Order, order_id))
        db.session.commit()
        assert _queued() == {f"sync-{kept.id}-1"}
        assert db.session.scalar(select(func.count(SyncTask.id))) == 1


def test_a_savepoint_rolled_back_forgets_only_what_it_queued(app, order_id):
    """Tasks and a batch added inside a savepoint that is rolled back are forgotten; the task
    added before it, and the one in a savepoint released, are published at the commit."""
    from webapp.extensions import db
    from webapp.models import Order, TaskKind
    from webapp.services.sync import outbox

    with app.app_context():
        order = db.session.get(Order, order_id)
        before = _ship_task(order)
        with pytest.raises(RuntimeError), db.session.begin_nested():
            _ship_task(order)
            outbox.add_batch(order.store_id, TaskKind.INVENTORY, [("UOW-SKU", None, {})])
            raise RuntimeError("this order cannot be stored")
        with db.session.begin_nested():
            released = outbox.add_task(order.store_id, TaskKind.INVENTORY, "UOW-SKU")
        db.session.commit()
        assert _queued() == {f"sync-{before.id}-1", f"sync-{released.id}-1"}


def test_a_task_set_going_again_gets_its_next_attempt_after_the_commit(app, order_id):
    """outbox.start(): an existing task's next attempt is queued at the commit, not before
    it, and not at all when the transaction is rolled back."""
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.sync import outbox

    with app.app_context():
        task = _ship_task(db.session.get(Order, order_id))
        outbox.forget_pending()  # (written, never published: as a task left to the sweeper)
        db.session.commit()
        assert _queued() == set()
        task.claims = 2
        outbox.start([task])
        assert _queued() == set()
        db.session.rollback()
        db.session.commit()
        assert _queued() == set()
        task.claims = 2
        outbox.start([task])
        db.session.commit()
        assert _queued() == {f"sync-{task.id}-3"}


def test_a_refusal_leaving_an_action_rolls_it_back(app, order_id):
    """@action: a refusal raised after the service wrote and queued leaves nothing written
    and nothing pending; a later commit publishes nothing."""
    from webapp.extensions import db
    from webapp.models import Order, SyncTask
    from webapp.services.errors import ActionRefused
    from webapp.services.unit_of_work import action

    @action
    def refused(order_id: int) -> None:
        order = db.session.get(Order, order_id)
        order.customer_name = "Half made"
        _ship_task(order)
        db.session.flush()
        raise ActionRefused("Refused after writing.")

    with app.app_context():
        before = _counts_version()
        with pytest.raises(ActionRefused):
            refused(order_id)
        assert _pending() == {}
        db.session.commit()
        order = db.session.get(Order, order_id)
        assert (order.customer_name, order.in_flight) == (None, False)
        assert db.session.scalar(select(func.count(SyncTask.id))) == 0
        assert _queued() == set() and _counts_version() == before


def test_an_action_called_from_another_joins_its_unit_of_work(app, order_id):
    """Only the outermost @action rolls back: a service that catches an inner service's
    refusal keeps what it wrote before, and its commit publishes it."""
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.errors import ActionRefused
    from webapp.services.unit_of_work import action

    @action
    def inner() -> None:
        raise ActionRefused("Not this one.")

    @action
    def outer(order_id: int) -> int:
        task = _ship_task(db.session.get(Order, order_id))
        try:
            inner()
        except ActionRefused:
            pass
        db.session.commit()
        return task.id

    with app.app_context():
        task_id = outer(order_id)
        assert _queued() == {f"sync-{task_id}-1"}


def test_a_refusal_in_a_view_leaves_nothing_written_or_pending(app, order_id, signed_in,
                                                                 client, auth, monkeypatch):
    """Cancel Order refused after its conditional UPDATE and its task (here: by the audit
    step): the page says why (422), and the view, which never touches the session, leaves no
    canceled unit, no task, no job, nothing pending."""
    from webapp.extensions import db
    from webapp.models import Cancellation, Order, SyncTask
    from webapp.services import audit
    from webapp.services.errors import ActionRefused

    signed_in("operator")
    token = auth.csrf(f"/orders/{order_id}")
    real = audit.record

    def refuse(event: str, **details):
        if event == "order.cancel":
            raise ActionRefused("Refused at the last step.")
        return real(event, **details)

    monkeypatch.setattr(audit, "record", refuse)
    with app.app_context():  # the request shares this context's session: look at it after
        response = client.post(f"/orders/{order_id}/cancel", data={
            "csrf_token": token, "reason": "SELLER_CANCEL_OUT_OF_STOCK"})
        assert response.status_code == 422 and "Refused at the last step." in response.text
        assert _pending() == {}
        db.session.commit()
        order = db.session.get(Order, order_id)
        assert [line.canceled_qty for line in order.lines] == [0]
        assert (order.status, order.in_flight) == ("Open", False)
        assert db.session.scalar(select(func.count(SyncTask.id))) == 0
        assert db.session.scalar(select(func.count(Cancellation.id))) == 0
        assert _queued() == set()
