"""Optional alerts (webhook and/or e-mail) when a sync task enters Error or a store's import
keeps failing. Each alert is a queued job (jobs.notify.deliver): never sent inside a request
or a sync attempt, retried by RQ when the webhook or the mail server is down."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import select, update

from jobs.queue import enqueue_alert
from webapp.extensions import db
from webapp.models import Store, SyncTask
from webapp.models.base import utcnow
from webapp.services.sync.explain import explain, target

log = logging.getLogger(__name__)


def _link(path: str) -> str | None:
    base = current_app.config["PUBLIC_URL"]
    return f"{base.rstrip('/')}{path}" if base else None


def _channels() -> list[str]:
    config = current_app.config
    return ((["webhook"] if config["NOTIFY_WEBHOOK_URL"] else [])
            + (["email"] if config["SMTP_HOST"] and config["NOTIFY_EMAIL_TO"] else []))


def enabled() -> bool:
    return bool(_channels())


def _send(key: str, message: dict[str, Any]) -> None:
    """Queue one job per channel (a failing mail server never re-sends the webhook); the job
    id makes the same alert go out once."""
    for channel in _channels():
        try:
            enqueue_alert(channel, message, key)
        except (RedisError, OSError) as exc:  # an alert must never break what raised it
            log.warning("could not queue the %s alert (%s)", key, exc)


def task_failed(task: SyncTask) -> None:
    """A task just entered Error (called after the commit that recorded it)."""
    if not enabled():
        return
    store = db.session.get(Store, task.store_id)
    explanation = explain(task)
    where = f"order {task.order.number}" if task.order else f"{task.kind} {target(task)}"
    subject = f"Orderdeck: Walmart {task.kind} failed for {where} ({store.name})"
    text = "\n".join(filter(None, [
        f"Walmart refused the {task.kind} update for {where} in store {store.name}.",
        f"Walmart said: {task.last_error_code or ''} {task.last_error_message or ''}".strip(),
        f"What it means: {explanation.meaning}" if explanation else None,
        f"What to do: {explanation.fix}" if explanation else None,
        _link(f"/sync?state=error&store={store.id}"),
    ]))
    _send(f"task-{task.id}-{task.claims}", {
        "event": "sync_task_error", "store": store.name, "task_id": task.id,
        "kind": task.kind, "target": task.target,
        "order": task.order.number if task.order else None,
        "error_code": task.last_error_code, "subject": subject, "text": text})


def check_import_alerts() -> int:
    """From the sweeper: alert once per failure streak for stores whose import has been
    failing for IMPORT_ALERT_MINUTES. Returns how many alerts were queued."""
    if not enabled():
        return 0
    cutoff = utcnow() - timedelta(minutes=current_app.config["IMPORT_ALERT_MINUTES"])
    stores = db.session.scalars(select(Store).where(
        Store.import_enabled.is_(True), Store.import_failing_since <= cutoff,
        Store.import_alert_sent_at.is_(None))).all()
    sent = 0
    for store in stores:
        # Claimed by a conditional UPDATE: two sweepers never alert twice.
        claimed = db.session.execute(
            update(Store).where(Store.id == store.id, Store.import_alert_sent_at.is_(None))
            .values(import_alert_sent_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        if not claimed:
            continue
        minutes = int((utcnow() - store.import_failing_since).total_seconds() // 60)
        subject = f"Orderdeck: importing orders from {store.name} has failed for {minutes} min"
        text = "\n".join(filter(None, [
            f"No order has been imported from {store.name} for {minutes} minutes "
            f"({store.import_failures} failed attempts in a row).",
            f"Last error: {store.last_import_error}",
            _link("/stores"),
        ]))
        _send(f"import-{store.id}-{int(store.import_failing_since.timestamp())}", {
            "event": "import_failing", "store": store.name, "minutes": minutes,
            "error": store.last_import_error, "subject": subject, "text": text})
        sent += 1
    return sent
