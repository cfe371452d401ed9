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


def test_models_and_migrations_agree(app_ctx):
    """Autogenerate finds nothing to add: every model change has its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from webapp.extensions import db

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
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
        upgrade(revision="d5f9c1b7a345")
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
        downgrade(revision="d5f9c1b7a345")
        assert "walmart_events" not in inspect(db.engine).get_table_names()
        assert "events_status" not in {c["name"] for c in inspect(db.engine).get_columns(
            "stores")}
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM stores")).scalar() == "Old"
        db.engine.dispose()
