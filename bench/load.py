"""Under load: 30 people at the dashboard for two minutes, on PostgreSQL, as in production.

    .venv/bin/python -m bench.load [--orders 1000000] [--seconds 120] [--users 30]

Needs PostgreSQL: BENCH_DATABASE_URL, else TEST_DATABASE_URL (its schema is dropped and rebuilt:
give it a database of its own); without either it says so and does nothing. Each in its own
process, as docs/operations.md runs them: gunicorn with the README's command line (4 workers × 4
threads), `--workers` RQ workers (`python -m jobs.worker`'s worker, noting each job's queue
delay: bench/load_worker.py), one `rq cron` scheduler, and the Walmart simulator at Walmart's
real rate limits.

Data: `--orders` orders of three years (bench.seed) in three bench stores whose credentials are
fake and whose import is off, and a store at the simulator whose `--sim-orders` open orders were
imported and acknowledged beforehand (its import stays on: the scheduler runs it during the
test); only those are shipped. Each shape is first measured unloaded (one person, one request at
a time, same server), then under load (bench/load_users.py says what the people do).
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import proc_cpu
from bench.common import ROOT, redis_url
from bench.load_report import report, summary
from bench.load_users import PASSWORD, SEARCHES, Person

SYNC_FUNCTIONS = ("jobs.sync.run_task", "jobs.sync.run_tasks")
WARM_UP = 6  # rounds of every shape before anything is timed


def database_url() -> str | None:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    return url if url and url.startswith("postgresql") else None


def prepare(folder: Path, url: str, redis: str, sim, args) -> dict:
    """The database: schema, accounts, bench history, the simulator store imported."""
    from cryptography.fernet import Fernet
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text

    from bench.orders_page import build_app
    from bench.seed import make_stores, seed_orders
    from bench.shop import Shop, acknowledge_all
    from simulator import control
    from webapp.extensions import db

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    key = Fernet.generate_key().decode()
    app = build_app(url, redis, folder, encryption_key=key, simulator_url=sim.url)
    seller, client_id, secret = sim.seller()
    control.seed_orders(sim.conn, seller, args.sim_orders, seed=9, days=1, intent_rate=0.0)
    acknowledge_all(sim, seller)  # as Walmart shows them minutes after they arrive
    with app.app_context():
        upgrade()
        from webapp.models import Environment, Role
        from webapp.services.orders.importer import import_store
        from webapp.services.stores.editing import StoreInput, create_store
        from webapp.services.users.accounts import create_user

        for n in range(1, args.users + 1):  # one account per person, every one may ship
            create_user(f"operator{n:02d}@example.com", Role.OPERATOR, PASSWORD)
        stores = make_stores(3)
        started = time.perf_counter()
        seed_orders(db, stores, args.orders)
        seeded = time.perf_counter() - started
        print(f"[load] seeded {args.orders:,} orders in {seeded:.0f} s")
        store = create_store(StoreInput(
            name="Simulator store", environment=Environment.SIMULATOR, base_url=sim.url,
            client_id=client_id, client_secret=secret, import_enabled=True,
            rate_limits=None), by=None)  # Walmart's own limits
        run = import_store(store.id, "bench")
        assert run.created == args.sim_orders, f"imported {run.created} of {args.sim_orders}"
        data = {"app": app, "seller": seller, "seed_seconds": seeded, "store_id": store.id,
                "searches": search_values(db), **open_orders(db, store.id)}
    shop = Shop(app, url, key, store.id, folder, redis, sim.url)
    data["env"] = shop.worker_env(ORDERDECK_ENV="production",
                                  # plain HTTP on the loopback: the HTTPS proxy is left out
                                  ORDERDECK_SECURE_COOKIES="0")
    return data


def open_orders(db, store_id: int) -> dict:
    from sqlalchemy import func, select

    from webapp.models import Order, OrderStatus

    ids = list(db.session.scalars(select(Order.id).where(
        Order.store_id == store_id, Order.status == OrderStatus.OPEN)))
    random.Random(3).shuffle(ids)
    return {"to_ship": ids, "order_ids": (1, db.session.scalar(select(func.max(Order.id))))}


def search_values(db, count: int = 200) -> dict[str, list[str]]:
    """Real values of random orders: their PO, a prefix of one of their SKUs, a fragment of
    their customer's name (3–6 letters, as people type them)."""
    from sqlalchemy import func, select

    from webapp.models import Order, OrderLine

    rng = random.Random(11)
    top = db.session.scalar(select(func.max(Order.id)))
    ids = rng.sample(range(1, top + 1), min(count, top))
    rows = db.session.execute(select(Order.purchase_order_id, Order.customer_name)
                              .where(Order.id.in_(ids))).all()
    skus = list(db.session.scalars(select(OrderLine.sku).where(OrderLine.order_id.in_(ids))))
    names = []
    for _po, name in rows:
        word = rng.choice(name.split())
        size = min(len(word), rng.randint(3, 6))
        start = rng.randint(0, len(word) - size)
        names.append(word[start:start + size])
    prefixes = [sku[:rng.randint(min(9, len(sku)), len(sku))] for sku in skus]
    return dict(zip(SEARCHES, ([po for po, _ in rows], prefixes, names), strict=True))


