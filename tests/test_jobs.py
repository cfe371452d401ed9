"""Jobs infrastructure: one enqueue path, unique job ids, a real RQ worker, cron schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rq import SimpleWorker
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

from jobs.queue import QUEUE_NAME, enqueue, get_queue


def _work(app):
    from webapp.extensions import redis_connection

    with app.app_context():
        worker = SimpleWorker([QUEUE_NAME], connection=redis_connection())
    return worker.work(burst=True)


def test_enqueued_job_runs_in_a_real_worker_with_the_app(app_ctx):
    """A job enqueued by name runs in an RQ worker, inside an app context."""
    job = enqueue("tests.jobs_for_tests.which_database")
    assert _work(app_ctx)
    job.refresh()
    assert job.get_status() == "finished"
    assert job.return_value() == app_ctx.config["SQLALCHEMY_DATABASE_URI"]


def test_a_unique_job_id_runs_once_even_when_enqueued_twice(app_ctx):
    """Enqueuing the same id twice with unique=True is a no-op the second time."""
    first = enqueue("tests.jobs_for_tests.which_database", job_id="sync-7-1", unique=True)
    second = enqueue("tests.jobs_for_tests.which_database", job_id="sync-7-1", unique=True)
    assert first is not None and second is None
    assert get_queue().count == 1


def test_a_scheduled_unique_job_is_not_scheduled_twice(app_ctx):
    """enqueue(at=…) honours unique=True too (RQ's enqueue_at alone ignores it)."""
    at = datetime.now(UTC) + timedelta(minutes=5)
    assert enqueue("tests.jobs_for_tests.which_database", job_id="sync-8-2", at=at, unique=True)
    assert enqueue("tests.jobs_for_tests.which_database", job_id="sync-8-2", at=at,
                   unique=True) is None
    assert ScheduledJobRegistry(queue=get_queue()).get_job_ids() == ["sync-8-2"]


def test_registry_cleanup_moves_a_dead_workers_job_out_of_started(app_ctx):
    """A job left 'started' by a killed worker is moved out by the cron cleanup job."""
    from jobs.maintenance import clean_registries

    queue = get_queue()
    job = queue.enqueue("tests.jobs_for_tests.which_database", job_id="orphan")
    queue.connection.lpop(queue.key)  # a worker took it and died holding it: the job reads
    job.set_status(JobStatus.STARTED)  # started, its entry in 'started' has a heartbeat long
    registry = StartedJobRegistry(queue=queue)  # expired (RQ 3 fails only a started job)
    registry.connection.zadd(registry.key, {f"{job.id}:exec": 1})
    assert "orphan" in registry.get_job_ids(cleanup=False)
    assert clean_registries() == 1  # the orphan
    assert "orphan" not in StartedJobRegistry(queue=queue).get_job_ids()
    assert Job.fetch("orphan", connection=queue.connection).get_status() == "failed"


def test_cron_schedule_registers_the_sweeper_and_the_import():
    """`rq cron jobs.cron_schedule` runs the sweeper every minute and the import every 2, and
    the reconciliation nightly (a cron line)."""
    from rq import cron

    cron._job_data_registry.clear()
    import importlib

    import jobs.cron_schedule
    importlib.reload(jobs.cron_schedule)
    entries = {(d["func"].__name__, d["queue_name"], d["interval"] or d.get("cron"))
               for d in cron._job_data_registry}
    assert entries == {("sweep", QUEUE_NAME, 60), ("import_all", QUEUE_NAME, 120),
                       ("import_all_returns", QUEUE_NAME, 300),
                       ("refresh_planner_statistics", QUEUE_NAME, 3600),
                       ("reconcile_all", QUEUE_NAME, "30 3 * * *")}


def test_the_planner_statistics_job_gives_sqlite_what_it_chooses_indexes_by(app,
                                                                              walmart_store):
    """SQLite has no statistics until ANALYZE runs: the hourly job leaves them (sampled), so
    Stores' "imported today" takes the created_at index rather than the store index, through
    every order; PostgreSQL keeps its own (autovacuum): the job does nothing there."""
    from sqlalchemy import insert, text

    from jobs.maintenance import refresh_planner_statistics
    from webapp.extensions import db
    from webapp.models import Order

    store_id, _seller = walmart_store()
    with app.app_context():
        db.session.execute(insert(Order), [
            {"store_id": store_id, "purchase_order_id": f"{n:015d}", "currency": "USD"}
            for n in range(200)])
        db.session.commit()
        ran = refresh_planner_statistics()
        if db.engine.dialect.name != "sqlite":
            assert ran is False
            return
        assert ran is True
        assert db.session.scalar(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'orders'"))


def test_a_failed_jobs_id_does_not_block_the_work(app_ctx):
    """A job that failed keeps its id in Redis for a day; enqueuing that id again (the
    sweeper retrying the task) replaces it instead of silently doing nothing."""
    enqueue("tests.jobs_for_tests.fails", job_id="sync-9-1", unique=True)
    _work(app_ctx)
    assert Job.fetch("sync-9-1", connection=get_queue().connection).get_status() == "failed"
    again = enqueue("tests.jobs_for_tests.which_database", job_id="sync-9-1", unique=True)
    assert again is not None and again.get_status() == "queued"


def test_a_reconciliation_slice_waiting_under_a_second_is_still_queued(app_ctx):
    """The slice running a pass (its job id from its own time) asks for the next one half a
    second later (a bucket refilling, a quick retry): that is another job, queued; the same
    slice asked for twice (by the slice before it and by the sweeper) is queued once."""
    from jobs.queue import enqueue_reconcile

    now = datetime.now(UTC).replace(microsecond=100_000)
    running = enqueue_reconcile(7, at=now)
    following = enqueue_reconcile(7, at=now + timedelta(milliseconds=500))
    assert running is not None and following is not None and following.id != running.id
    assert enqueue_reconcile(7, at=now + timedelta(milliseconds=500)) is None


def test_the_worker_fixture_refuses_to_run_beside_another_worker(app, worker):
    """worker() fails the test while another worker listens on the queue (a browser test's
    live_worker): its burst would end before the jobs the other one took, and the test's
    next step would race them."""
    from webapp.extensions import redis_connection

    worker()  # alone on the queue: runs
    with app.app_context():
        other = SimpleWorker([QUEUE_NAME], connection=redis_connection())
    other.register_birth()  # as a worker process does when it starts
    try:
        with pytest.raises(pytest.fail.Exception, match="other worker"):
            worker()
    finally:
        other.register_death()
