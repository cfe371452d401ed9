"""Loading generated rows fast: straight through the database driver, indexes built once.

SQLite: executemany in one transaction per chunk, journal and fsync off (a benchmark file:
a crash mid-load throws it away). PostgreSQL: COPY. On both, the secondary indexes of the
loaded tables (whatever the migrations created, search indexes included) are dropped before the
load and created again after it: building an index once from the finished table sorts once,
where growing it row by row costs a random B-tree insert per row. Triggers stay: a table a
trigger keeps (a search table) is kept by it. Foreign keys are not checked row by row (the
generator makes them consistent), unless the tables carry triggers of their own on
PostgreSQL, where turning the checks off would turn those off too.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager


class SqliteLoader:
    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.sequences: dict[str, int] = {}  # (SQLite's integer keys need no sequence)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-524288",
                       "temp_store=MEMORY", "foreign_keys=OFF"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute("BEGIN")

    def write(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if rows:
            marks = ",".join("?" * len(columns))
            self.conn.executemany(f"INSERT INTO {table} ({','.join(columns)}) VALUES ({marks})",
                                  rows)

    def commit(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.execute("BEGIN")

    def drop_indexes(self, tables: list[str]) -> list[str]:
        marks = ",".join("?" * len(tables))
        found = self.conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks})", tables).fetchall()
        for name, _sql in found:
            self.conn.execute(f'DROP INDEX "{name}"')
        return [sql for _name, sql in found]

    def finish(self, indexes: list[str]) -> None:
        for sql in indexes:
            self.conn.execute(sql)
        self.conn.execute("COMMIT")
        self.conn.execute("ANALYZE")
        self.conn.execute("PRAGMA journal_mode=WAL")  # what the app runs with
        self.conn.close()


class PostgresLoader:
    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"))
        self.sequences: dict[str, int] = {}  # table → last id written
        self.conn.execute("SET synchronous_commit = off")
        self.conn.execute("SET maintenance_work_mem = '512MB'")

    def skip_foreign_keys(self, tables: list[str]) -> bool:
        """Foreign keys are triggers on PostgreSQL; replica mode skips them, and every other
        trigger too: only when the tables have none of their own."""
        own = self.conn.execute(
            "SELECT count(*) FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid "
            "WHERE NOT g.tgisinternal AND t.relname = ANY(%s)", (tables,)).fetchone()[0]
        if not own:
            self.conn.execute("SET session_replication_role = replica")
        return not own

    def write(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if rows:
            with self.conn.cursor().copy(
                    f"COPY {table} ({','.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    def commit(self) -> None:
        self.conn.commit()

    def drop_indexes(self, tables: list[str]) -> list[str]:
        """Every index of these tables but those behind a constraint (primary keys, unique
        constraints): their definitions, to create them again."""
        found = self.conn.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "WHERE t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
            (tables,)).fetchall()
        for name, _sql in found:
            self.conn.execute(f'DROP INDEX "{name}"')
        return [sql for _name, sql in found]

    def finish(self, indexes: list[str], tables: list[str]) -> None:
        for sql in indexes:
            self.conn.execute(sql)
        for table, last in self.sequences.items():  # explicit ids: move the sequences on
            if last:
                self.conn.execute(f"SELECT setval('{table}_id_seq', %s)", (last,))
        self.conn.execute("SET session_replication_role = DEFAULT")
        self.conn.commit()
        # As autovacuum leaves a table that has lived for years: statistics, and a visibility
        # map (without it PostgreSQL cannot answer from an index alone).
        self.conn.autocommit = True
        self.conn.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")
        self.conn.close()


@contextmanager
def loader(db, tables: list[str]):
    """A loader for the app's database (its engine's connections closed meanwhile), with the
    tables' secondary indexes dropped; rebuilt, analysed and closed on leaving."""
    url = db.engine.url
    db.session.commit()
    db.session.close()
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        load = SqliteLoader(url.database)
        indexes = load.drop_indexes(tables)
        yield load
        load.finish(indexes)
    else:
        load = PostgresLoader(url.render_as_string(hide_password=False))
        load.skip_foreign_keys(tables)
        indexes = load.drop_indexes(tables)
        yield load
        load.finish(indexes, tables)
