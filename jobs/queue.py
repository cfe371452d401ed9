"""The only module that enqueues: jobs by dotted name, after the caller's commit.

Callers use the named functions at the end (`enqueue_sync_task`, `enqueue_store_import` …):
the dotted names live here only. This module imports no service and no job module, so
services may call it (after their commit) without a cycle; the job modules import services.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry

from webapp.extensions import redis_connection

QUEUE_NAME = "orderdeck"
SCHEDULER_LATE = timedelta(seconds=5)  # RQ's scheduler moves due jobs every second

# The job functions, by dotted name (a worker imports them; this module does not).
SYNC_TASK = "jobs.sync.run_task"
SYNC_BATCH = "jobs.sync.run_tasks"
STORE_IMPORT = "jobs.imports.import_store"
RETURNS_IMPORT = "jobs.imports.import_returns"
ALERT = "jobs.notify.deliver"
WALMART_EVENT = "jobs.imports.handle_walmart_event"
WALMART_EVENT_TIMEOUT = 120
RECONCILE = "jobs.reconcile.run_slice"
RECONCILE_ADOPT = "jobs.reconcile.adopt"
RECONCILE_TIMEOUT = 300  # a slice works RECONCILE_SLICE_SECONDS (20 s by default)
STORE_IMPORT_TIMEOUT = 1800
RETURNS_IMPORT_TIMEOUT = 900


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


def enqueue_sync_task(task_id: int, job_id: str, *, at: datetime | None = None,
                      job_timeout: int) -> Job | None:
    """One attempt of a sync task (job id = task id + attempt: a second enqueue is a no-op)."""
    return enqueue(SYNC_TASK, task_id, job_id=job_id, unique=True, at=at, result_ttl=0,
                   failure_ttl=86400, job_timeout=job_timeout)


def enqueue_new_sync_tasks(task_ids: list[int], *, job_timeout: int) -> int:
    """The first attempts of new sync tasks, in one Redis round trip (see enqueue_new)."""
    return enqueue_new(SYNC_TASK, [((task_id,), f"sync-{task_id}-1") for task_id in task_ids],
                       result_ttl=0, failure_ttl=86400, job_timeout=job_timeout)


def enqueue_sync_batch(task_ids: list[int], *, job_timeout: int) -> Job | None:
    """New sync tasks sent one after the other by one job (a page's acknowledgements)."""
    return enqueue(SYNC_BATCH, task_ids, job_id=f"sync-batch-{task_ids[0]}-{task_ids[-1]}",
                   result_ttl=0, failure_ttl=86400, job_timeout=job_timeout)


def enqueue_store_import(store_id: int, trigger: str = "schedule", run_id: int | None = None,
                         *, at: datetime | None = None) -> Job | None:
    """An import pass of one store's orders (`run_id`: the run a person's Import now made)."""
    args = (store_id, trigger) if run_id is None else (store_id, trigger, run_id)
    return enqueue(STORE_IMPORT, *args, at=at, job_timeout=STORE_IMPORT_TIMEOUT)


def enqueue_returns_import(store_id: int, *, at: datetime | None = None) -> Job | None:
    """A returns pass of one store."""
    return enqueue(RETURNS_IMPORT, store_id, at=at, job_timeout=RETURNS_IMPORT_TIMEOUT)


def enqueue_alert(channel: str, message: dict[str, Any], key: str) -> Job | None:
    """One alert on one channel, sent once per key (job id), retried by RQ while the webhook
    or the mail server is down."""
    return enqueue(ALERT, channel, message, job_id=f"notify-{key}-{channel}", unique=True,
                   retry=Retry(max=5, interval=[10, 60, 300, 900, 1800]), result_ttl=86400,
                   failure_ttl=7 * 86400)


def enqueue_walmart_event(event_id: int, due: datetime, *, at: datetime | None = None
                          ) -> Job | None:
    """Handle one stored Walmart notification (read its order back). The job id names the
    attempt by the time it is due, so the receiving request, a retry scheduled by the job and
    the sweeper asking for the same attempt queue it once."""
    return enqueue(WALMART_EVENT, event_id,
                   job_id=f"walmart-event-{event_id}-{int(due.timestamp() * 1000)}",
                   unique=True, at=at, result_ttl=0, failure_ttl=86400,
                   job_timeout=WALMART_EVENT_TIMEOUT)


def enqueue_reconcile(run_id: int, *, at: datetime | None = None) -> Job | None:
    """The next slice of a reconciliation pass (job id = run and time: asked twice for the
    same slice, by the slice before it and by the sweeper, it is queued once). In
    milliseconds: a slice that waits less than a second (a bucket refilling, a quick retry)
    would otherwise get the id of the job still running it, and not be queued at all — the
    pass then stalled until the sweeper came round."""
    stamp = int((at or datetime.now(UTC)).timestamp() * 1000)
    return enqueue(RECONCILE, run_id, job_id=f"reconcile-{run_id}-{stamp}", unique=True,
                   at=at, result_ttl=0, failure_ttl=86400, job_timeout=RECONCILE_TIMEOUT)


def enqueue_reconcile_adopt(finding_id: int, attempt: int = 1, *,
                            at: datetime | None = None) -> Job | None:
    """Adopt Walmart's state for one difference (read Walmart again, then apply)."""
    return enqueue(RECONCILE_ADOPT, finding_id, attempt,
                   job_id=f"reconcile-adopt-{finding_id}-{attempt}", unique=True, at=at,
                   result_ttl=0, failure_ttl=86400, job_timeout=120)
