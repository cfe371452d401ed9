"""Database binding: SQLAlchemy, migrations, and SQLite tuned for several writers."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

import webapp.models  # noqa: F401  (registers the tables)
from webapp.extensions import db, migrate
from webapp.list_versions import init_list_versions
from webapp.services.unit_of_work import init_unit_of_work

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Web and worker processes write the same file: WAL lets readers run beside a writer,
    # and the busy timeout makes a writer wait for the lock instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _savepoint_takes_the_write_lock(conn, _name) -> None:
    # pysqlite opens a transaction only before INSERT/UPDATE/DELETE. A SAVEPOINT outside one
    # makes SQLite start a *deferred* transaction, whose first read pins a snapshot: when
    # another process commits before this one writes, SQLite refuses the write at once
    # ("database is locked"), whatever the busy timeout. Take the write lock up front
    # instead (waiting for it with the busy timeout), as every other transaction here does.
    if not conn.connection.dbapi_connection.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def init_database(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    init_list_versions()  # lists' change markers move with every commit that changes them
    init_unit_of_work()  # a commit publishes its tasks and invalidates counts; a rollback forgets
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True, compare_type=True)
    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "savepoint", _savepoint_takes_the_write_lock)
