"""Send now: an update waiting out its retry delay after a Walmart failure goes at once — over
real HTTP, to the simulator; once only, however often it is clicked; refused when it no longer
waits or waits for something a person must fix first."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from simulator import control
from tests.conftest import http_session


@pytest.fixture
def app_settings(app_settings):
    # A failed try waits 30 to 60 minutes before the next: only Send now ends it in a test.
    return {**app_settings, "SYNC_BACKOFF_BASE": 3600.0, "SYNC_BACKOFF_CAP": 7200.0}


@pytest.fixture
def retrying(app, shop, worker):
    """A shipment whose first try met a Walmart 503: pending, its next try an hour away.
    Returns (order_id, task_id, seller)."""
    from webapp.extensions import db
    from webapp.models import Order, SyncTask
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order

    _store_id, seller = shop
    with app.app_context():
        order = db.session.scalars(select(Order).where(
            Order.status == "Open", Order.intent_to_cancel.is_(False))
            .order_by(Order.id)).first()
        order_id = order.id
        lines = {x.line_number: x.quantity for x in order.lines}
    control.set_faults(seller.sim.conn, "shipping", next={"error": 1})
    with app.app_context():
        task_id = ship_order(order_id, [PackageInput("1Z999AA10123456784", "Standard", lines,
                                                     "UPS")], utcnow(), by=None,
                             actor="test").task_id
    worker()
    with app.app_context():
        task = db.session.get(SyncTask, task_id)
        assert task.state == "pending" and task.last_error_message
        assert task.next_attempt_at > utcnow() + timedelta(minutes=20)
    return order_id, task_id, seller


def _task(app, task_id: int):
    from webapp.extensions import db
    from webapp.models import SyncTask

    with app.app_context():
        task = db.session.get(SyncTask, task_id)
        db.session.expunge(task)
        return task


def _audits(app) -> int:
    from webapp.extensions import db
    from webapp.models import AuditEvent

    with app.app_context():
        return db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "sync.send_now"))


def _shipments_received(seller) -> int:
    return sum(1 for r in seller.requests() if r["endpoint"] == "shipping" and r["status"] == 200)


def _button_form(html: str) -> dict[str, str]:
    assert ">Send now</button>" in html
    return {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)}


def test_send_now_over_http_reaches_walmart_once(app, make_user, live_server, retrying,
                                                 worker):
    order_id, task_id, seller = retrying
    operator = http_session(live_server, make_user(role="operator").email)
    order_page = operator.get(f"{live_server}/orders/{order_id}").text
    assert "retrying after 1 attempt" in order_page
    form = _button_form(order_page)
    sync_page = operator.get(f"{live_server}/sync/?state=pending").text
    assert f'action="/sync/tasks/{task_id}/send-now"' in sync_page
    assert _shipments_received(seller) == 0

    url = f"{live_server}/sync/tasks/{task_id}/send-now"
    sent = operator.post(url, data=form, allow_redirects=False)
    assert sent.status_code == 303 and sent.headers["Location"].endswith(f"/orders/{order_id}")
    assert "Sending it to Walmart now." in operator.get(
        live_server + sent.headers["Location"]).text
    again = operator.post(url, data=form)  # a second click before the worker took it
    assert "It is already on its way to Walmart." in again.text
    assert _audits(app) == 1
    worker()
    assert _task(app, task_id).state == "synced" and _shipments_received(seller) == 1
    late = operator.post(url, data=form)  # a click on a page left open
    assert "This update is no longer waiting: it is synced." in late.text
    assert _audits(app) == 1
    assert ">Send now</button>" not in operator.get(f"{live_server}/orders/{order_id}").text
    worker()
    assert _shipments_received(seller) == 1


def test_two_clicks_at_once_send_it_once(app, make_user, live_server, retrying, worker):
    _order_id, task_id, seller = retrying
    sessions = [http_session(live_server, make_user(role="operator").email) for _ in range(2)]
    forms = [_button_form(s.get(f"{live_server}/sync/?state=pending").text) for s in sessions]
    url = f"{live_server}/sync/tasks/{task_id}/send-now"
    barrier, answers = threading.Barrier(2), [None, None]

    def click(i: int) -> None:
        barrier.wait()
        answers[i] = sessions[i].post(url, data=forms[i]).text

    threads = [threading.Thread(target=click, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted("Sending it to Walmart now." in a for a in answers) == [False, True]
    assert any("It is already on its way to Walmart." in a for a in answers)
    assert _audits(app) == 1
    worker()
    assert _task(app, task_id).state == "synced" and _shipments_received(seller) == 1


def test_viewers_cannot_and_the_cli_can(app, make_user, live_server, retrying, runner, worker):
    _order_id, task_id, seller = retrying
    viewer = http_session(live_server, make_user(role="viewer").email)
    page = viewer.get(f"{live_server}/sync/?state=pending").text
    assert ">Send now</button>" not in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    refused = viewer.post(f"{live_server}/sync/tasks/{task_id}/send-now",
                          data={"csrf_token": token})
    assert refused.status_code == 403 and _audits(app) == 0
    result = runner.invoke(args=["sync", "send-now", str(task_id)])
    assert result.exit_code == 0 and "being sent to Walmart now" in result.output
    assert "already on its way" in runner.invoke(args=["sync", "send-now", str(task_id)]).output
    worker()
    assert _shipments_received(seller) == 1
    result = runner.invoke(args=["sync", "send-now", str(task_id)])
    assert result.exit_code == 1 and "no longer waiting: it is synced" in result.output


def test_waits_a_person_must_end_first_are_refused(app, retrying):
    """Refused, and nothing changes: the store's credentials refused, the store read-only,
    Walmart's own rate limit; a task never tried is not offered Send now."""
    from webapp.extensions import db
    from webapp.models import Store, SyncTask
    from webapp.services.errors import ActionRefused
    from webapp.services.sync.actions import send_now, waits_to_retry

    _order_id, task_id, _seller = retrying
    before = _task(app, task_id).next_attempt_at
    with app.app_context():
        task = db.session.get(SyncTask, task_id)
        assert waits_to_retry(task)
        store = db.session.get(Store, task.store_id)
        store.credentials_problem = "refused"
        db.session.commit()
        assert not waits_to_retry(task)
        with pytest.raises(ActionRefused, match="waits for the store's credentials"):
            send_now(task_id, by=None)
        db.session.rollback()
        store.credentials_problem, store.read_only = None, True
        db.session.commit()
        with pytest.raises(ActionRefused, match="read-only"):
            send_now(task_id, by=None)
        db.session.rollback()
        store.read_only = False
        task.last_error_code = "RATE_LIMITED"
        db.session.commit()
        assert not waits_to_retry(task)
        with pytest.raises(ActionRefused, match="rate limit refills"):
            send_now(task_id, by=None)
        db.session.rollback()
        fresh = SyncTask(store_id=task.store_id, kind="inventory", target="SKU-NEW")
        db.session.add(fresh)
        db.session.commit()
        assert not waits_to_retry(fresh)  # on its way: nothing to cut short
        assert send_now(fresh.id, by=None) is False
        with pytest.raises(ActionRefused, match="no such update"):
            send_now(999999, by=None)
    assert _task(app, task_id).next_attempt_at == before and _audits(app) == 0