def postgres_backends(url: str) -> list[int]:
    """The server processes of this database's connections (pools keep them open)."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        return [pid for (pid,) in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")]


def start(folder: Path, env: dict, redis: str, workers: int) -> tuple[list, str]:
    """gunicorn as the README runs it, the RQ workers, the scheduler."""
    from devserver.net import free_port, wait_until_serving

    port = free_port()
    logs = folder / "logs"
    logs.mkdir(exist_ok=True)

    def spawn(name: str, command: list[str]) -> subprocess.Popen:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=(logs / f"{name}.log").open("w"))

    # The README's command; a free port, and no gunicorn 27 control socket (one per home
    # directory: concurrent runs would fight over it).
    processes = [spawn("web", [sys.executable, "-m", "gunicorn", "--workers", "4", "--threads",
                               "4", "--bind", f"127.0.0.1:{port}", "--no-control-socket",
                               "wsgi:app"])]
    processes += [spawn(f"worker{n}", [sys.executable, "-m", "bench.load_worker"])
                  for n in range(workers)]
    processes.append(spawn("cron", [str(Path(sys.executable).parent / "rq"), "cron", "-u",
                                    redis, "jobs.cron_schedule"]))
    url = f"http://127.0.0.1:{port}"
    if not wait_until_serving(f"{url}/healthz", process=processes[0]):
        raise RuntimeError(f"the web server did not start: see {logs / 'web.log'}")
    return processes, url


def rounds(person: Person, count: int) -> None:
    """Every shape of the Orders page, the polls and an order page, one request at a time."""
    for _ in range(count):
        person.first_page()
        person.poll_orders()
        person.poll_orders(changed=True)
        person.status_card()
        person.next_page()
        person.order_page()
        for meaning in SEARCHES:
            person.search(meaning)
            person.poll_orders(changed=True)


def unloaded(person: Person, count: int, ships: int) -> list:
    """`count` rounds of every shape; a few ships, each order page polled every 50 ms until
    it settles."""
    rounds(person, count)
    for _ in range(ships):
        if not person.ship():
            break
        for _ in range(400):
            if not person.order_poll:
                break
            time.sleep(0.05)
            person.poll_order()
    return person.samples


def load(people: list[Person], seconds: float, groups: dict) -> dict:
    """Everyone at once until the time is up: the window (epochs), the cores each group of
    processes used meanwhile, the load average before and after."""
    before, load_before = proc_cpu.snapshot(groups), os.getloadavg()
    started = time.time()
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=p.run, args=(until,), daemon=True) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ended = time.time()
    return {"started": started, "ended": ended, "load_before": load_before,
            "load_after": os.getloadavg(),
            "cores": proc_cpu.usage(before, proc_cpu.snapshot(groups), ended - started)}


def wait_synced(app, order_ids: set[int], limit: float) -> float | None:
    """Seconds after the load until every shipment's task is Synced (None: not within limit)."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import SyncTask, TaskKind, TaskState

    began = time.monotonic()
    with app.app_context():
        while True:
            states = db.session.execute(select(SyncTask.order_id, SyncTask.state).where(
                SyncTask.kind == TaskKind.SHIP, SyncTask.order_id.in_(list(order_ids)))).all()
            db.session.rollback()
            if {o for o, s in states if s == TaskState.SYNCED} >= order_ids:
                return time.monotonic() - began
            if time.monotonic() - began > limit:
                return None
            time.sleep(0.5)


