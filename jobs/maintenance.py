"""Housekeeping run by `rq cron`: RQ's own registries and the tables whose rows come and go all
day (every minute, from the sweep), and the database planner's statistics (hourly)."""

from __future__ import annotations

import logging

from rq.registry import (
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)
from sqlalchemy import text

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


# Rows written and deleted all day: the order counts' +1/-1 rows (folded by the sweep) and the
# chart's marks of changed days (consumed by Home). Small tables, read on every Orders page
# and Home.
CHURNED_TABLES = ("order_status_deltas", "day_figures_changes")


@app_job
def vacuum_churned_tables() -> bool:
    """PostgreSQL keeps a deleted row's space until VACUUM, and a read of the whole table goes
    through every page ever filled: a fold after importing a million orders left 18 rows in
    50 MB, and counting them took 30 ms where autovacuum was off or had not come round yet
    (it is on by default, but is often turned off or slowed). A VACUUM of these tables takes a
    millisecond and blocks no writer; the next fold fills the freed pages, and the VACUUM
    after it gives the empty end of the file back (when no reader holds the table just then;
    else the next minute's does). SQLite reuses freed pages by itself."""
    if db.engine.dialect.name != "postgresql":
        return False
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # INDEX_CLEANUP ON: with few dead rows PostgreSQL skips the indexes and leaves the
        # rows' slots taken, and a page with a taken slot keeps the file from shrinking.
        conn.execute(text(f"VACUUM (INDEX_CLEANUP ON) {', '.join(CHURNED_TABLES)}"))
    return True
