"""`python -m jobs.worker` for bench.load, also noting each job's queue delay.

    .venv/bin/python -m bench.load_worker

The same SimpleWorker on the same queue with RQ's scheduler, built as `jobs/worker.py` builds
it; after each job it appends the job's id, function, `enqueued_at`, `started_at` and end to a
Redis list (one RPUSH). Neither RQ nor the outbox keeps these once the load is over: sync jobs are
enqueued with `result_ttl=0`, so RQ deletes a job the moment it succeeds (its registries never
list it), and a sync task records when it was created and synced, not when a worker took it.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime

from rq import SimpleWorker

from jobs.app import get_app
from jobs.queue import QUEUE_NAME
from webapp.extensions import redis_connection

TIMES_KEY = "bench-load:job-times"


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class TimedWorker(SimpleWorker):
    """RQ's SimpleWorker; `started_at` is set by RQ inside perform_job, read after it."""

    def perform_job(self, job, queue, execution) -> bool:
        try:
            return super().perform_job(job, queue, execution)
        finally:
            if job.enqueued_at and job.started_at:
                self.connection.rpush(TIMES_KEY, json.dumps(
                    [job.id, job.func_name, _epoch(job.enqueued_at), _epoch(job.started_at),
                     time.time()]))


def main() -> int:
    app = get_app()
    with app.app_context():
        connection = redis_connection()
    worker = TimedWorker([QUEUE_NAME], connection=connection)
    worker.work(with_scheduler=True, logging_level="INFO")
    return 0


def job_times(connection) -> list[tuple[str, str, float, float, float]]:
    """(job id, function, enqueued_at, started_at, ended) of every job the workers ran, as
    epochs."""
    return [tuple(json.loads(raw)) for raw in connection.lrange(TIMES_KEY, 0, -1)]


if __name__ == "__main__":
    sys.exit(main())
