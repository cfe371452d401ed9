"""Optional alerts to a webhook and by e-mail, sent by queued jobs (never inside a request)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from simulator import control
from tests.receivers import MailSink, Webhook


@pytest.fixture
def receivers(app):
    hook, mail = Webhook(), MailSink()
    app.config.update(NOTIFY_WEBHOOK_URL=hook.url, SMTP_HOST="127.0.0.1", SMTP_PORT=mail.port,
                      SMTP_STARTTLS=False, NOTIFY_EMAIL_TO=["team@example.com"],
                      SMTP_FROM="orderdeck@example.com", PUBLIC_URL="https://od.example.com")
    yield hook, mail
    hook.close()
    mail.close()


def _failed_shipment(app, shop) -> tuple[int, str]:
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order
    from webapp.services.sync.engine import process_task

    _store_id, seller = shop
    control.set_faults(seller.sim.conn, "shipping", reject_rate=1.0)
    with app.app_context():
        order = db.session.scalars(select(Order).where(Order.intent_to_cancel.is_(False))
                                   .order_by(Order.id)).first()
        task_id = ship_order(order.id, [PackageInput("1Z999AA10123456784", "Standard",
                                                     {order.lines[0].line_number: 1}, "UPS")],
                             utcnow(), by=None, actor="test").task_id
        assert process_task(task_id).state == "error"
        return task_id, order.number


def test_a_failed_update_alerts_the_webhook_and_the_team_by_mail(app, shop, worker,
                                                                  receivers):
    hook, mail = receivers
    task_id, number = _failed_shipment(app, shop)
    assert hook.received == [] and mail.messages == []  # queued, not sent by the sync attempt
    worker()
    [alert] = hook.received
    assert alert["event"] == "sync_task_error" and alert["task_id"] == task_id
    assert alert["order"] == number and number in alert["subject"]
    assert "Walmart said: INVALID_REQUEST_CONTENT.GMP_ORDER_API Simulated rejection" in alert[
        "text"]  # Walmart's own words, then what they mean
    assert "What it means: Walmart found something in this update it does not accept" in alert[
        "text"]
    assert "https://od.example.com/sync?state=error" in alert["text"]
    [message] = mail.messages
    assert f"Subject: Orderdeck: Walmart ship failed for order {number}" in message
    assert "To: team@example.com" in message and "What to do:" in message
    worker()  # the same alert is never sent twice
    assert len(hook.received) == 1 and len(mail.messages) == 1


def test_a_webhook_that_is_down_is_retried_later_by_rq(app, shop, worker, receivers):
    from rq.job import Job
    from rq.registry import ScheduledJobRegistry

    from jobs.queue import get_queue
    from webapp.extensions import redis_connection

    hook, mail = receivers
    hook.fail = 1
    _failed_shipment(app, shop)
    worker()
    assert hook.received == [] and len(mail.messages) == 1  # the mail went anyway
    with app.app_context():
        registry = ScheduledJobRegistry(queue=get_queue())
        [job_id] = [j for j in registry.get_job_ids() if j.startswith("notify-")]
        job = Job.fetch(job_id, connection=redis_connection())
        assert job_id.endswith("-webhook") and job.retries_left == 4


def test_an_import_failing_for_15_minutes_alerts_once_per_streak(app, walmart_store, worker,
                                                                  receivers):
    from jobs.sync import sweep
    from webapp.extensions import db
    from webapp.models import Store
    from webapp.models.base import utcnow
    from webapp.services.orders.importer import import_store
    from webapp.walmart import WalmartError

    hook, _mail = receivers
    store_id, seller = walmart_store(orders=2)
    control.set_faults(seller.sim.conn, "released", error_rate=1.0)
    control.set_faults(seller.sim.conn, "orders", error_rate=1.0)
    with app.app_context():
        with pytest.raises(WalmartError):
            import_store(store_id)
        assert sweep()["import_alerts"] == 0  # failing, but not for 15 minutes yet
        store = db.session.get(Store, store_id)
        store.import_failing_since = utcnow() - timedelta(minutes=16)
        db.session.commit()
        assert sweep()["import_alerts"] == 1
        assert sweep()["import_alerts"] == 0
    worker()
    [alert] = hook.received
    assert alert["event"] == "import_failing" and alert["minutes"] >= 15
    assert "has failed for 16 min" in alert["subject"]
    control.clear_faults(seller.sim.conn)
    with app.app_context():
        assert import_store(store_id).ok
        store = db.session.get(Store, store_id)
        assert store.import_failing_since is None and store.import_alert_sent_at is None


def test_nothing_is_queued_when_no_channel_is_configured(app, shop, worker):
    from rq.registry import ScheduledJobRegistry

    from jobs.queue import get_queue

    _failed_shipment(app, shop)
    with app.app_context():
        queued = get_queue().get_job_ids() + ScheduledJobRegistry(
            queue=get_queue()).get_job_ids()
    assert not [j for j in queued if j.startswith("notify-")]
