"""Every read of sync_tasks that a page view, a poll, a stock change or a send makes is served
by an index: tasks are never pruned (millions after a few years), so none may read them all.

Each case runs the real query and asks the database for its plan: on SQLite (which plans
without statistics) no full SCAN of sync_tasks and one of the named indexes; on PostgreSQL,
with sequential scans off (on a few rows it would rightly prefer one), one of the named
indexes. A read of tasks by id may use the primary key instead."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select, text


def _data(app) -> dict:
    """A store with tasks in every state and kind, an order with its tasks, stock rows."""
    from tests.factories import make_store
    from webapp.extensions import db
    from webapp.models import Order, SkuStock, SyncTask

    with app.app_context():
        store = make_store()
        order = Order(store_id=store.id, purchase_order_id="PO-1", number="1001")
        db.session.add(order)
        specs = [("acknowledge", "synced", "PO-1", order), ("ship", "error", "PO-1", order),
                 ("ship", "pending", "PO-1", order), ("refund", "resolved", "RMA-1", None),
                 ("ship", "corrected", "PO-1", order), ("inventory", "synced", "SKU-1", None),
                 ("inventory", "error", "SKU-1", None), ("inventory", "pending", "SKU-1", None),
                 ("inventory", "pending", "SKU-2", None)]
        tasks = []
        for kind, state, target, owner in specs:
            task = SyncTask(store_id=store.id, kind=kind, target=target, state=state)
            if owner is not None:
                task.order = owner
            tasks.append(task)
        db.session.add_all(tasks)
        db.session.add_all([SkuStock(store_id=store.id, sku=sku, ship_node=node, on_hand=5)
                            for sku, node in (("SKU-1", ""), ("SKU-2", ""), ("SKU-1", "N2"))])
        db.session.commit()
        return {"store": store.id, "order": order.id, "tasks": [t.id for t in tasks]}


def _sync_page(**filters):
    def run(data):
        from webapp.services.sync import queries

        f = queries.TaskFilter(**{k: data["store"] if v == "store" else v
                                  for k, v in filters.items()})
        queries.page(f)
        queries.state_counts(f)
    return run


def _sync_page_after(data):
    from webapp.services.sync import queries

    f = queries.TaskFilter()
    queries.page(f, after=queries.page(f).next_cursor or f"settled-{max(data['tasks'])}")
    queries.page(f, before=f"settled-{min(data['tasks'])}")


def _stock_page(data):
    from webapp.services.stock.listing import list_stock

    assert list_stock(data["store"]).tasks


def _request_push(data):
    from webapp.extensions import db
    from webapp.models import SkuStock
    from webapp.services.stock import levels

    stock = db.session.scalars(select(SkuStock).where(SkuStock.sku == "SKU-1")).first()
    assert levels.request_push(stock) is None  # one is waiting already


def _earlier_pending(kind: str):
    def run(data):
        from webapp.extensions import db
        from webapp.models import SyncTask
        from webapp.services.sync.engine import _earlier_pending

        task = SyncTask(id=max(data["tasks"]) + 1, store_id=data["store"], kind=kind,
                        target="SKU-1" if kind == "inventory" else "PO-1",
                        order_id=None if kind == "inventory" else data["order"])
        assert _earlier_pending(task) is not None
        db.session.expunge_all()
    return run


def _stock_file(data):
    from webapp.services.stock.levels import _write_on_hand

    _write_on_hand(data["store"], {("SKU-1", ""): 7, ("SKU-3", ""): 2})


def _default_node(data):
    from webapp.extensions import db
    from webapp.models import Store
    from webapp.services.stock.default_node import change_default

    change_default(db.session.get(Store, data["store"]), "N2")


def _read_write(data):
    from webapp.extensions import db
    from webapp.models import Store
    from webapp.services.stores.mode import set_read_write

    store = db.session.get(Store, data["store"])
    store.read_only = True
    db.session.commit()
    set_read_write(store, by=None)


def _credentials_back(data):
    from webapp.extensions import db
    from webapp.models import Store
    from webapp.models.base import utcnow
    from webapp.services.stores.credentials import resume_updates

    store = db.session.get(Store, data["store"])
    store.credentials_problem, store.credentials_failed_at = "refused", utcnow()
    db.session.commit()
    assert resume_updates(data["store"], checked_by=data["tasks"][0])


# Holds pending tasks only: always a short read (PostgreSQL counts the pending ones with it).
PENDING_ONLY = "ix_sync_tasks_pending"
STORE_PENDING = ("ix_sync_tasks_store_state", PENDING_ONLY)
CASES = {
    "sync page": (_sync_page(), ["ix_sync_tasks_state"]),
    "sync page of a state": (_sync_page(state="synced"), ["ix_sync_tasks_state"]),
    "sync page of a store": (_sync_page(store_id="store"), ["ix_sync_tasks_store_state"]),
    "sync page of a kind": (_sync_page(kind="refund"), ["ix_sync_tasks_kind_state"]),
    "sync page of a store's kind": (_sync_page(store_id="store", kind="refund"),
                                    ["ix_sync_tasks_kind_state"]),
    # (either target index: PostgreSQL without statistics may filter the state instead)
    "sync page search": (_sync_page(q="SKU-1"), ["ix_sync_tasks_target", "ix_sync_tasks_order"]),
    "sync page search by order number": (_sync_page(q="1001", state="error"),
                                         ["ix_sync_tasks_target", "ix_sync_tasks_order"]),
    "sync page search of a store's kind": (_sync_page(q="SKU-1", store_id="store",
                                                      kind="inventory"),
                                           ["ix_sync_tasks_target", "ix_sync_tasks_order"]),
    "sync pages after and before": (_sync_page_after, ["ix_sync_tasks_state"]),
    "stock page's newest pushes": (_stock_page, ["ix_sync_tasks_target"]),
    "a stock change's waiting push": (_request_push, ["ix_sync_tasks_pending"]),
    "a push's earlier one": (_earlier_pending("inventory"), ["ix_sync_tasks_pending"]),
    "an order update's earlier one": (_earlier_pending("ship"), ["ix_sync_tasks_order"]),
    "a stock file's waiting pushes": (_stock_file, STORE_PENDING),
    "a default node's waiting pushes": (_default_node, STORE_PENDING),
    "read-write again": (_read_write, STORE_PENDING + ("ix_sync_tasks_order",)),
    "credentials working again": (_credentials_back, STORE_PENDING),
}


def _reads(conn, statement: str, parameters) -> list[str]:
    """How the plan reads sync_tasks, one entry per read: the index's name, "by id" (the
    primary key, or any index sought by id, for a statement that names its ids) or "scan"."""
    by_id = "sync_tasks.id IN" in statement or "sync_tasks.id =" in statement
    if conn.dialect.name == "sqlite":
        reads = []
        for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters):
            step = row[-1]
            if not re.match(r"(SEARCH|SCAN) sync_tasks\b", step):
                continue
            index = re.search(r"USING (?:COVERING )?INDEX (\w+)", step)
            if step.startswith("SCAN"):
                reads.append("scan")
            elif "(rowid=?)" in step or " id=?" in step:
                reads.append("by id")
            else:
                reads.append(index.group(1) if index else step)
        return reads
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
    reads = ["scan"] * len(re.findall(r"Seq Scan on sync_tasks", plan))
    for name in re.findall(r"(?:using|on) (ix_sync_tasks_\w+|pk_sync_tasks)", plan):
        reads.append("by id" if name == "pk_sync_tasks" and by_id else name)
    return reads


def _check(app, case: str) -> None:
    """Run the case and assert each of its reads of sync_tasks is through one of its indexes
    (or by id)."""
    from webapp.extensions import db

    run, indexes = CASES[case]
    data = _data(app)
    with app.app_context():
        ran = []

        def keep(conn, cursor, statement, parameters, context, executemany):
            if "sync_tasks" in statement and statement.lstrip().startswith("SELECT"):
                ran.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", keep)
        try:
            run(data)
        finally:
            event.remove(db.engine, "before_cursor_execute", keep)
        db.session.rollback()
        assert ran
        conn = db.session.connection()
        for statement, parameters in ran:
            reads = _reads(conn, statement, parameters)
            assert reads and all(r in ("by id", PENDING_ONLY) or r.startswith(tuple(indexes))
                                 for r in reads), (case, reads, statement)
        db.session.rollback()


@pytest.mark.parametrize("case", list(CASES))
def test_reads_of_sync_tasks_use_an_index(app, case):
    """Each read of sync_tasks the case makes is through one of its indexes, or by id."""
    _check(app, case)


def test_sqlite_plans_do_not_hang_on_the_order_the_indexes_were_made(tmp_path, redis_url):
    """SQLite breaks a tie between two equally good indexes by taking the one made last (a
    later migration that rebuilds sync_tasks may make them in another order). With the broad
    indexes made last — the store's, the state's — every case still reads through its own."""
    from flask_migrate import upgrade

    from tests.conftest import _settings
    from webapp import create_app
    from webapp.extensions import db

    app = create_app(_settings(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}", redis_url, tmp_path))
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            for name in ("ix_sync_tasks_target_state", "ix_sync_tasks_kind_state",
                         "ix_sync_tasks_store_state", "ix_sync_tasks_state"):
                sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = ?",
                                           (name,)).scalar()
                conn.exec_driver_sql(f"DROP INDEX {name}")
                conn.exec_driver_sql(sql)
    try:
        for case in CASES:
            _check(app, case)
            with app.app_context():
                from tests.conftest import _empty_tables
                _empty_tables(db)
    finally:
        with app.app_context():
            db.engine.dispose()
