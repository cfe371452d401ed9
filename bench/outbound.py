"""Outbound throughput under Walmart's rate limits: 1,000 shipments through the sync engine.

    .venv/bin/python -m bench.outbound [--shipments 1000] [--scale 10] [--workers 4]

The simulator runs as its own server process with every Walmart rate limit multiplied by
`--scale` (shipping: 60 a minute × 10 = 10 a second, a bucket of 600); the store is told the
same limits. 1,000 acknowledged orders are imported, one shipment is recorded for each (as
Ship does), and `--workers` RQ worker processes send them. From the simulator's
own request log: the achieved rate against what Walmart's bucket allowed over the same time,
the 429s received, and duplicates (a purchase order shipped twice).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, now, redis_url, write_section


def prepare(folder: Path, redis: str, sim, count: int, scale: float):
    """Acknowledged orders at the simulator, imported; returns (shop, seller)."""
    from bench.shop import acknowledge_all, open_shop
    from simulator import control
    from simulator.data import RATE_LIMITS

    seller, client_id, secret = sim.seller()
    control.seed_orders(sim.conn, seller, count, seed=5, days=2, intent_rate=0.0)
    acknowledge_all(sim, seller)
    from webapp.walmart.enums import RATE_LIMITS as STORE_LIMITS

    # The simulator's limits under the names a store configures (the simulator also limits
    # calls the store has no setting for, such as its token and stock reads).
    limits = {endpoint: int(per_minute * scale) for endpoint, per_minute in
              RATE_LIMITS.items() if endpoint in STORE_LIMITS}
    limits.update(orders=100000, order=100000)  # reads: not what is measured
    shop = open_shop(folder, redis, sim, client_id, secret, limits)
    with shop.app.app_context():
        from webapp.services.orders.importer import import_store

        assert import_store(shop.store_id, "bench").created == count
    return shop, seller


def ship_all(app) -> int:
    """One shipment per order, every unit, as the Ship form records it (tasks queued)."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Order
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order

    with app.app_context():
        orders = db.session.scalars(select(Order).order_by(Order.id)).unique().all()
        for n, order in enumerate(orders):
            ship_order(order.id, [PackageInput(f"1ZBENCH{n:011d}", "Standard",
                                               {x.line_number: x.quantity for x in order.lines},
                                               "UPS")], utcnow(), by=None, actor="bench",
                       confirm_warnings=True)
        return len(orders)


def wait_synced(app, count: int, timeout: float) -> float:
    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.models import SyncTask, TaskKind, TaskState

    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            db.session.expire_all()
            left = db.session.scalar(select(func.count(SyncTask.id)).where(
                SyncTask.kind == TaskKind.SHIP, SyncTask.state != TaskState.SYNCED))
            if not left:
                return time.monotonic()
            db.session.rollback()
            time.sleep(0.5)
    raise RuntimeError("shipments did not all sync in time")


def measure(count: int, scale: float, workers: int) -> dict:
    from redis import Redis

    from bench.simulator_process import SimulatorProcess
    from simulator.data import RATE_LIMITS

    with redis_url() as redis, tempfile.TemporaryDirectory() as folder:
        Redis.from_url(redis).flushdb()
        sim = SimulatorProcess(Path(folder), rate_scale=scale)
        processes = []
        try:
            shop, seller = prepare(Path(folder), redis, sim, count, scale)
            app, env = shop.app, shop.worker_env(ORDERDECK_SYNC_BACKOFF_BASE="1")
            print(f"[outbound] {count:,} acknowledged orders imported")
            shipped = ship_all(app)
            started = time.monotonic()
            processes = [subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=ROOT,
                                          env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL) for _ in range(workers)]
            finished = wait_synced(app, shipped, timeout=max(120, 3 * count / (
                RATE_LIMITS["shipping"] * scale / 60)))
            rows = sim.conn.execute(
                "SELECT path, status, at FROM requests WHERE seller_id = ? AND endpoint = "
                "'shipping' ORDER BY id", (seller,)).fetchall()
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(30)
            sim.stop()
    ok = [r for r in rows if r[1] == 200]
    per_po: dict[str, int] = {}
    for path, _status, _at in ok:
        po = path.split("/")[3]
        per_po[po] = per_po.get(po, 0) + 1
    duplicates = sum(n - 1 for n in per_po.values() if n > 1)
    throttled = sum(1 for r in rows if r[1] == 429)
    per_minute = RATE_LIMITS["shipping"] * scale
    span = ok[-1][2] - ok[0][2]
    # What Walmart's bucket allowed over that time: a full bucket, plus its refill.
    allowed = per_minute + per_minute / 60 * span
    result = {"shipments": shipped, "scale": scale, "workers": workers,
              "per_second": per_minute / 60, "span": span, "calls": len(ok),
              "fraction": len(ok) / allowed, "throttled": throttled,
              "duplicates": duplicates, "distinct": len(per_po),
              "wall": finished - started}
    print(f"[outbound] {len(ok):,} shipments in {span:.1f} s; Walmart allowed {allowed:.0f} "
          f"in that time: {result['fraction']:.0%} of the allowed rate; 429s {throttled}; "
          f"duplicates {duplicates}")
    return result


def report(r: dict) -> str:
    from bench.common import machine

    meets = r["fraction"] >= 0.9 and r["duplicates"] == 0 and r["throttled"] <= r[
        "shipments"] * 0.01
    return "\n".join([
        "## Outbound throughput under Walmart's limits", "",
        f"{machine()}; {now()}.",
        f"{r['shipments']:,} shipments (one per order, acknowledged beforehand) sent by "
        f"{r['workers']} RQ worker processes to the simulator with Walmart's limits ×"
        f"{r['scale']:g}: shipping {r['per_second']:.0f} calls/s with a bucket of "
        f"{r['per_second'] * 60:.0f}; the store is configured with the same limits. Counted "
        "from the simulator's request log.", "",
        "| measurement | result | target | meets |", "|---|---|---|---|",
        f"| shipments accepted by Walmart | {r['calls']:,} for {r['distinct']:,} orders | "
        f"{r['shipments']:,} | {'yes' if r['distinct'] == r['shipments'] else '**no**'} |",
        f"| achieved / allowed (full bucket + refill over {r['span']:.1f} s) | "
        f"{r['fraction']:.0%} | ≥ 90% | {'yes' if r['fraction'] >= 0.9 else '**no**'} |",
        f"| 429s received | {r['throttled']} | no storms | "
        f"{'yes' if r['throttled'] <= r['shipments'] * 0.01 else '**no**'} |",
        f"| duplicates | {r['duplicates']} | 0 | {'yes' if r['duplicates'] == 0 else '**no**'} |",
        f"| wall time, workers started → all Synced | {r['wall']:.1f} s | — | — |", "",
        f"Overall: {'meets' if meets else 'does **not** meet'} the target.", "",
        "Reproduce: `make bench` or `.venv/bin/python -m bench.outbound "
        f"--shipments {r['shipments']} --scale {r['scale']:g} --workers {r['workers']}`."])


def main() -> None:
    import logging

    logging.disable(logging.INFO)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shipments", type=int, default=1000)
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    write_section("outbound", report(measure(args.shipments, args.scale, args.workers)))


if __name__ == "__main__":
    main()
