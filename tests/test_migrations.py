"""The schema is built by migrations only, and the migrations match the models."""

from __future__ import annotations

from sqlalchemy import inspect


def _old_store(conn, day: str) -> None:
    """Store 1 ("Old") as an install at an earlier schema holds it, created on `day`."""
    from sqlalchemy import text

    conn.execute(text(
        "INSERT INTO stores (id, name, environment, base_url, client_id, "
        "client_secret_encrypted, import_enabled, import_failures, rate_limits, "
        "created_at, updated_at) VALUES (1, 'Old', 'sandbox', "
        "'https://sandbox.walmartapis.com', 'id', 'x', 1, 0, '{}', "
        f"'{day} 00:00:00', '{day} 00:00:00')"))


# SQLite's FTS5 table for the name search (orders_name_search) and the shadow tables FTS5
# keeps its index in (orders_name_search_data, _idx, _docsize, _config): made by migration
# d1a5e7c3b901, which no model can declare (SQLAlchemy has no virtual tables).
FTS_TABLES = "orders_name_search"


def _compared(conn):
    """Alembic's include_object for the comparison: leave out the FTS tables, and model
    indexes made only on another database (`ddl_if(dialect=...)`, pg_trgm's on SQLite)."""
    def include(obj, name, type_, reflected, compare_to) -> bool:
        if type_ == "table" and name.startswith(FTS_TABLES):
            return False
        only_on = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
        return not (type_ == "index" and only_on and only_on != conn.dialect.name)
    return include


def test_models_and_migrations_agree(app_ctx):
    """Autogenerate finds nothing to add: every model change has its migration."""
    import warnings

    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from webapp.extensions import db

    with db.engine.connect() as conn, warnings.catch_warnings():
        # SQLAlchemy cannot reflect SQLite's expression indexes (lower(sku), …) and Alembic
        # then leaves the models' ones out, warning both times: they are compared on
        # PostgreSQL, and test_order_search.py proves SQLite's by the plans that use them.
        warnings.filterwarnings("ignore", message=r".*expression-based index")
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": _compared(conn)})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_migrations_downgrade_and_upgrade_again(tmp_path, redis_url):
    """A fresh SQLite database upgrades to head, downgrades to nothing, and upgrades again."""
    from flask_migrate import downgrade, upgrade

    from tests.conftest import _settings
    from webapp import create_app
    from webapp.extensions import db

    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    app = create_app(_settings(url, redis_url, tmp_path))
    with app.app_context():
        upgrade()
        assert {"users", "stores", "audit_events"} <= set(inspect(db.engine).get_table_names())
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "users" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path, redis_url):
    """SQLite is shared by web and workers: WAL and a busy timeout are on for every connection."""
    from sqlalchemy import text

    from tests.conftest import _settings
    from webapp import create_app
    from webapp.extensions import db

    app = create_app(_settings(f"sqlite:///{tmp_path / 'wal.sqlite'}", redis_url, tmp_path))
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 15000
    with app.app_context():
        db.engine.dispose()


