"""What the worker logs: Walmart's expected failures make one line each (they are recorded
where people see them); a bug of ours still fails its job with the traceback."""

from __future__ import annotations

import logging

from simulator import control


def _ship(app, order_id: int) -> int:
    from tests.factories import make_shipment

    with app.app_context():
        return make_shipment(order_id)


def _tracebacks(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.exc_info or "Traceback" in r.getMessage()]


def test_a_walmart_refusal_logs_one_line_without_a_traceback(app, shop, walmart_order, worker,
                                                             caplog):
    """A shipment Walmart refuses (400) is in Error on its task: the worker says so in one
    warning line and the job itself finishes — no traceback, no failed job."""
    from webapp.extensions import db
    from webapp.models import SyncTask

    _store_id, seller = shop
    order_id, _po = walmart_order(shop)
    control.set_faults(seller.sim.conn, "shipping", next={"reject": 1})
    caplog.set_level(logging.INFO)
    task_id = _ship(app, order_id)
    worker()
    with app.app_context():
        assert db.session.get(SyncTask, task_id).state == "error"
    lines = [r for r in caplog.records if r.name == "jobs.sync"]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING
    assert f"sync task {task_id} in Error" in lines[0].getMessage()
    assert "\n" not in lines[0].getMessage()
    assert _tracebacks(caplog) == []
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)


def test_a_walmart_fault_to_be_retried_logs_one_note(app, shop, walmart_order, worker, caplog):
    """A 500 from Walmart is retried by the outbox: one INFO line, nothing louder."""
    _store_id, seller = shop
    order_id, _po = walmart_order(shop)
    control.set_faults(seller.sim.conn, "shipping", next={"error": 1})
    caplog.set_level(logging.INFO)
    task_id = _ship(app, order_id)
    worker()
    lines = [r for r in caplog.records if r.name == "jobs.sync"]
    assert [r.levelno for r in lines] == [logging.INFO]
    assert f"sync task {task_id} to be retried" in lines[0].getMessage()
    assert _tracebacks(caplog) == []


def test_a_bug_of_ours_still_fails_the_job_with_its_traceback(app, shop, walmart_order, worker,
                                                              caplog,
                                                              monkeypatch):
    """An unexpected exception is not swallowed: the job fails and the worker's log has the
    traceback."""
    from rq.registry import FailedJobRegistry

    from jobs.queue import get_queue
    from webapp.services.sync import engine as sync_engine

    order_id, _po = walmart_order(shop)

    def broken(task_id):
        raise RuntimeError("a bug in the sync engine")

    monkeypatch.setattr(sync_engine, "process_task", broken)
    caplog.set_level(logging.INFO)
    _ship(app, order_id)
    worker()
    assert any("a bug in the sync engine" in text for text in _tracebacks(caplog))
    with app.app_context():
        assert FailedJobRegistry(queue=get_queue()).count == 1


def test_a_failed_import_logs_one_line(app, walmart_store, worker, caplog):
    """Walmart failing an import is recorded on the store; the job logs one warning line."""
    from jobs.queue import enqueue
    from webapp.extensions import db
    from webapp.models import Store

    store_id, seller = walmart_store(orders=2)
    control.set_faults(seller.sim.conn, "released", error_rate=1.0)
    control.set_faults(seller.sim.conn, "orders", error_rate=1.0)
    caplog.set_level(logging.INFO)
    with app.app_context():
        enqueue("jobs.imports.import_store", store_id)
    worker()
    with app.app_context():
        assert db.session.get(Store, store_id).last_import_error
    lines = [r for r in caplog.records if r.name == "jobs.imports"]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING
    assert f"store {store_id}: import failed" in lines[0].getMessage()
    assert _tracebacks(caplog) == []