def check_shipments(app, sim, seller: str, shipped: dict[int, str]) -> dict:
    """Each shipped order once at Walmart (the simulator's request log and its order), and
    once Synced here."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Order, SyncTask, TaskKind, TaskState

    with app.app_context():
        po_of = dict(db.session.execute(select(Order.id, Order.purchase_order_id)
                                        .where(Order.id.in_(shipped))).all())
        # The shipped orders' tasks only: the seeded history holds a million orders' own.
        tasks = db.session.execute(select(SyncTask.order_id, SyncTask.state, SyncTask.created_at,
                                          SyncTask.synced_at)
                                   .where(SyncTask.kind == TaskKind.SHIP,
                                          SyncTask.order_id.in_(list(shipped)))).all()
    calls = sim.conn.execute("SELECT path, status FROM requests WHERE seller_id = ? AND "
                             "endpoint = 'shipping'", (seller,)).fetchall()
    accepted: dict[str, int] = {}
    for path, status in calls:
        if status == 200:
            po = path.split("/")[3]
            accepted[po] = accepted.get(po, 0) + 1
    docs = {po: doc for po, doc in sim.conn.execute(
        "SELECT po, doc FROM orders WHERE seller_id = ?", (seller,))}
    once = [o for o, po in po_of.items() if accepted.get(po) == 1 and shipped[o] in docs[po]]
    per_order: dict[int, int] = {}
    for order_id, _state, _c, _s in tasks:
        per_order[order_id] = per_order.get(order_id, 0) + 1
    synced = [t for t in tasks if t.state == TaskState.SYNCED]
    return {"shipped": len(shipped), "once_at_walmart": len(once),
            "accepted_calls": sum(accepted.values()), "pos_at_walmart": len(accepted),
            "refused_calls": sum(1 for _p, s in calls if s != 200),
            "tasks": len(tasks), "one_task_each": all(per_order.get(o) == 1 for o in shipped),
            "synced": len(synced),
            "sync_seconds": [(t.synced_at - t.created_at).total_seconds() for t in synced]}


def failed_jobs(redis: str) -> int:
    from redis import Redis
    from rq import Queue

    from jobs.queue import QUEUE_NAME

    return Queue(QUEUE_NAME, connection=Redis.from_url(redis)).failed_job_registry.count


def queue_delays(redis: str, started: float, ended: float) -> dict:
    from redis import Redis

    from bench.load_worker import job_times

    times = [t for t in job_times(Redis.from_url(redis)) if started <= t[2] <= ended]
    sync = [s - e for _id, func, e, s, _end in times if func in SYNC_FUNCTIONS]
    other = [(func, s - e) for _id, func, e, s, _end in times if func not in SYNC_FUNCTIONS]
    longest: dict[str, tuple[int, float]] = {}  # function → (jobs, longest run)
    for _id, func, _e, s, end in times:
        count, most = longest.get(func, (0, 0.0))
        longest[func] = (count + 1, max(most, end - s))
    return {"sync": sync, "other": other, "runs": longest}


def measure(args) -> dict:
    from redis import Redis

    from bench.simulator_process import SimulatorProcess

    url = database_url()
    with redis_url() as redis, tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        Redis.from_url(redis).flushdb()
        sim = SimulatorProcess(folder, rate_scale=1.0)  # Walmart's real limits
        processes: list = []
        try:
            data = prepare(folder, url, redis, sim, args)
            processes, base = start(folder, data["env"], redis, args.workers)
            to_ship: queue.Queue = queue.Queue()
            for order_id in data["to_ship"]:
                to_ship.put(order_id)

            def person(n: int) -> Person:
                p = Person(base, f"operator{n:02d}@example.com", random.Random(n),
                           data["searches"], data["order_ids"], to_ship)
                p.sign_in()
                return p

            groups = {"web": [processes[0].pid], "workers": [p.pid for p in processes[1:-1]],
                      "simulator": [sim.process.pid],
                      "PostgreSQL": lambda: postgres_backends(url)}
            alone = person(1)
            rounds(alone, WARM_UP)  # each of the four web processes sees every shape
            alone.samples.clear()
            before, quiet_started = proc_cpu.snapshot(groups), time.time()
            quiet = unloaded(alone, args.unloaded, args.unloaded_ships)
            quiet_cores = proc_cpu.usage(before, proc_cpu.snapshot(groups),
                                         time.time() - quiet_started)
            print(f"[load] unloaded: {len(quiet)} requests, one at a time")
            people = [person(n) for n in range(1, args.users + 1)]
            window = load(people, args.seconds, groups)
            window["quiet_cores"] = quiet_cores
            started, ended = window["started"], window["ended"]
            samples = [s for p in people for s in p.samples]
            print(f"[load] {len(samples)} requests in {ended - started:.0f} s "
                  f"({len(samples) / (ended - started):.1f}/s)")
            shipped = dict(alone.shipped + [x for p in people for x in p.shipped])
            waited = wait_synced(data["app"], set(shipped), args.sync_wait)
            checks = check_shipments(data["app"], sim, data["seller"], shipped)
            delays = queue_delays(redis, started, ended + (waited or args.sync_wait))
            checks["failed_jobs"] = failed_jobs(redis)
            checks["tracebacks"] = {log.stem: log.read_text().count("Traceback") for log in
                                    sorted((folder / "logs").glob("*.log"))}
            if any(s.error for s in samples):
                print((folder / "logs" / "web.log").read_text()[-4000:])
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
            sim.stop()
            if "data" in locals():
                with data["app"].app_context():
                    from webapp.extensions import db
                    db.engine.dispose()
    return {"args": args, "seed_seconds": data["seed_seconds"], "unloaded": quiet,
            "loaded": samples, "window": ended - started, "waited": waited, "machine": window,
            "checks": checks, "delays": delays,
            "no_order_left": sum(p.no_order_left for p in people),
            "shipments_loaded": sum(len(p.shipped) for p in people),
            "shipments_unloaded": len(alone.shipped),
            "resent": sum(p.resent for p in people) + alone.resent}


def main() -> None:
    import logging

    logging.disable(logging.INFO)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--sim-orders", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--unloaded", type=int, default=30, help="timed rounds of every shape")
    parser.add_argument("--unloaded-ships", type=int, default=20)
    parser.add_argument("--sync-wait", type=float, default=120)
    parser.add_argument("--no-write", action="store_true", help="print, do not write the doc")
    args = parser.parse_args()
    if not database_url():
        print("[load] skipped: set BENCH_DATABASE_URL or TEST_DATABASE_URL to a PostgreSQL "
              "database of its own (its schema is dropped)")
        return
    started = time.monotonic()
    result = measure(args)
    result["wall"] = time.monotonic() - started
    print(summary(result))
    if not args.no_write:
        from bench.common import write_section

        write_section("load", report(result))


if __name__ == "__main__":
    main()