def test_read_only_and_ship_node_migration_keeps_existing_data(tmp_path, redis_url):
    """An install at the previous schema upgrades with its rows: stores become read-write with
    no credentials problem, stock sits at the default ship node, tasks have nothing paused."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from tests.conftest import _settings
    from webapp import create_app
    from webapp.extensions import db

    app = create_app(_settings(f"sqlite:///{tmp_path / 'old.sqlite'}", redis_url, tmp_path))
    with app.app_context():
        upgrade(revision="2c025b6d482e")
        with db.engine.begin() as conn:
            _old_store(conn, "2026-11-30")
            conn.execute(text("INSERT INTO sku_stock (id, store_id, sku, on_hand, reserved, "
                              "updated_at) VALUES (1, 1, 'MUG-1', 5, 1, '2026-11-30 00:00:00')"))
            conn.execute(text(
                "INSERT INTO sync_tasks (id, store_id, kind, target, state, attempts, claims, "
                "next_attempt_at, ambiguous, stuck, urgent, created_at, updated_at) VALUES "
                "(1, 1, 'inventory', 'MUG-1', 'pending', 2, 2, '2026-11-30 00:00:00', 0, 0, 0, "
                "'2026-11-30 00:00:00', '2026-11-30 00:00:00')"))
        upgrade()
        with db.engine.connect() as conn:
            store = conn.execute(text("SELECT read_only, default_ship_node, credentials_problem,"
                                      " import_incomplete_passes FROM stores")).one()
            stock = conn.execute(text("SELECT sku, on_hand, ship_node FROM sku_stock")).one()
            task = conn.execute(text("SELECT attempts, note, paused_seconds FROM sync_tasks")
                                ).one()
        assert tuple(store) == (0, None, None, 0)
        assert tuple(stock) == ("MUG-1", 5, "")
        assert tuple(task) == (2, None, 0)
        db.engine.dispose()


def test_walmart_differences_migration_keeps_existing_orders(tmp_path, redis_url):
    """An install at the previous schema upgrades with its orders: none flagged as Walmart
    disagreeing, no finding; a finding can then be stored against an order and its line, and
    the downgrade takes both away again."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from tests.conftest import _settings
    from webapp import create_app
    from webapp.extensions import db

    app = create_app(_settings(f"sqlite:///{tmp_path / 'old.sqlite'}", redis_url, tmp_path))
    with app.app_context():
        upgrade(revision="b7e2c4a91d05")
        with db.engine.begin() as conn:
            _old_store(conn, "2026-11-30")
            conn.execute(text(
                "INSERT INTO orders (id, store_id, number, purchase_order_id, currency, "
                "order_value, status, intent_to_cancel, in_flight, return_open, created_at, "
                "updated_at) VALUES (7, 1, '100007', 'PO-7', 'USD', 12.5, 'Shipped', 0, 0, 0, "
                "'2026-11-30 00:00:00', '2026-11-30 00:00:00')"))
            conn.execute(text(
                "INSERT INTO order_lines (id, order_id, line_number, sku, product_name, quantity,"
                " unit_price, tax, shipping, shipped_qty, delivered_qty, canceled_qty, "
                "refunded_qty, acknowledged, intent_to_cancel, walmart_statuses) VALUES (3, 7, "
                "'1', 'MUG-1', 'Mug', 2, 6.25, 0, 0, 2, 0, 0, 0, 1, 0, '{}')"))
        upgrade()
        with db.engine.begin() as conn:
            order = conn.execute(text("SELECT number, status, walmart_disagrees FROM orders")
                                 ).one()
            assert tuple(order) == ("100007", "Shipped", 0)
            assert conn.execute(text("SELECT count(*) FROM walmart_differences")).scalar() == 0
            conn.execute(text(
                "INSERT INTO walmart_differences (store_id, order_id, order_line_id, source, "
                "kind, ours, walmart, found_at) VALUES (1, 7, 3, 'fixed_check', 'ship', "
                "'2 units shipped', '2 Acknowledged', '2026-12-06 00:00:00')"))
        downgrade(revision="b7e2c4a91d05")
        tables = set(inspect(db.engine).get_table_names())
        columns = {c["name"] for c in inspect(db.engine).get_columns("orders")}
        assert "walmart_differences" not in tables and "walmart_disagrees" not in columns
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT number FROM orders")).scalar() == "100007"
        db.engine.dispose()


