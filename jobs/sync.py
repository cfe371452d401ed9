"""Sync jobs: one attempt at one outbox task, and the sweeper."""

from __future__ import annotations

import logging

from jobs.app import app_job
from jobs.maintenance import clean_registries
from webapp.extensions import db
from webapp.services import notifications, sync_engine

log = logging.getLogger(__name__)


@app_job
def run_task(task_id: int) -> str:
    """One attempt; a failure is recorded in the task (and retried by the outbox), then raised."""
    outcome = sync_engine.process_task(task_id)
    if outcome.failed:
        raise sync_engine.SyncFailed(f"task {task_id}: {outcome.state}: {outcome.message}")
    return outcome.state


@app_job
def run_tasks(task_ids: list[int]) -> dict:
    """First attempts of many background tasks (an import page's acknowledgements), one after
    another. Each outcome is written to its task, and the outbox retries what failed, as with
    run_task; a task this job could not finish is the sweeper's once its lease runs out."""
    outcomes: dict[str, int] = {}
    for task_id in task_ids:
        try:
            state = sync_engine.process_task(task_id).state
        except Exception:  # one task's bug must not hold the others back
            log.exception("sync task %s failed in a batch", task_id)
            db.session.rollback()
            state = "crashed"
        outcomes[state] = outcomes.get(state, 0) + 1
    return outcomes


@app_job
def sweep() -> dict:
    """Every minute: dead leases, stuck tasks, due tasks with no job, RQ's started registry,
    and alerts for stores whose import keeps failing."""
    result = sync_engine.sweep()
    result["import_alerts"] = notifications.check_import_alerts()
    result["abandoned_jobs"] = clean_registries()
    return result
