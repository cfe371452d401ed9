"""Sync jobs: one attempt at one outbox task, and the sweeper."""

from __future__ import annotations

from jobs.app import app_job
from jobs.maintenance import clean_registries
from webapp.services import notifications, sync_engine


@app_job
def run_task(task_id: int) -> str:
    """One attempt; a failure is recorded in the task (and retried by the outbox), then raised."""
    outcome = sync_engine.process_task(task_id)
    if outcome.failed:
        raise sync_engine.SyncFailed(f"task {task_id}: {outcome.state}: {outcome.message}")
    return outcome.state


@app_job
def sweep() -> dict:
    """Every minute: dead leases, stuck tasks, due tasks with no job, RQ's started registry,
    and alerts for stores whose import keeps failing."""
    result = sync_engine.sweep()
    result["import_alerts"] = notifications.check_import_alerts()
    result["abandoned_jobs"] = clean_registries()
    return result
