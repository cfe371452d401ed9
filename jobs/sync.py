"""Sync jobs: one attempt at one outbox task, and the sweeper."""

from __future__ import annotations

import logging

from jobs import reconcile as reconcile_jobs
from jobs.app import app_job
from jobs.maintenance import clean_registries, vacuum_churned_tables
from webapp.extensions import db
from webapp.services.orders import events, status_counts
from webapp.services.stores import notifications
from webapp.services.sync import engine as sync_engine

log = logging.getLogger(__name__)


@app_job
def run_task(task_id: int) -> str:
    """One attempt. Walmart's refusals and faults are expected: recorded on the task (shown to
    people there, retried by the outbox), they make one log line, not a failed job with a
    traceback. A bug of ours (any other exception) still fails the job with its traceback."""
    outcome = sync_engine.process_task(task_id)
    if outcome.failed:
        log_outcome(task_id, outcome)
    return outcome.state


def log_outcome(task_id: int, outcome: sync_engine.Outcome) -> None:
    """One line: a warning when a person must act (Error), else a note (retried by itself)."""
    level = logging.WARNING if outcome.state == "error" else logging.INFO
    what = "in Error" if outcome.state == "error" else "to be retried"
    message = " ".join(outcome.message.split())  # Walmart's text may hold line breaks
    log.log(level, "sync task %s %s (recorded on the task): %s", task_id, what, message[:300])


@app_job
def run_tasks(task_ids: list[int]) -> dict:
    """First attempts of many background tasks (an import page's acknowledgements), one after
    another. Each outcome is written to its task, and the outbox retries what failed, as with
    run_task; a task this job could not finish is the sweeper's once its lease runs out."""
    outcomes: dict[str, int] = {}
    for task_id in task_ids:
        try:
            outcome = sync_engine.process_task(task_id)
            state = outcome.state
            if outcome.failed:
                log_outcome(task_id, outcome)
        except Exception:  # one task's bug must not hold the others back
            log.exception("sync task %s failed in a batch", task_id)
            db.session.rollback()
            state = "crashed"
        outcomes[state] = outcomes.get(state, 0) + 1
    return outcomes


@app_job
def sweep() -> dict:
    """Every minute: dead leases, stuck tasks, due tasks with no job, RQ's started registry,
    alerts for stores whose import keeps failing, the order counts' rows folded (and, on
    PostgreSQL, the tables that churn vacuumed: jobs/maintenance.py), Walmart notifications
    stored without a job (Redis was away) handed to one, and so are the reconciliation passes
    whose next slice is overdue."""
    result = sync_engine.sweep()
    result["import_alerts"] = notifications.check_import_alerts()
    result["abandoned_jobs"] = clean_registries()
    result["status_counts_folded"] = status_counts.fold()
    result["churned_tables_vacuumed"] = vacuum_churned_tables()
    result["walmart_events_queued"] = events.queue_due()  # stored while Redis was away
    result["walmart_events_pruned"] = events.prune()
    result["reconcile_runs_queued"] = reconcile_jobs.queue_due()
    return result