def test_refund_amounts_migration_keeps_returns_and_refunds(tmp_path, redis_url):
    """A return and a refund from before per-line figures upgrade as they were: the line's
    Walmart figures are unknown (None, until its next import; the price stands in, marked
    estimated) and the refund keeps its amount, with no per-line figures."""
    from decimal import Decimal

    from flask_migrate import upgrade
    from sqlalchemy import text

    from tests.conftest import _settings
    from webapp import create_app
    from webapp.extensions import db

    app = create_app(_settings(f"sqlite:///{tmp_path / 'old.sqlite'}", redis_url, tmp_path))
    with app.app_context():
        upgrade(revision="c4d8e2f61a37")
        with db.engine.begin() as conn:
            _old_store(conn, "2026-11-30")
            conn.execute(text(
                "INSERT INTO returns (id, store_id, rma, customer_order_id, "
                "total_refund_amount, currency, status, created_at, updated_at) VALUES "
                "(1, 1, 'RMA-1', 'C-1', 43.10, 'USD', 'Received', '2026-11-30 00:00:00', "
                "'2026-11-30 00:00:00')"))
            conn.execute(text(
                "INSERT INTO return_lines (id, return_id, number, sku, quantity, "
                "refunded_qty, unit_price) VALUES (1, 1, 1, 'BTL-1', 2, 1, 19.95)"))
            conn.execute(text(
                "INSERT INTO refunds (id, return_id, amount, lines, restocked, expected, "
                "created_at, created_by) VALUES (1, 1, 19.95, '{\"1\": 1}', '[]', "
                "'{\"1\": 1}', '2026-11-30 00:00:00', 'ops@example.com')"))
        upgrade()
        from webapp.models import Refund, ReturnLine
        from webapp.services.returns import refund_amounts

        line = db.session.get(ReturnLine, 1)
        assert (line.tax_total, line.shipping_total, line.line_total) == (None, None, None)
        left = refund_amounts.for_units(line, 1)
        assert (left.price, left.total, left.estimated) == (Decimal("19.95"),
                                                            Decimal("19.95"), True)
        refund = db.session.get(Refund, 1)
        assert refund.amount == Decimal("19.95") and refund_amounts.of_refund(refund) == []
        assert refund_amounts.for_order(0) == 0
        db.session.remove()
        db.engine.dispose()


def test_corrected_tasks_migration_keeps_existing_tasks(tmp_path, redis_url):
    """An install before "Correct and send again" upgrades with its tasks: each keeps its
    state and error, replaces nothing, and replaced_by_id points at sync_tasks."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from tests.conftest import _settings
    from webapp import create_app
    from webapp.extensions import db

    app = create_app(_settings(f"sqlite:///{tmp_path / 'old.sqlite'}", redis_url, tmp_path))
    with app.app_context():
        upgrade(revision="c4d1a8e2f310")
        with db.engine.begin() as conn:
            _old_store(conn, "2026-12-01")
            conn.execute(text(
                "INSERT INTO sync_tasks (id, store_id, kind, target, state, attempts, claims, "
                "next_attempt_at, ambiguous, stuck, urgent, last_error_message, created_at, "
                "updated_at) VALUES (1, 1, 'ship', 'PO-1', 'error', 1, 1, "
                "'2026-12-01 00:00:00', 0, 0, 1, 'Invalid tracking number', "
                "'2026-12-01 00:00:00', '2026-12-01 00:00:00')"))
        upgrade()
        with db.engine.connect() as conn:
            task = conn.execute(text("SELECT state, last_error_message, replaced_by_id "
                                     "FROM sync_tasks")).one()
        assert tuple(task) == ("error", "Invalid tracking number", None)
        keys = inspect(db.engine).get_foreign_keys("sync_tasks")
        assert {"constrained_columns": ["replaced_by_id"], "referred_table": "sync_tasks"} in [
            {k: key[k] for k in ("constrained_columns", "referred_table")} for key in keys]
        db.engine.dispose()


def test_tracking_uploads_migration_keeps_existing_data(tmp_path, redis_url):
    """An install at the previous schema upgrades with its shipments and users untouched; the
    new table of tracking uploads starts empty, takes one, and goes away on downgrade."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from tests.conftest import _settings
    from webapp import create_app
    from webapp.extensions import db

    app = create_app(_settings(f"sqlite:///{tmp_path / 'old.sqlite'}", redis_url, tmp_path))
    with app.app_context():
        upgrade(revision="c4f1a8e2d9b3")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO users (id, email, password_hash, role, active, session_token, "
                "created_at) "
                "VALUES (1, 'op@example.com', 'x', 'operator', 1, 't1', '2026-12-01 00:00:00')"))
        upgrade(revision="c41d7a2e9f60")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM tracking_uploads")).scalar() == 0
            conn.execute(text(
                "INSERT INTO tracking_uploads (created_at, created_by_id, created_by, outcomes)"
                " VALUES ('2026-12-06 00:00:00', 1, 'op@example.com', '[]')"))
            assert conn.execute(text("SELECT email FROM users")).scalar() == "op@example.com"
        downgrade(revision="c4f1a8e2d9b3")
        assert "tracking_uploads" not in inspect(db.engine).get_table_names()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT email FROM users")).scalar() == "op@example.com"
        db.engine.dispose()


