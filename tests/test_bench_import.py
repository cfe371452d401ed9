"""bench.import_throughput's helpers: the seeded databases it restores every round, the order of
its rounds, its medians and the table it writes — a mistake here would go unnoticed until the
lead's hour-long run at a million orders reports a wrong figure."""

from __future__ import annotations

import sqlite3

from bench import seed_cache
from bench.import_databases import postgres_copy_sql, round_names
from bench.import_throughput import paired_ratio, report, summary, turns


def _database(path, rows: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(rows)])
    conn.commit()
    conn.close()


def test_each_kind_of_seeded_file_is_cached_apart(tmp_path):
    """The import's one-store data and the Orders page's three-store data are both kept: a
    new file replaces only the older ones of its own kind."""
    cache, work = tmp_path / "cache", tmp_path / "work.sqlite"
    pages, imports = seed_cache.key(1000, 7), seed_cache.key(1000, 7, kind="import-orders")
    assert pages.startswith("orders-1000-seed7-") and imports.startswith("import-orders-1000-")
    assert seed_cache.kind_of(pages) == "orders"
    assert seed_cache.kind_of(imports) == "import-orders"
    _database(work, 3)
    seed_cache.save(cache, pages, work, {"store": 2})
    seed_cache.save(cache, imports, work, {"store": 1})
    older = imports.replace("import-orders-1000-", "import-orders-500-")
    seed_cache.save(cache, older, work, {"store": 1})  # replaces the import's, not the page's
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [f"{older}.json", f"{older}.sqlite", f"{pages}.json", f"{pages}.sqlite"])
    restored = tmp_path / "restored.sqlite"
    assert seed_cache.restore(cache, pages, restored)["store"] == 2
    assert sqlite3.connect(restored).execute("SELECT count(*) FROM t").fetchone() == (3,)
    assert seed_cache.restore(cache, imports, restored) is None


def test_postgres_rounds_copy_their_template_by_its_files():
    assert postgres_copy_sql("r", "t", 150004) == \
        'CREATE DATABASE "r" TEMPLATE "t" STRATEGY = FILE_COPY'
    assert postgres_copy_sql("r", "t", 140010) == 'CREATE DATABASE "r" TEMPLATE "t"'
    names = round_names("test_h2")
    assert names == {"empty": "test_h2_import_empty", "seeded": "test_h2_import_seeded",
                     "round": "test_h2_import_round"}
    long = round_names("x" * 70)  # PostgreSQL's names stop at 63 bytes: still three names
    assert all(len(name) == 63 for name in long.values()) and len(set(long.values())) == 3


def test_rounds_take_turns_and_report_the_median_import():
    assert [turns(n, ["empty", "seeded"]) for n in range(3)] == [
        ["empty", "seeded"], ["seeded", "empty"], ["empty", "seeded"]]
    workers = [{"seconds": s, "pages": 50, "peak_mb": mb} for s, mb in ((4, 120), (2, 130),
                                                                         (10, 110))]
    assert summary(workers, 10_000) == {"rate": 2500, "seconds": 4, "pages": 50,
                                        "peak_mb": 130}
    # Round by round: empty 4 s, seeded 5 s (80%); a slow moment (10 s, 20 s: 50%); 2 s, 2 s.
    # Medians of each kind apart would say 4 / 5 = 80% here by luck; paired, 80% by design.
    empty = [{"seconds": s} for s in (4, 10, 2)]
    seeded = [{"seconds": s} for s in (5, 20, 2)]
    assert paired_ratio(empty, seeded) == 0.8
    assert paired_ratio([{"seconds": 2}], [{"seconds": 1}]) == 2


def test_the_table_says_which_target_is_met():
    small = {"orders": 10_000, "existing": 1_000_000, "rounds": 3, "bare_rate": 4000, "load": 1,
             "databases": {
                 "SQLite": {"empty": {"rate": 3000, "seconds": 3.3, "pages": 51,
                                      "peak_mb": 120},
                            "seeded": {"rate": 2700, "seconds": 3.7, "pages": 51,
                                       "peak_mb": 125}, "ratio": 0.9},
                 "PostgreSQL": {"empty": {"rate": 1000, "seconds": 10, "pages": 51,
                                          "peak_mb": 130},
                                "seeded": {"rate": 700, "seconds": 14.3, "pages": 51,
                                           "peak_mb": 260}, "ratio": 0.7}}}
    first = {"orders": 180_000, "rate": 1500, "seconds": 120, "pages": 930, "peak_mb": 180}
    table = report(small, first, "the command")
    assert "| SQLite: seeded / empty | 10,000 | 90% | ≥ 75% | yes |" in table
    assert "| PostgreSQL: seeded / empty | 10,000 | 70% | ≥ 75% | **no** |" in table
    assert "| PostgreSQL: import / bare fetch | 10,000 | 25% | ≥ 50% | **no** |" in table
    assert "| worker peak memory (RSS), these imports | 10,000 | 260 MB | ≤ 250 MB | " \
           "**no** |" in table
    assert "| worker peak memory (RSS), first import | 180,000 | 180 MB | ≤ 250 MB | yes |" \
        in table
    assert "a database of 1,000,000 orders" in table and "`the command`" in table
    assert "3 rounds of (bare fetch, imports, empty and seeded in turns)" in table
    alone = report({**small, "existing": 0, "rounds": 1, "databases": {
        "SQLite": {"empty": small["databases"]["SQLite"]["empty"]}}}, None, "the command")
    assert "seeded" not in alone and "holding" not in alone and "1 round of" in alone


def test_every_round_starts_from_the_seeded_store_the_import_runs_against(tmp_path, redis_url):
    """The seeded orders are the import store's own (its lookups face all of them), their POs
    cannot be the simulator's (15 digits), and what a round writes is gone from the next."""
    from cryptography.fernet import Fernet

    from bench.import_databases import Connection, SqliteDatabases

    conn = Connection("http://127.0.0.1:9", "bench-id", "bench-secret",
                      Fernet.generate_key().decode(), {"orders": 1000})
    databases = SqliteDatabases(tmp_path, redis_url, conn, existing=60, seed=3, cache=None)

    def rows(url: str) -> list[tuple]:
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            return db.execute("SELECT store_id, length(purchase_order_id), count(*) FROM orders "
                              "GROUP BY 1, 2").fetchall()

    seeded = databases.fresh("seeded")
    assert rows(seeded) == [(databases.store_id, 13, 60)]
    with sqlite3.connect(seeded.removeprefix("sqlite:///")) as db:
        assert db.execute("SELECT base_url, client_id FROM stores").fetchall() == [
            ("http://127.0.0.1:9", "bench-id")]
        db.execute("DELETE FROM order_lines")  # what an import round might leave behind
        db.execute("UPDATE orders SET store_id = store_id + 1")
    assert rows(databases.fresh("seeded")) == [(databases.store_id, 13, 60)]
    assert rows(databases.fresh("empty")) == []
