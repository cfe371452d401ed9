"""Status, state, kind and role columns load as their enums and store the same plain strings."""

from __future__ import annotations

from sqlalchemy import insert, select, text, update

from tests.factories import make_store


def test_enum_columns_store_plain_values_and_load_members(app_ctx):
    """Members are written as their values (the VARCHARs of before) and read back as members."""
    from webapp.extensions import db
    from webapp.models import (
        Order,
        OrderStatus,
        Return,
        ReturnStatus,
        SyncTask,
        TaskKind,
        TaskState,
    )

    store = make_store()
    order = Order(store_id=store.id, purchase_order_id="PO-1",
                  status=OrderStatus.PARTIALLY_SHIPPED)
    task = SyncTask(store_id=store.id, kind=TaskKind.SHIP, target="PO-1")
    ret = Return(store_id=store.id, rma="RMA-1", customer_order_id="C-1",
                 status=ReturnStatus.REFUNDED)
    db.session.add_all([order, task, ret])
    db.session.commit()

    raw = db.session.execute(text(
        "SELECT o.status, t.kind, t.state, r.status FROM orders o, sync_tasks t, returns r"
    )).one()
    assert [type(v) for v in raw] == [str] * 4
    assert tuple(raw) == ("Partially Shipped", "ship", "pending", "Refunded")

    db.session.expire_all()
    assert db.session.get(Order, order.id).status is OrderStatus.PARTIALLY_SHIPPED
    assert db.session.get(SyncTask, task.id).state is TaskState.PENDING
    assert db.session.get(Return, ret.id).status is ReturnStatus.REFUNDED


def test_plain_strings_raw_sql_and_bulk_statements_still_work(app_ctx):
    """A plain string assigned, a raw SQL row, and bulk insert()/update() values all load as
    members; where clauses accept strings and members alike."""
    from webapp.extensions import db
    from webapp.models import SyncTask, TaskKind, TaskState

    store = make_store()
    task = SyncTask(store_id=store.id, kind="cancel", target="PO-1")
    db.session.add(task)
    db.session.flush()
    task.state = "error"
    db.session.execute(insert(SyncTask), [
        {"store_id": store.id, "kind": "refund", "target": "RMA-1", "state": "synced"},
        {"store_id": store.id, "kind": TaskKind.INVENTORY, "target": "SKU-1",
         "state": TaskState.PENDING}])
    db.session.execute(text(
        "INSERT INTO sync_tasks (store_id, kind, target, state, attempts, read_backs, "
        "attempts_before_retry, claims, next_attempt_at, ambiguous, stuck, urgent, created_at, "
        "updated_at, paused_seconds) VALUES (:s, 'ack' || 'nowledge', 'PO-2', 'resolved', 0, 0, "
        "0, 0, CURRENT_TIMESTAMP, false, false, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0)"),
        {"s": store.id})
    db.session.execute(update(SyncTask).where(SyncTask.kind == "inventory")
                       .values(state="corrected"))
    db.session.commit()
    db.session.expire_all()

    rows = db.session.execute(select(SyncTask.kind, SyncTask.state).order_by(SyncTask.id)).all()
    assert rows == [(TaskKind.CANCEL, TaskState.ERROR), (TaskKind.REFUND, TaskState.SYNCED),
                    (TaskKind.INVENTORY, TaskState.CORRECTED),
                    (TaskKind.ACKNOWLEDGE, TaskState.RESOLVED)]
    assert all(isinstance(k, TaskKind) and isinstance(s, TaskState) for k, s in rows)
    assert db.session.scalar(select(SyncTask.target).where(
        SyncTask.state == TaskState.ERROR, SyncTask.kind == "cancel")) == "PO-1"
