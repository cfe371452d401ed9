"""Worker entry point: `python -m jobs.worker` (one process; start as many as you need)."""

from __future__ import annotations

import sys

from rq import SimpleWorker

from jobs.app import get_app
from jobs.queue import QUEUE_NAME
from webapp.extensions import redis_connection


def main() -> int:
    # SimpleWorker runs jobs in this process: the app, its engine and its Redis connection are
    # built once, instead of once per job as a forking worker would.
    app = get_app()
    with app.app_context():
        connection = redis_connection()
    worker = SimpleWorker([QUEUE_NAME], connection=connection)
    worker.work(with_scheduler=True, logging_level="INFO")
    return 0


if __name__ == "__main__":
    sys.exit(main())