def test_search_indexes_migration_finds_existing_names(tmp_path, redis_url):
    """An install at the previous schema upgrades with its orders' names in the new trigram
    table (backfilled) and kept by the triggers from then on; the downgrade takes the table,
    its triggers and the new indexes away and leaves the orders."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from tests.conftest import _settings
    from webapp import create_app
    from webapp.extensions import db

    def names(conn, fragment: str) -> list[int]:
        return sorted(conn.execute(text(
            "SELECT rowid FROM orders_name_search WHERE orders_name_search MATCH :phrase"),
            {"phrase": f'"{fragment}"'}).scalars())

    def search_objects(conn) -> set[str]:
        return set(conn.execute(text(
            "SELECT name FROM sqlite_master WHERE name LIKE 'orders_name_search%' "
            "OR name IN ('ix_order_lines_sku_lower', 'ix_orders_customer_name_lower')"))
            .scalars())

    app = create_app(_settings(f"sqlite:///{tmp_path / 'old.sqlite'}", redis_url, tmp_path))
    with app.app_context():
        upgrade(revision="c41d7a2e9f60")
        with db.engine.begin() as conn:
            _old_store(conn, "2026-12-01")
            for order_id, name in ((7, "Ana Smith"), (8, "Jack Johnson"), (9, None)):
                conn.execute(text(
                    "INSERT INTO orders (id, store_id, number, purchase_order_id, customer_name,"
                    " currency, order_value, status, intent_to_cancel, in_flight, return_open, "
                    "walmart_disagrees, created_at, updated_at) VALUES (:id, 1, :number, :po, "
                    ":name, 'USD', 1, 'Open', 0, 0, 0, 0, '2026-12-01 00:00:00', "
                    "'2026-12-01 00:00:00')"),
                    {"id": order_id, "number": str(100000 + order_id), "po": f"PO-{order_id}",
                     "name": name})
        upgrade(revision="d1a5e7c3b901")
        with db.engine.begin() as conn:
            assert names(conn, "ohns") == [8] and names(conn, "smi") == [7]
            conn.execute(text("UPDATE orders SET customer_name = 'Jack Johnston' WHERE id = 8"))
            conn.execute(text(
                "INSERT INTO orders (id, store_id, number, purchase_order_id, customer_name, "
                "currency, order_value, status, intent_to_cancel, in_flight, return_open, "
                "walmart_disagrees, created_at, updated_at) VALUES (10, 1, '100010', 'PO-10', "
                "'Zoë Johns', 'USD', 1, 'Open', 0, 0, 0, 0, '2026-12-08 00:00:00', "
                "'2026-12-08 00:00:00')"))
            assert names(conn, "ohns") == [8, 10] and names(conn, "ohnst") == [8]
            conn.execute(text("INSERT INTO orders_name_search (orders_name_search, rank) "
                              "VALUES ('integrity-check', 1)"))
            assert len(search_objects(conn)) > 2
        downgrade(revision="c41d7a2e9f60")
        with db.engine.connect() as conn:
            assert search_objects(conn) == set()
            assert conn.execute(text("SELECT count(*) FROM orders")).scalar() == 4
        db.engine.dispose()


def _search_indexes_migration():
    """Migration d1a5e7c3b901 as a module (its pg_trgm step is tried on its own below)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "migrations" / "versions" / \
        "20261208_d1a5e7c3b901_search_indexes.py"
    spec = importlib.util.spec_from_file_location("search_indexes_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _RefusingConnection:
    """Refuses CREATE EXTENSION as PostgreSQL refuses a role without the privilege."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def begin_nested(self):
        from contextlib import nullcontext

        return nullcontext()

    def execute(self, statement):
        from sqlalchemy.exc import ProgrammingError

        self.sent.append(str(statement))
        if "CREATE EXTENSION" in str(statement):
            raise ProgrammingError(str(statement), {}, Exception(
                'permission denied to create extension "pg_trgm"'))


def test_search_migration_goes_on_without_pg_trgm(app_ctx, caplog):
    """Where pg_trgm cannot be created the upgrade warns, says where to read on, and goes on
    without the trigram index; a name search still finds its orders (reading them all). On
    PostgreSQL for real — a role without the privilege, in a transaction rolled back after —
    and with a refusing connection on SQLite."""
    import logging
    import uuid

    from sqlalchemy import select, text

    from tests.factories import make_store
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.orders import search

    migration = _search_indexes_migration()
    store = make_store()
    db.session.add(Order(store_id=store.id, purchase_order_id="PO-1", customer_name="Ana Smith"))
    db.session.commit()
    with db.engine.connect() as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            role = f"no_trgm_{uuid.uuid4().hex[:8]}"
            conn.execute(text("DROP EXTENSION pg_trgm CASCADE"))  # its index too (rolled back)
            conn.execute(text(f"CREATE ROLE {role}"))  # may create in the schema, not the
            conn.execute(text(f"GRANT USAGE, CREATE ON SCHEMA public TO {role}"))  # database
            conn.execute(text(f"SET ROLE {role}"))
            with caplog.at_level(logging.WARNING):
                created = migration.create_trigram_index(conn)
            conn.execute(text("RESET ROLE"))
            assert conn.execute(text("SELECT count(*) FROM pg_indexes WHERE indexname = "
                                     "'ix_orders_customer_name_trgm'")).scalar() == 0
            fragment = search.Text("smi", "smi", "postgresql")
            assert conn.execute(select(Order.customer_name).where(
                Order.id.in_(search.matching_ids(fragment)))).scalars().all() == ["Ana Smith"]
        else:
            refusing = _RefusingConnection()
            with caplog.at_level(logging.WARNING):
                created = migration.create_trigram_index(refusing)
            assert refusing.sent == ["CREATE EXTENSION IF NOT EXISTS pg_trgm"]
        conn.rollback()
    assert created is False
    assert "pg_trgm could not be created (permission denied" in caplog.text
    assert "docs/operations.md" in caplog.text


def test_status_counts_migration_counts_the_existing_orders_in(tmp_path, redis_url):
    """An install with orders upgrades to the kept counts: its orders are counted, and the
    triggers count what comes after."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from tests.conftest import _settings
    from webapp import create_app
    from webapp.extensions import db

    url = f"sqlite:///{tmp_path / 'counts.sqlite'}"
    app = create_app(_settings(url, redis_url, tmp_path))
    with app.app_context():
        upgrade(revision="d3c7a9f5e123")
        with db.engine.begin() as conn:
            _old_store(conn, "2026-12-01")
            for n, status in enumerate(["Open", "Open", "Shipped"]):
                conn.execute(text(
                    "INSERT INTO orders (store_id, purchase_order_id, currency, order_value, "
                    "status, intent_to_cancel, in_flight, return_open, walmart_disagrees, "
                    f"created_at, updated_at) VALUES (1, 'PO{n}', 'USD', 0, '{status}', 0, 0, "
                    "0, 0, '2026-12-01 00:00:00', '2026-12-01 00:00:00')"))
        upgrade()
        from webapp.services.orders.status_counts import per_status

        counts = per_status(1)
        assert (counts["Open"], counts["Shipped"]) == (2, 1)
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE orders SET status = 'Shipped' WHERE purchase_order_id = "
                              "'PO0'"))
        db.session.rollback()
        counts = per_status(1)
        assert (counts["Open"], counts["Shipped"]) == (1, 2)
        db.engine.dispose()


