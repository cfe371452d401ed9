"""Import throughput and worker memory, against the simulator as its own server process.

    .venv/bin/python -m bench.import_throughput [--orders 10000] [--memory-orders 100000]
                                                [--rounds 3]

1. The simulator (rate limits scaled up ×1000) holds N released orders placed over the last 5
   days (recent enough that Walmart has not auto-cancelled any).
2. Baseline: a bare loop pages through the same orders over HTTP (requests, 200 a page,
   following nextCursor) and decodes the JSON, storing nothing: orders per second.
3. Orderdeck: one import pass of an empty SQLite database, run in a worker process exactly as
   the RQ job runs it (`import_store`): orders per second, and the process's peak RSS.
   Steps 2 and 3 alternate over three rounds (--rounds); the medians are reported.
4. The same import at 100,000 orders, for memory (Walmart answers at most 10,000 orders per
   query, so the import splits its windows).
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

FAST = {"released": 100000, "orders": 100000, "order": 100000, "acknowledge": 100000,
        "shipping": 100000, "cancel": 100000, "refund": 100000, "returns": 100000,
        "return_refund": 100000, "inventory": 100000}


def seed(sim, seller: str, count: int) -> float:
    from simulator import control

    started = time.perf_counter()
    control.seed_orders(sim.conn, seller, count, seed=11, days=5, intent_rate=0.0)
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
        seen, pages = run.seen, run.pages
    print(json.dumps({"seconds": seconds, "stored": stored, "seen": seen, "pages": pages,
                      "peak_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). Not getrusage's ru_maxrss: Linux keeps
    that across exec, so a worker started by a big parent would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_key(instance: str) -> str:
    return (Path(instance) / "bench_key").read_text()


def prepare_database(folder: Path, redis: str, sim, client_id: str, secret: str):
    """An empty, migrated SQLite database with one store pointed at the simulator; its key is
    left in the folder for the worker process."""
    from bench.shop import open_shop

    shop = open_shop(folder, redis, sim, client_id, secret, FAST)
    (folder / "bench_key").write_text(shop.encryption_key)
    with shop.app.app_context():
        from webapp.extensions import db
        db.engine.dispose()
    return shop.database_url, shop.store_id


def import_once(folder: Path, redis: str, sim, client_id: str, secret: str,
                count: int) -> dict:
    """One import into a new, empty database (its own folder)."""
    folder.mkdir()
    database_url, store_id = prepare_database(folder, redis, sim, client_id, secret)
    worker = run_worker(database_url, redis, str(folder), store_id, sim.url)
    assert worker["stored"] == count, worker
    return worker


def measure(count: int, label: str, rounds: int, with_baseline: bool) -> dict:
    """`rounds` rounds of (bare fetch, import into an empty database), one after the other so
    that both see the same machine; the medians are reported (the machine's noise is large:
    the simulator and the importer share its cores)."""
    from redis import Redis

    from bench.simulator_process import SimulatorProcess

    with redis_url() as redis, tempfile.TemporaryDirectory() as folder:
        sim = SimulatorProcess(Path(folder), rate_scale=1000)
        try:
            seller, client_id, secret = sim.seller()
            seeded = seed(sim, seller, count)
            print(f"[{label}] simulator seeded with {count:,} orders in {seeded:.0f} s")
            bare, imports = [], []
            for number in range(rounds):
                if with_baseline:
                    fetched, seconds = bare_fetch(sim.url, client_id, secret)
                    assert fetched == count, (fetched, count)
                    bare.append(seconds)
                    print(f"[{label}] bare fetch: {fetched:,} orders in {seconds:.1f} s = "
                          f"{fetched / seconds:.0f} orders/s")
                Redis.from_url(redis).flushdb()
                worker = import_once(Path(folder) / f"round{number}", redis, sim, client_id,
                                     secret, count)
                imports.append(worker)
                print(f"[{label}] import: {count:,} orders in {worker['seconds']:.1f} s = "
                      f"{count / worker['seconds']:.0f} orders/s ({worker['pages']} pages), "
                      f"worker peak {worker['peak_mb']:.0f} MB")
            middle = sorted(imports, key=lambda w: w["seconds"])[len(imports) // 2]
            result = {"orders": count, "rounds": rounds, "rate": count / middle["seconds"],
                      "seconds": middle["seconds"], "pages": middle["pages"],
                      "peak_mb": max(w["peak_mb"] for w in imports)}
            if bare:
                result["bare_rate"] = count / statistics.median(bare)
                result["ratio"] = result["rate"] / result["bare_rate"]
                print(f"[{label}] median of {rounds}: import {result['rate']:.0f} orders/s / "
                      f"bare fetch {result['bare_rate']:.0f} orders/s = {result['ratio']:.0%} "
                      "(target ≥ 50%)")
            return result
        finally:
            sim.stop()


def report(small: dict, large: dict | None) -> str:
    from bench.common import machine

    lines = ["## Import throughput", "", f"{machine()}; {now()}.",
             "The simulator runs as its own gunicorn process (2 workers) with its rate limits "
             "scaled ×1000; Orderdeck imports into an empty SQLite database in a separate "
             "process, as an RQ worker runs the job (`import_store`, acknowledgements queued, "
             "not sent). Baseline: a bare loop paging through the same orders over HTTP and "
             f"decoding them without storing. {small['rounds']} rounds of (bare fetch, import "
             "into an empty database); medians.", "",
             "| measurement | orders | result | target | meets |", "|---|---|---|---|---|",
             f"| bare fetch (baseline) | {small['orders']:,} | {small['bare_rate']:.0f} "
             "orders/s | — | — |",
             f"| import | {small['orders']:,} | {small['rate']:.0f} orders/s "
             f"({small['seconds']:.1f} s, {small['pages']} pages) | — | — |",
             f"| import / bare fetch | {small['orders']:,} | {small['ratio']:.0%} | ≥ 50% | "
             f"{'yes' if small['ratio'] >= 0.5 else '**no**'} |",
             f"| worker peak memory (RSS) | {small['orders']:,} | {small['peak_mb']:.0f} MB | "
             "≤ 250 MB | " + ("yes" if small["peak_mb"] <= 250 else "**no**") + " |"]
    if large:
        lines.append(f"| worker peak memory (RSS) | {large['orders']:,} | "
                     f"{large['peak_mb']:.0f} MB ({large['rate']:.0f} orders/s, "
                     f"{large['pages']} pages) | ≤ 250 MB | "
                     f"{'yes' if large['peak_mb'] <= 250 else '**no**'} |")
    lines += ["", "Reproduce: `make bench` or `.venv/bin/python -m bench.import_throughput "
              f"--orders {small['orders']} --memory-orders {large['orders'] if large else 0} "
              f"--rounds {small['rounds']}`."]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker_main(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    import logging

    logging.disable(logging.INFO)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--memory-orders", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="bare fetch + import rounds")
    args = parser.parse_args()
    small = measure(args.orders, f"{args.orders:,}", rounds=max(args.rounds, 1),
                    with_baseline=True)
    large = measure(args.memory_orders, f"{args.memory_orders:,}", rounds=1,
                    with_baseline=False) \
        if args.memory_orders else None
    write_section("import", report(small, large))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
