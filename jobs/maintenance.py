"""Housekeeping of RQ's own registries, run by `rq cron` every minute."""

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
