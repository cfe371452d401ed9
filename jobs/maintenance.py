"""Housekeeping run by `rq cron`: RQ's own registries (every minute, from the sweep) and the
database planner's statistics (hourly)."""

from __future__ import annotations

import logging

from rq.registry import (
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)

from jobs.app import app_job
from jobs.queue import get_queue
from webapp.extensions import db

log = logging.getLogger(__name__)


@app_job
def clean_registries() -> int:
    """Move jobs of dead workers out of 'started' promptly (RQ alone takes up to ~18 min)."""
    queue = get_queue()
    before = _started(queue)
    for registry in (StartedJobRegistry, FinishedJobRegistry, FailedJobRegistry,
                     DeferredJobRegistry, ScheduledJobRegistry):
        registry(queue=queue).cleanup()
    after = _started(queue)
    if before != after:
        log.info("registry cleanup: %d abandoned job(s) moved out of 'started'", before - after)
    return before - after


def _started(queue) -> int:
    # Not `.count`: RQ cleans the registry up before counting, so before == after always.
    return len(StartedJobRegistry(queue=queue).get_job_ids(cleanup=False))


# Rows ANALYZE samples per index: enough for the planner to tell a selective index from one
# that narrows nothing, in milliseconds at a million orders (a full ANALYZE reads every row).
ANALYSIS_LIMIT = 1000


@app_job
def refresh_planner_statistics() -> bool:
    """SQLite chooses indexes from the statistics ANALYZE leaves, and has none until someone
    runs it: it may then read a one-store shop's years of orders through the store index when
    a date index returns ten rows. PostgreSQL's autovacuum keeps its own statistics (False)."""
    if db.engine.dialect.name != "sqlite":
        return False
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        conn.exec_driver_sql("ANALYZE")
    return True
