"""Generated shop data for the benchmarks: a seller's three years of orders, inserted in bulk.

A seller shipping about 1,000 orders a day has 1,000,000 after three years: `seed_orders`
spreads any count over the same three years (fewer on weekends, more in November and December,
a business that grows), and tells each order's story from the moment it was placed: it is
acknowledged within minutes, shipped within its Ship By (a few late), in two shipments now and
then, canceled (10%; a third of those asked for by the buyer), returned (4%, refunded days
later), or refused by Walmart when shipped (1.5%, fixed within days). Its status today follows
from its age: orders older than about ten days are Shipped (≈85%), Canceled (≈10%) or returned
and refunded, the last days hold the Open, Partially Shipped, Error and Return requested ones.

Rows are what the app writes for the same story: orders, lines (SKUs of a 3,000-item catalogue
with a long tail), shipments with their packages, tracking numbers and shipment lines, the
shipments' and cancellations' sync tasks, returns with their lines. They go straight through
the database driver (bench/bulk_load.py); derived data the app keeps on writes is rebuilt at
the end (rebuild_derived). Same count and seed, same data (dates relative to today).
"""

from __future__ import annotations

import time

from bench.bulk_load import loader
from bench.seed_rows import COLUMNS, TABLES
from bench.seed_story import Story

DAYS = 3 * 365


def make_stores(count: int = 3) -> list[int]:
    from webapp.models import Environment
    from webapp.services.stores.editing import StoreInput, create_store

    ids = []
    for n in range(count):
        store = create_store(StoreInput(
            name=f"Bench store {n + 1}", environment=Environment.SANDBOX, base_url=None,
            client_id=f"bench-{n}", client_secret=f"bench-secret-{n}", import_enabled=False,
            rate_limits=None), by=None)
        ids.append(store.id)
    return ids


def seed_orders(db, store_ids: list[int], count: int, seed: int = 7, chunk: int = 25_000,
                days: int = DAYS) -> dict:
    """`count` orders over `days` days up to now, with everything they bring, into a migrated
    database whose order tables are empty (ids are given, from 1). Returns samples to search
    for (one per meaning of the search), row counts and how long it took."""
    started, cpu = time.perf_counter(), time.process_time()
    story = Story(store_ids, count, seed, days, db.engine.dialect.name == "postgresql")
    writing = 0.0
    with loader(db, TABLES) as load:
        for n, rows in enumerate(story.batches(chunk)):
            began = time.perf_counter()
            for table in TABLES:
                load.write(table, COLUMNS[table], rows[table])
            load.commit()
            writing += time.perf_counter() - began
            if n % 8 == 7:
                print(f"  seeded {min((n + 1) * chunk, count):,} orders, "
                      f"{time.perf_counter() - started:.0f} s", flush=True)
        load.sequences.update(story.last_ids)
        indexing = time.perf_counter()
    finished = time.perf_counter()
    rebuild_derived(db)
    return {**story.samples, "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu,  # this process (not PostgreSQL's)
            "timings": {"generate": indexing - started - writing, "write": writing,
                        "indexes and statistics": finished - indexing,
                        "derived": time.perf_counter() - finished},
            "rows": dict(story.last_ids)}


def rebuild_derived(db) -> None:
    """Data the app derives from orders as they are written, made whole after the bulk load
    (which writes rows past the services; triggers still fire). Derived data kept by the
    services rather than by triggers (a rollup, a search table) must be rebuilt here too."""
    from jobs.maintenance import vacuum_churned_tables
    from webapp.services.orders import day_figures, status_counts

    status_counts.fold()  # one +1 row per seeded order, folded as the sweeper would
    day_figures.last_days()  # Home's first read takes the marks of the days the load changed
    # Then two sweeps, as the first minutes after a bulk import run them (jobs/maintenance.py):
    # the first VACUUM frees the deleted rows' pages (on PostgreSQL), the second fold moves
    # the kept rows into them and its VACUUM gives the empty end of the file back.
    for _ in range(2):
        status_counts.fold()
        vacuum_churned_tables()
