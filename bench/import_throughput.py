"""Import throughput, whether it slows with the database, and worker memory, against the
simulator as its own server process.

    .venv/bin/python -m bench.import_throughput [--orders 10000] [--existing 1000000]
        [--rounds 3] [--first-import 180000] [--reuse] [--cache-dir DIR] [--seed 7]
        [--sqlite-only]

1. The simulator (rate limits scaled up ×1000) holds --orders released orders placed over the
   last 5 days (recent enough that Walmart has not auto-cancelled any).
2. Baseline: a bare loop pages through the same orders over HTTP (requests, 200 a page,
   following nextCursor) and decodes the JSON, storing nothing: orders per second.
3. Orderdeck imports them in a worker process exactly as the RQ job runs it (`import_store`;
   acknowledgements queued, not sent): orders per second, and the process's peak RSS. Into an
   EMPTY database, and into one already holding --existing orders of the same store, generated
   by bench/seed.py (three years of a seller's history; the new orders' POs are not among
   them). On SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set (databases named
   after its own are created beside it and dropped: bench/import_databases.py). Each round
   restores both databases first (a copy of a template made once) and runs the bare fetch,
   then the imports, empty and seeded in turns; medians over --rounds rounds. Target: the
   import into the seeded database at ≥ 75% of the rate into the empty one (the median of
   each round's ratio: the machine's noise is large, a pair runs within seconds).
4. A seller's first import of Walmart's 180 days (--first-import orders, on SQLite): a history
   where the orders older than their Ship By were shipped in Seller Center (last modified
   then) and the newer ones are released. Orderdeck's own first pass reads the last 30 days
   of changes and the released orders; to read all 180 days, the store's watermark is set 180
   days back (a store that last imported half a year ago): the same code path over every
   order Walmart serves, in split windows (Walmart answers at most 10,000 orders per query).
   Time, orders per second and worker peak RSS (target ≤ 250 MB).

--reuse keeps the seeded SQLite file between runs (bench/seed_cache.py, kind
"import-orders"); PostgreSQL is seeded afresh on every run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, now, redis_url, write_section
from bench.import_databases import (
    Connection,
    PostgresDatabases,
    SqliteDatabases,
    set_watermark,
)

FAST = {"released": 100000, "orders": 100000, "order": 100000, "acknowledge": 100000,
        "shipping": 100000, "cancel": 100000, "refund": 100000, "returns": 100000,
        "return_refund": 100000, "inventory": 100000}


def seed_simulator(sim, seller: str, count: int, days: float = 5, history: bool = False) -> float:
    """`count` orders placed over the last `days` at the simulator; with `history`, those
    past their Ship By shipped in Seller Center then (as ship_due seeds them)."""
    from simulator import control

    started = time.perf_counter()
    control.seed_orders(sim.conn, seller, count, seed=11, days=days, intent_rate=0.0,
                        ship_due=history)
    return time.perf_counter() - started


def bare_fetch(url: str, client_id: str, secret: str) -> tuple[int, float]:
    """Page through every order created in the last 180 days; decode, count, keep nothing."""
    import uuid
    from datetime import UTC, datetime, timedelta

    import requests

    session = requests.Session()
    headers = {"WM_SVC.NAME": "bench", "Accept": "application/json"}
    started = time.perf_counter()
    token = session.post(f"{url}/v3/token", auth=(client_id, secret),
                         data={"grant_type": "client_credentials"},
                         headers={**headers, "WM_QOS.CORRELATION_ID": str(uuid.uuid4())}
                         ).json()["access_token"]
    headers["WM_SEC.ACCESS_TOKEN"] = token
    since = (datetime.now(UTC) - timedelta(days=179)).strftime("%Y-%m-%dT%H:%M:%SZ")
    path, params, count = "/v3/orders", {"createdStartDate": since, "limit": "200"}, 0
    while True:
        response = session.get(url + path, params=params,
                               headers={**headers, "WM_QOS.CORRELATION_ID": str(uuid.uuid4())})
        response.raise_for_status()
        body = response.json()["list"]
        count += len(body["elements"]["order"])
        cursor = body["meta"].get("nextCursor")
        if not cursor:
            break
        path, params = "/v3/orders" + cursor, None
    return count, time.perf_counter() - started


def run_worker(database_url: str, redis: str, instance: str, store_id: int,
               simulator_url: str) -> dict:
    """The import in its own process (as an RQ worker runs it); its peak RSS comes back."""
    output = subprocess.run(
        [sys.executable, "-m", "bench.import_throughput", "--worker", database_url, redis,
         instance, str(store_id)], cwd=ROOT, capture_output=True, text=True, check=False,
        env={**os.environ, "ORDERDECK_SIMULATOR_URL": simulator_url})
    if output.returncode != 0:
        raise RuntimeError(output.stderr[-3000:])
    return json.loads(output.stdout.strip().splitlines()[-1])


def worker_main(database_url: str, redis: str, instance: str, store_id: int) -> None:
    import logging

    logging.disable(logging.WARNING)
    from bench.orders_page import build_app

    app = build_app(database_url, redis, Path(instance), encryption_key=read_key(instance))
    with app.app_context():
        from sqlalchemy import func, select

        from webapp.extensions import db
        from webapp.models import Order
        from webapp.services.orders.importer import import_store

        started = time.perf_counter()
        run = import_store(store_id, "bench")
        seconds = time.perf_counter() - started
        stored = db.session.scalar(select(func.count(Order.id)))
        seen, created, pages = run.seen, run.created, run.pages
    print(json.dumps({"seconds": seconds, "stored": stored, "seen": seen, "created": created,
                      "pages": pages, "peak_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). Not getrusage's ru_maxrss: Linux keeps
    that across exec, so a worker started by a big parent would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_key(instance: str) -> str:
    return (Path(instance) / "bench_key").read_text()


def connection(folder: Path, sim, client_id: str, secret: str) -> Connection:
    """How this run's store reaches the simulator; the encryption key is left in the folder
    for the worker processes."""
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    (folder / "bench_key").write_text(key)
    return Connection(sim.url, client_id, secret, key, FAST)


def import_into(databases, kind: str, redis: str, folder: Path, sim_url: str,
                count: int) -> dict:
    """One import into a fresh copy of the `kind` database, in a worker process."""
    from redis import Redis

    database_url = databases.fresh(kind)
    Redis.from_url(redis).flushdb()
    worker = run_worker(database_url, redis, str(folder), databases.store_id, sim_url)
    assert worker["created"] == count, worker  # every order new, none of the seeded ones
    return worker


def turns(number: int, kinds: list[str]) -> list[str]:
    """The kinds in this round's order: reversed every other round, so neither always runs
    first (after the bare fetch) or last (on a machine that warms up or slows down)."""
    return list(kinds) if number % 2 == 0 else list(reversed(kinds))


def summary(workers: list[dict], count: int) -> dict:
    """The median import of a list (by time), and the peak memory of all of them."""
    middle = sorted(workers, key=lambda w: w["seconds"])[len(workers) // 2]
    return {"rate": count / middle["seconds"], "seconds": middle["seconds"],
            "pages": middle["pages"], "peak_mb": max(w["peak_mb"] for w in workers)}


def paired_ratio(empty: list[dict], seeded: list[dict]) -> float:
    """The seeded import's rate over the empty one's, round by round (the two ran a few seconds
    apart, on the same machine's noise), median of the rounds' ratios: a slow moment of the
    shared machine in one round does not pair one kind's best with the other's worst."""
    return statistics.median(e["seconds"] / s["seconds"] for e, s in zip(empty, seeded,
                                                                           strict=True))


def measure(count: int, existing: int, rounds: int, seed: int, cache: Path | None,
            postgres_url: str | None) -> dict:
    """`rounds` rounds of (bare fetch, then per database the import into an empty and into a
    seeded database), one after the other so that all see the same machine; medians (the
    machine's noise is large: the simulator and the importer share its cores)."""
    from bench.simulator_process import SimulatorProcess

    load = os.getloadavg()[0]  # the machine may be shared: say how busy it was
    with redis_url() as redis, tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        sim = SimulatorProcess(folder, rate_scale=1000)
        opened = []
        try:
            seller, client_id, secret = sim.seller()
            seeded = seed_simulator(sim, seller, count)
            print(f"simulator seeded with {count:,} orders in {seeded:.0f} s")
            conn = connection(folder, sim, client_id, secret)
            opened.append(("SQLite", SqliteDatabases(folder, redis, conn, existing, seed,
                                                     cache)))
            if postgres_url:
                opened.append(("PostgreSQL", PostgresDatabases(postgres_url, folder, redis,
                                                               conn, existing, seed)))
            kinds = ["empty", "seeded"] if existing else ["empty"]
            bare: list[float] = []
            imports = {(label, kind): [] for label, _ in opened for kind in kinds}
            for number in range(rounds):
                fetched, seconds = bare_fetch(sim.url, client_id, secret)
                assert fetched == count, (fetched, count)
                bare.append(seconds)
                print(f"round {number + 1}: bare fetch {fetched / seconds:.0f} orders/s")
                for label, databases in opened:
                    for kind in turns(number, kinds):
                        worker = import_into(databases, kind, redis, folder, sim.url, count)
                        imports[label, kind].append(worker)
                        print(f"  {label}, {kind}: {count / worker['seconds']:.0f} orders/s "
                              f"({worker['seconds']:.1f} s, {worker['pages']} pages), worker "
                              f"peak {worker['peak_mb']:.0f} MB")
            result = {"orders": count, "existing": existing, "rounds": rounds, "load": load,
                      "bare_rate": count / statistics.median(bare), "databases": {}}
            for label, _ in opened:
                found = result["databases"][label] = {
                    kind: summary(imports[label, kind], count) for kind in kinds}
                if existing:
                    found["ratio"] = paired_ratio(imports[label, "empty"],
                                                  imports[label, "seeded"])
                    print(f"{label}: into {existing:,} orders {found['seeded']['rate']:.0f} "
                          f"orders/s / empty {found['empty']['rate']:.0f} orders/s = "
                          f"{found['ratio']:.0%} (target ≥ 75%)")
            return result
        finally:
            for _label, databases in opened:
                databases.close()
            sim.stop()


def measure_first_import(count: int, seed: int) -> dict:
    """A seller's 180 days at the simulator, imported into an empty SQLite database."""
    from bench.simulator_process import SimulatorProcess

    with redis_url() as redis, tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        sim = SimulatorProcess(folder, rate_scale=1000)
        try:
            seller, client_id, secret = sim.seller()
            seeded = seed_simulator(sim, seller, count, days=179, history=True)
            print(f"[first import] simulator seeded with {count:,} orders over 179 days in "
                  f"{seeded:.0f} s")
            conn = connection(folder, sim, client_id, secret)
            databases = SqliteDatabases(folder, redis, conn, 0, 0, None)
            database_url = databases.fresh("empty")
            set_watermark(database_url, redis, folder, conn, databases.store_id, days=180)
            from redis import Redis

            Redis.from_url(redis).flushdb()
            worker = run_worker(database_url, redis, str(folder), databases.store_id, sim.url)
            assert worker["created"] == count, worker
            print(f"[first import] {count:,} orders in {worker['seconds']:.0f} s = "
                  f"{count / worker['seconds']:.0f} orders/s ({worker['pages']} pages), "
                  f"worker peak {worker['peak_mb']:.0f} MB")
            return {"orders": count, **summary([worker], count)}
        finally:
            sim.stop()


def _meets(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _method(small: dict) -> str:
    count, existing, rounds = small["orders"], small["existing"], small["rounds"]
    into = "an empty database"
    turns_ = "imports"
    medians = "medians."
    if existing:
        into += (f" and into one already holding {existing:,} orders of the same store (three "
                 "years of a seller's history, generated by bench/seed.py)")
        turns_ += ", empty and seeded in turns"
        medians = "medians (seeded / empty: the median of the rounds' ratios)."
    return ("The simulator runs as its own gunicorn process (2 workers) with its rate limits "
            "scaled ×1000; Orderdeck imports in a separate process, as an RQ worker runs the job "
            "(`import_store`, acknowledgements queued, not sent). Baseline: a bare loop paging "
            "through the same orders over HTTP and decoding them without storing. "
            f"{count:,} new orders (placed over the last 5 days) are imported into {into}, a "
            f"fresh copy of its template every time. {rounds} round{'s' if rounds > 1 else ''} "
            f"of (bare fetch, {turns_}); {medians} Load average when the run began: "
            f"{small['load']:.1f}.")


def report(small: dict, first: dict | None, command: str) -> str:
    from bench.common import machine

    count, existing = small["orders"], small["existing"]
    lines = ["## Import throughput", "", f"{machine()}; {now()}.", _method(small), "",
             "| measurement | orders | result | target | meets |", "|---|---|---|---|---|",
             f"| bare fetch (baseline) | {count:,} | {small['bare_rate']:.0f} orders/s | — "
             "| — |"]
    peak = 0.0
    for label, found in small["databases"].items():
        empty = found["empty"]
        ratio = empty["rate"] / small["bare_rate"]
        lines += [f"| {label}: import into an empty database | {count:,} | "
                  f"{empty['rate']:.0f} orders/s ({empty['seconds']:.1f} s, {empty['pages']} "
                  "pages) | — | — |",
                  f"| {label}: import / bare fetch | {count:,} | {ratio:.0%} | ≥ 50% | "
                  f"{_meets(ratio >= 0.5)} |"]
        peak = max(peak, empty["peak_mb"])
        if "seeded" in found:
            seeded = found["seeded"]
            lines += [f"| {label}: import into a database of {existing:,} orders | {count:,} | "
                      f"{seeded['rate']:.0f} orders/s ({seeded['seconds']:.1f} s) | — | — |",
                      f"| {label}: seeded / empty | {count:,} | {found['ratio']:.0%} | ≥ 75% | "
                      f"{_meets(found['ratio'] >= 0.75)} |"]
            peak = max(peak, seeded["peak_mb"])
    lines.append(f"| worker peak memory (RSS), these imports | {count:,} | {peak:.0f} MB | "
                 f"≤ 250 MB | {_meets(peak <= 250)} |")
    if first:
        lines += [f"| first import of 180 days, SQLite (split windows) | {first['orders']:,} | "
                  f"{first['rate']:.0f} orders/s ({first['seconds']:.0f} s, "
                  f"{first['pages']} pages) | — | — |",
                  f"| worker peak memory (RSS), first import | {first['orders']:,} | "
                  f"{first['peak_mb']:.0f} MB | ≤ 250 MB | {_meets(first['peak_mb'] <= 250)} |"]
        lines += ["", "The first import: a seller's 180 days at the simulator, the orders "
                  "past their Ship By shipped in Seller Center then (last modified then), the "
                  "newer ones released; the store's watermark set 180 days back so that the "
                  "pass reads every order Walmart serves (Orderdeck's very first pass reads "
                  "30 days of changes and the released orders), in windows of at most 10,000 "
                  "orders."]
    lines += ["", f"Reproduce: `make bench` or `{command}`."]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker_main(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    import logging

    from bench import seed_cache

    logging.disable(logging.INFO)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=10_000, help="new orders to import")
    parser.add_argument("--existing", type=int, default=1_000_000,
                        help="orders already in the seeded database (0: empty only)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--first-import", type=int, default=180_000,
                        help="orders of the 180-day first import (0: skip it)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true",
                        help="keep the seeded SQLite file between runs (see bench/seed_cache.py)")
    parser.add_argument("--cache-dir", type=Path, default=seed_cache.DEFAULT_DIR)
    parser.add_argument("--sqlite-only", action="store_true",
                        help="skip PostgreSQL even when TEST_DATABASE_URL is set")
    args = parser.parse_args()
    postgres = None if args.sqlite_only else os.environ.get("TEST_DATABASE_URL")
    small = measure(args.orders, args.existing, max(args.rounds, 1), args.seed,
                    args.cache_dir if args.reuse else None, postgres)
    first = measure_first_import(args.first_import, args.seed) if args.first_import else None
    command = (f".venv/bin/python -m bench.import_throughput --orders {args.orders} "
               f"--existing {args.existing} --rounds {max(args.rounds, 1)} "
               f"--first-import {args.first_import}")
    write_section("import", report(small, first, command))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
