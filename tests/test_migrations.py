"""The schema is built by migrations only, and the migrations match the models."""

from __future__ import annotations

from sqlalchemy import inspect


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
