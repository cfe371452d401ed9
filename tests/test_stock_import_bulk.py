"""A large stock CSV imports in bulk statements, and a change made meanwhile is kept."""

from __future__ import annotations

import threading
import time

from sqlalchemy import event, func, select

ROWS = 20_000


def _csv(rows: int = ROWS) -> str:
    return "sku,quantity\n" + "".join(f"BULK-{n:05d},{n % 50}\n" for n in range(rows))


def _pushes(store_id: int) -> list[tuple[str, str | None]]:
    from webapp.extensions import db
    from webapp.models import SyncTask, TaskKind
    from webapp.services.stock.levels import TASK_NODE

    return sorted(db.session.execute(select(SyncTask.target, TASK_NODE).where(
        SyncTask.store_id == store_id, SyncTask.kind == TaskKind.INVENTORY.value)).all())


def test_a_20000_row_file_imports_and_a_concurrent_change_is_kept(app):
    """Another person's stock change made once a 20,000-row stock CSV started writing (another
    thread, its own session) succeeds and is kept, beside every imported quantity."""
    from tests.factories import make_store
    from webapp.extensions import db
    from webapp.models import SkuStock
    from webapp.services.stock import levels as stock

    with app.app_context():
        store_id = make_store().id
        stock.set_on_hand(store_id, "BULK-00002", 9, by=None)
        engine = db.engine
    writing, outcome = threading.Event(), {}

    def first_write(_conn, _cursor, statement, *_args) -> None:
        """The import has started writing stock rows: it holds SQLite's write lock now."""
        if threading.current_thread().name == "import" and statement.lstrip().upper() \
                .startswith(("INSERT INTO SKU_STOCK", "UPDATE SKU_STOCK")):
            writing.set()

    def import_file():
        with app.app_context():
            begun = time.perf_counter()
            try:
                outcome["imported"] = stock.import_csv(store_id, _csv(), by=None)
            except Exception as exc:  # noqa: BLE001  (the assertion below shows it)
                outcome["import error"] = repr(exc)
            outcome["seconds"] = time.perf_counter() - begun
            db.session.remove()

    def change_meanwhile():
        writing.wait(600)
        with app.app_context():
            try:
                stock.set_on_hand(store_id, "ELSEWHERE", 7, by=None)
                stock.change_reserved(store_id, "BULK-00002", 3)
                db.session.commit()
                outcome["changed"] = True
            except Exception as exc:  # noqa: BLE001
                outcome["change error"] = repr(exc)
            db.session.remove()

    threads = [threading.Thread(target=import_file, name="import"),
               threading.Thread(target=change_meanwhile)]
    event.listen(engine, "before_cursor_execute", first_write)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
    finally:
        event.remove(engine, "before_cursor_execute", first_write)
    print(f"\n{ROWS} stock rows imported in {outcome.get('seconds', 0):.2f} s")
    assert "import error" not in outcome and "change error" not in outcome, outcome
    assert outcome["imported"] == ROWS and outcome["changed"]
    with app.app_context():
        rows = {r.sku: r for r in db.session.scalars(select(SkuStock).where(
            SkuStock.store_id == store_id))}
        assert len(rows) == ROWS + 1
        assert (rows["ELSEWHERE"].on_hand, rows["BULK-00002"].on_hand,
                rows["BULK-00002"].reserved) == (7, 2, 3)
        assert rows["BULK-19999"].on_hand == 19_999 % 50
        # One push per SKU (BULK-00002 may have had one sent already by the change).
        pushes = _pushes(store_id)
        assert len(set(pushes)) == ROWS + 1


def test_import_queues_one_push_per_sku_and_node_and_the_last_row_wins(app):
    """A SKU named twice is set to its last row's quantity with one push; a SKU whose push is
    still waiting gets no second one; a named node gets its own row and push."""
    from tests.factories import make_store
    from webapp.extensions import db
    from webapp.models import SkuStock, Store
    from webapp.services.stock import levels as stock

    with app.app_context():
        store_id = make_store().id
        db.session.get(Store, store_id).default_ship_node = "N1"
        db.session.commit()
        stock.set_on_hand(store_id, "A", 1, by=None)  # its push waits (no worker)
        assert stock.import_csv(store_id, "A,4\nB,2\nB,6\nB,3,N1\n", by=None) == 2
        rows = {(r.sku, r.ship_node): r.on_hand for r in db.session.scalars(
            select(SkuStock).where(SkuStock.store_id == store_id))}
        assert rows == {("A", ""): 4, ("B", ""): 3}  # N1 is the default node: the same row
        assert _pushes(store_id) == [("A", ""), ("B", "")]
        assert db.session.scalar(select(func.count(SkuStock.id))) == 2


def test_an_imported_file_reaches_walmart(app, walmart_store, worker):
    """Every SKU of an imported file is pushed to Walmart with its quantity by the worker,
    and its push ends Synced."""
    from webapp.extensions import db
    from webapp.models import SyncTask, TaskKind
    from webapp.services.stock import levels as stock

    store_id, seller = walmart_store()
    with app.app_context():
        assert stock.import_csv(store_id, "sku,quantity\nFILE-1,4\nFILE-2,0\nFILE-3,9\n",
                                by=None) == 3
    worker()
    sent = {r["path"].split("sku=")[1].split("&")[0]: r["body"] for r in seller.requests()
            if r["endpoint"] == "inventory"}
    assert set(sent) == {"FILE-1", "FILE-2", "FILE-3"}
    assert '"amount": 4' in sent["FILE-1"] and '"amount": 9' in sent["FILE-3"]
    with app.app_context():
        assert db.session.scalars(select(SyncTask.state).where(
            SyncTask.kind == TaskKind.INVENTORY.value)).all() == ["synced"] * 3