def test_home_rollup_migration_keeps_orders_and_counts_the_chart_lazily(tmp_path, redis_url):
    """An install at the previous schema upgrades with its orders and shipments: nothing is
    copied (the first Home counts the chart's days, then keeps them), the triggers mark later
    writes, and the downgrade removes tables, triggers and indexes — orders still insert."""
    from datetime import UTC, datetime, timedelta

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from tests.conftest import _settings
    from webapp import create_app
    from webapp.extensions import db

    now = datetime.now(UTC)

    def at(days: float) -> str:
        return (now - timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")

    def add_order(conn, order_id: int, placed: float, due: float) -> None:
        conn.execute(text(
            "INSERT INTO orders (id, store_id, purchase_order_id, order_date, ship_by, currency,"
            " order_value, status, intent_to_cancel, in_flight, return_open, created_at,"
            f" updated_at) VALUES ({order_id}, 1, 'PO-{order_id}', '{at(placed)}', '{at(due)}',"
            f" 'USD', 0, 'Shipped', 0, 0, 0, '{at(placed)}', '{at(placed)}')"))

    app = create_app(_settings(f"sqlite:///{tmp_path / 'old.sqlite'}", redis_url, tmp_path))
    with app.app_context():
        upgrade(revision="c41d7a2e9f60")
        with db.engine.begin() as conn:
            _old_store(conn, "2026-12-01")
            add_order(conn, 1, placed=3, due=1)
            conn.execute(text(
                "INSERT INTO shipments (order_id, ship_time, created_at, created_by,"
                f" intent_to_cancel_override) VALUES (1, '{at(2)}', '{at(2)}', 'cli', 0)"))
        upgrade(revision="d2b6f8e4c012")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM day_figures")).scalar() == 0
            assert conn.execute(text("SELECT count(*) FROM day_figures_changes")).scalar() == 0
        from webapp.services.orders.day_figures import last_days

        with app.test_request_context("/"):
            days = {d.day: (d.orders, d.due, d.on_time) for d in last_days(now=now)}
            assert days[(now - timedelta(days=3)).date()] == (1, 0, 0)
            assert days[(now - timedelta(days=1)).date()] == (0, 1, 1)
            with db.engine.begin() as conn:
                add_order(conn, 2, placed=5, due=4)
            days = {d.day: (d.orders, d.due, d.on_time) for d in last_days(now=now)}
            assert days[(now - timedelta(days=5)).date()] == (1, 0, 0)
            assert days[(now - timedelta(days=4)).date()] == (0, 1, 0)
            db.session.remove()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM day_figures")).scalar() == 29
        downgrade(revision="c41d7a2e9f60")
        tables = set(inspect(db.engine).get_table_names())
        assert not {"day_figures", "day_figures_changes"} & tables
        assert "ix_orders_open_ship_by" not in {
            i["name"] for i in inspect(db.engine).get_indexes("orders")}
        with db.engine.begin() as conn:
            assert conn.execute(text(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'")).scalar() == 0
            add_order(conn, 3, placed=1, due=0)
            assert conn.execute(text("SELECT count(*) FROM orders")).scalar() == 3
        db.engine.dispose()


def test_sync_task_indexes_migration_keeps_tasks_and_goes_back(tmp_path, redis_url):
    """An install with tasks upgrades to the Sync page's indexes (the store's index then leads
    to the state, the order's holds kind and state, pending pushes have their own) with every
    task kept, and downgrades to the indexes it had."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from tests.conftest import _settings
    from webapp import create_app
    from webapp.extensions import db

    def indexes() -> dict[str, list[str]]:
        return {ix["name"]: ix["column_names"] for ix in inspect(db.engine).get_indexes(
            "sync_tasks")}

    app = create_app(_settings(f"sqlite:///{tmp_path / 'old.sqlite'}", redis_url, tmp_path))
    with app.app_context():
        upgrade(revision="c41d7a2e9f60")
        before = indexes()
        with db.engine.begin() as conn:
            _old_store(conn, "2026-12-06")
            for n, state in enumerate(("pending", "synced", "error"), start=1):
                conn.execute(text(
                    "INSERT INTO sync_tasks (id, store_id, kind, target, state, attempts, "
                    "claims, next_attempt_at, ambiguous, stuck, urgent, created_at, "
                    f"updated_at) VALUES ({n}, 1, 'inventory', 'SKU-1', '{state}', 0, 0, "
                    "'2026-12-06 00:00:00', 0, 0, 0, '2026-12-06 00:00:00', "
                    "'2026-12-06 00:00:00')"))
        upgrade(revision="d4e8b0a6f234")
        after = indexes()
        assert "ix_sync_tasks_store_id" not in after
        assert after["ix_sync_tasks_store_state"] == ["store_id", "state", "id"]
        assert after["ix_sync_tasks_order"] == ["order_id", "kind", "state", "id"]
        assert after["ix_sync_tasks_pending"] == ["store_id", "kind", "target", "id"]
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT id, state FROM sync_tasks ORDER BY id")).all() == \
                [(1, "pending"), (2, "synced"), (3, "error")]
            pending = conn.execute(text(  # the partial index holds the pending task only
                "SELECT id FROM sync_tasks INDEXED BY ix_sync_tasks_pending WHERE store_id = 1 "
                "AND kind = 'inventory' AND target = 'SKU-1' AND state = 'pending'")).all()
            assert pending == [(1,)]
        downgrade(revision="c41d7a2e9f60")
        assert indexes() == before
        db.engine.dispose()


def test_print_records_migration_keeps_orders_and_counts_them_unprinted(tmp_path, redis_url):
    """An install at the previous schema upgrades with its orders, lines and stores: no order
    printed (all "not yet printed"), no return centre, no name on slips, no prices; the
    status-count triggers still count; a print can be recorded; the downgrade takes the print
    tables and the new columns away and keeps the rest."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from tests.conftest import _settings
    from webapp import create_app
    from webapp.extensions import db

    app = create_app(_settings(f"sqlite:///{tmp_path / 'old.sqlite'}", redis_url, tmp_path))
    with app.app_context():
        upgrade(revision="d4e8b0a6f234")
        with db.engine.begin() as conn:
            _old_store(conn, "2026-12-01")
            conn.execute(text(
                "INSERT INTO orders (id, store_id, number, purchase_order_id, currency, "
                "order_value, status, intent_to_cancel, in_flight, return_open, "
                "walmart_disagrees, order_date, created_at, updated_at) VALUES (7, 1, '100007', "
                "'PO-7', 'USD', 12.5, 'Open', 0, 0, 0, 0, '2026-12-01 00:00:00', "
                "'2026-12-01 00:00:00', '2026-12-01 00:00:00')"))
            conn.execute(text(
                "INSERT INTO order_lines (id, order_id, line_number, sku, product_name, quantity,"
                " unit_price, tax, shipping, shipped_qty, delivered_qty, canceled_qty, "
                "refunded_qty, acknowledged, intent_to_cancel, walmart_statuses) VALUES (3, 7, "
                "'1', 'MUG-1', 'Mug', 2, 6.25, 0, 0, 0, 0, 0, 0, 1, 0, '{}')"))
        upgrade()
        from webapp.services.orders import queries

        with db.engine.begin() as conn:
            assert tuple(conn.execute(text("SELECT printed_at FROM orders")).one()) == (None,)
            assert conn.execute(text("SELECT return_center FROM order_lines")).scalar() is None
            assert tuple(conn.execute(text("SELECT slip_name, slip_prices FROM stores")).one()
                         ) == (None, 0)
        assert [r.id for r in queries.page(queries.OrderFilter(unprinted=True)).orders] == [7]
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO print_records (id, kind, actor, created_at, "
                              "order_count) VALUES (1, 'slips', 'cli', '2026-12-08 00:00:00', 1)"))
            conn.execute(text("INSERT INTO printed_orders (record_id, order_id, position) "
                              "VALUES (1, 7, 0)"))
            conn.execute(text("UPDATE orders SET printed_at = '2026-12-08 00:00:00', "
                              "status = 'Shipped'"))
        db.session.rollback()
        assert queries.page(queries.OrderFilter(unprinted=True)).orders == []
        from webapp.services.orders.status_counts import per_status
        assert (per_status(1)["Open"], per_status(1)["Shipped"]) == (0, 1)
        db.session.remove()
        downgrade(revision="d4e8b0a6f234")
        tables = set(inspect(db.engine).get_table_names())
        assert not {"print_records", "printed_orders"} & tables
        assert "printed_at" not in {c["name"] for c in inspect(db.engine).get_columns("orders")}
        assert "slip_name" not in {c["name"] for c in inspect(db.engine).get_columns("stores")}
        with db.engine.connect() as conn:
            assert tuple(conn.execute(text("SELECT number, status FROM orders")).one()) == \
                ("100007", "Shipped")
            assert conn.execute(text("SELECT sku FROM order_lines")).scalar() == "MUG-1"
        db.engine.dispose()


def test_walmart_events_migration_keeps_stores_unsubscribed(tmp_path, redis_url):
    """An install at the previous schema upgrades with its stores, none subscribed to
    Walmart's notifications; the events table starts empty, keeps one event per store and
    eventId, and the downgrade takes it and the new columns away, the store untouched."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from tests.conftest import _settings
    from webapp import create_app
    from webapp.extensions import db

    app = create_app(_settings(f"sqlite:///{tmp_path / 'old.sqlite'}", redis_url, tmp_path))
    with app.app_context():
        upgrade(revision="d6a0b2c8e456")
        with db.engine.begin() as conn:
            _old_store(conn, "2026-12-07")
        upgrade(revision="d7b1c3d9f567")
        with db.engine.begin() as conn:
            store = conn.execute(text(
                "SELECT name, events_password_encrypted, events_subscription_id, "
                "events_status, events_url, events_tested_at, events_error FROM stores")).one()
            assert tuple(store) == ("Old", None, None, None, None, None, None)
            assert conn.execute(text("SELECT count(*) FROM walmart_events")).scalar() == 0
            insert = text("INSERT INTO walmart_events (store_id, event_id, received_at) "
                          "VALUES (1, 'evt-1', '2026-12-08 00:00:00')")
            conn.execute(insert)
            assert conn.execute(text("SELECT attempts FROM walmart_events")).scalar() == 0
        try:
            with db.engine.begin() as conn:
                conn.execute(insert)
            raise AssertionError("a second row with the same store and eventId was stored")
        except IntegrityError:
            pass
        downgrade(revision="d6a0b2c8e456")
        assert "walmart_events" not in inspect(db.engine).get_table_names()
        assert "events_status" not in {c["name"] for c in inspect(db.engine).get_columns(
            "stores")}
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM stores")).scalar() == "Old"
        db.engine.dispose()


def test_reconciliation_migration_keeps_findings_and_adds_runs(tmp_path, redis_url):
    """An install at the previous schema upgrades with its "Fixed in Seller Center" findings
    as they were (the new columns NULL); reconcile_runs starts empty and takes a pass; the
    downgrade takes the table and the columns away, the finding untouched."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from tests.conftest import _settings
    from webapp import create_app
    from webapp.extensions import db

    app = create_app(_settings(f"sqlite:///{tmp_path / 'old.sqlite'}", redis_url, tmp_path))
    with app.app_context():
        upgrade(revision="d7b1c3d9f567")
        with db.engine.begin() as conn:
            _old_store(conn, "2026-12-08")
            conn.execute(text(
                "INSERT INTO walmart_differences (id, store_id, source, kind, ours, walmart, "
                "found_at) VALUES (1, 1, 'fixed_check', 'ship', '1 unit shipped', "
                "'1 Acknowledged', '2026-12-08 10:00:00')"))
        upgrade(revision="e1a3c5f7b901")
        with db.engine.begin() as conn:
            row = conn.execute(text(
                "SELECT source, kind, ours, sku, ship_node, detail, action, action_at, "
                "action_by_id, action_task_id, action_error FROM walmart_differences")).one()
            assert tuple(row) == ("fixed_check", "ship", "1 unit shipped", None, None, None,
                                  None, None, None, None, None)
            assert conn.execute(text("SELECT count(*) FROM reconcile_runs")).scalar() == 0
            conn.execute(text(
                "INSERT INTO reconcile_runs (store_id, trigger, days, started_at, phase, "
                "cursor, orders_total, stock_total, checked, skipped, reads, failed_reads, "
                "retry, retry_rounds, unread, found) VALUES (1, 'schedule', 30, "
                "'2026-12-09 03:30:00', 'orders', 0, 0, 0, 0, 0, 0, 0, '{}', 0, 0, 0)"))
        downgrade(revision="d7b1c3d9f567")
        assert "reconcile_runs" not in inspect(db.engine).get_table_names()
        assert "action" not in {c["name"] for c in inspect(db.engine).get_columns(
            "walmart_differences")}
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT ours FROM walmart_differences")).scalar() == \
                "1 unit shipped"
        db.engine.dispose()
