"""The only module that enqueues: jobs by dotted name, after the caller's commit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rq import Queue
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry

from webapp.extensions import redis_connection

QUEUE_NAME = "orderdeck"
SCHEDULER_LATE = timedelta(seconds=5)  # RQ's scheduler moves due jobs every second


def get_queue() -> Queue:
    return Queue(QUEUE_NAME, connection=redis_connection())


def enqueue(func: str, *args: Any, job_id: str | None = None, at: datetime | None = None,
            unique: bool = False, **options: Any) -> Job | None:
    """Enqueue `func` (a dotted path) with plain arguments (ids, never ORM objects).

    `at` schedules it with RQ's scheduler. With `unique=True` and a `job_id`, enqueuing an id
    that RQ still holds is a no-op (returns None) instead of a second run — for scheduled jobs
    too, atomically (RQ's `enqueue_at` alone would ignore `unique`) — except that asking to run
    now a scheduled job that no scheduler moved in time moves it to the queue.
    """
    queue = get_queue()
    if "job_timeout" in options:  # create_job names it `timeout`
        options["timeout"] = options.pop("job_timeout")
    for _ in range(2):
        job = queue.create_job(func, args=args, job_id=job_id, **options)
        try:
            if at is not None:
                return queue.schedule_job(job, at, unique=unique)
            return queue.enqueue_job(job, unique=unique)
        except DuplicateJobError:
            if at is None and (overdue := _run_if_overdue(queue, job_id)) is not None:
                return overdue
            # A job that ended (failed before it could do anything, say) still holds its id
            # for its TTL: it is no reason to keep the work waiting. A live one is.
            if not _drop_if_ended(queue, job_id):
                return None
    return None


def enqueue_new(func: str, calls: list[tuple[tuple, str]], **options: Any) -> int:
    """Enqueue many jobs that have never been enqueued before (new tasks' first attempts), in
    one Redis round trip: [(args, job_id)]. Without `unique`'s per-job check: a job id that
    somehow existed already (a database restored over a live Redis) at worst runs a task
    twice, and the task's conditional claim lets only one of them act."""
    if not calls:
        return 0
    queue = get_queue()
    if "job_timeout" in options:
        options["timeout"] = options.pop("job_timeout")
    return len(queue.enqueue_many([Queue.prepare_data(func, args=args, job_id=job_id, **options)
                                   for args, job_id in calls]))


def _run_if_overdue(queue: Queue, job_id: str | None) -> Job | None:
    """A scheduled job long past its time has no scheduler to move it (the worker that ran
    the scheduler was killed, and its lock keeps another from taking over for minutes):
    asked to run it now, move it to the queue ourselves."""
    registry = ScheduledJobRegistry(queue=queue)
    try:
        due = registry.get_scheduled_time(job_id)
    except NoSuchJobError:
        return None
    if due > datetime.now(UTC) - SCHEDULER_LATE or not registry.remove(job_id):
        return None  # a live scheduler moves it in time (or just did)
    try:
        job = Job.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:
        return None
    queue.enqueue_job(job)
    return job


def _drop_if_ended(queue: Queue, job_id: str | None) -> bool:
    try:
        old = Job.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:
        return True
    if old.get_status() in (JobStatus.FAILED, JobStatus.FINISHED, JobStatus.STOPPED,
                            JobStatus.CANCELED):
        old.delete()
        return True
    return False


def promote(job_id: str) -> bool:
    """Move a job from the queue's tail (or RQ's schedule) to the front of the queue."""
    queue = get_queue()
    try:
        job = Job.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:
        return False
    if job.get_status() not in (JobStatus.QUEUED, JobStatus.SCHEDULED):
        return False
    ScheduledJobRegistry(queue=queue).remove(job)
    queue.connection.lrem(queue.key, 0, job.id)
    queue.enqueue_job(job, at_front=True)
    return True
