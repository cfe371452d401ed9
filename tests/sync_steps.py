"""Steps the sync-engine tests take by hand: skip a backoff wait, run one attempt."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update


def make_due(app) -> None:
    """Skip the backoff wait: make every pending task due now."""
    from webapp.extensions import db
    from webapp.models import SyncTask
    from webapp.models.base import utcnow

    with app.app_context():
        db.session.execute(update(SyncTask).where(SyncTask.state == "pending")
                           .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()


def run_task(app, task_id):
    """One attempt at one task, as a job makes it."""
    from webapp.services.sync.engine import process_task

    with app.app_context():
        return process_task(task_id)
