"""Loading generated rows fast: straight through the database driver, indexes built once.

SQLite: executemany in one transaction per chunk, journal and fsync off (a benchmark file:
a crash mid-load throws it away). PostgreSQL: COPY. On both, the secondary indexes of the
loaded tables (whatever the migrations created, search indexes included) are dropped before the
load and created again after it: building an index once from the finished table sorts once,
where growing it row by row costs a random B-tree insert per row. Triggers stay: what a
trigger keeps (orders per status, a search table) is kept by it. Foreign keys are not checked
row by row: SQLite's are off for the load, PostgreSQL's dropped and added back (one join each).
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

    def drop_foreign_keys(self, tables: list[str]) -> list[tuple[str, str, str]]:
        """The foreign keys of these tables, dropped: PostgreSQL checks one per row through a
        trigger, where adding it back checks them all with one join. (Not by turning triggers
        off: that would turn off the tables' own triggers too, which keep derived data.)"""
        found = self.conn.execute(
            "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid WHERE c.contype = 'f' "
            "AND t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace",
            (tables,)).fetchall()
        for table, name, _definition in found:
            self.conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        return found

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

    def finish(self, indexes: list[str], foreign_keys: list[tuple[str, str, str]],
               tables: list[str]) -> None:
        for sql in indexes:
            self.conn.execute(sql)
        for table, name, definition in foreign_keys:
            self.conn.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        for table, last in self.sequences.items():  # explicit ids: move the sequences on
            if last:
                self.conn.execute(f"SELECT setval('{table}_id_seq', %s)", (last,))
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
        foreign_keys = load.drop_foreign_keys(tables)
        indexes = load.drop_indexes(tables)
        yield load
        load.finish(indexes, foreign_keys, tables)
