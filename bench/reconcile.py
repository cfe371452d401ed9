"""Reconciliation: reading every open order back from Walmart (the simulator, as its own server
at Walmart's limits) and comparing it, with a few differences made behind Orderdeck's back and
Walmart failing now and then.

    .venv/bin/python -m bench.reconcile [--orders 10000] [--error-rate 0.02]

The shop's orders are imported first (not timed) and left open (acknowledged: every one is in
the pass). Then, at the simulator, 1% of them are cancelled in Seller Center without any
search showing it, a tenth of the tracked SKUs' stock is changed, and the GET order endpoint
answers 500 to `--error-rate` of the calls. One pass runs in this process, as
`flask sync reconcile` runs it, with the reconciliation's order bucket raised to Walmart's own
limit for GET an order (5000 a minute): the reads per second are Orderdeck's, not its
bucket's. The nightly pass, at its default bucket (600 a minute), takes orders / 600 minutes:
that figure is computed, not measured.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from bench.common import now, redis_url, write_section

DEFAULT_BUCKET = 600  # RATE_LIMITS["reconcile_order"] per minute


def measure(count: int, error_rate: float) -> dict:
    from redis import Redis
    from sqlalchemy import select

    from bench.shop import acknowledge_all, open_shop
    from bench.simulator_process import SimulatorProcess
    from simulator import control

    with redis_url() as redis, tempfile.TemporaryDirectory() as folder:
        Redis.from_url(redis).flushdb()
        sim = SimulatorProcess(Path(folder), rate_scale=50)  # the import is not measured
        try:
            seller, client_id, secret = sim.seller()
            control.seed_orders(sim.conn, seller, count, seed=11, days=5, intent_rate=0.0)
            acknowledge_all(sim, seller)
            shop = open_shop(Path(folder), redis, sim, client_id, secret, {
                "orders": 1_000_000, "released": 1_000_000, "reconcile_order": 5000 * 50,
                "reconcile_returns": 50 * 50, "reconcile_inventory": 200 * 50})
            app = shop.app
            with app.app_context():
                from webapp.extensions import db
                from webapp.models import Order, SkuStock
                from webapp.services.orders.importer import import_store

                app.config.update(RECONCILE_RETRY_SECONDS=0.5, RECONCILE_SLICE_SECONDS=3600)
                started = time.perf_counter()
                run = import_store(shop.store_id, "bench")
                imported = time.perf_counter() - started
                print(f"[reconcile] {run.seen} orders imported in {imported:.0f} s")
                pos = db.session.scalars(select(Order.purchase_order_id)).all()
                skus = sorted(set(db.session.scalars(select(SkuStock.sku)).all()))
                for sku in skus:  # tracked, pushed, and Walmart holding what was pushed
                    held = db.session.scalar(select(SkuStock).where(SkuStock.sku == sku))
                    held.on_hand = (held.reserved or 0) + 20
                    held.pushed_quantity = 20
                    control.seller_center_stock(sim.conn, seller, sku, 20)
                db.session.commit()
                db.session.remove()
            # Control seeds only: the simulator's clock time stays where it is.
            rng = random.Random(5)
            changed = rng.sample(pos, max(1, count // 100))
            for po in changed:
                control.seller_center_cancel(sim.conn, seller, po, quiet=True)
            changed_skus = rng.sample(skus, max(1, len(skus) // 10))
            for sku in changed_skus:
                control.seller_center_stock(sim.conn, seller, sku, 7)
            control.set_rate_scale(sim.conn, 1.0)  # Walmart's own limits from here
            if error_rate:
                control.set_faults(sim.conn, "order", error_rate=error_rate)
            before = control.counters(sim.conn).get("order", {})
            with app.app_context():
                from webapp.extensions import db
                from webapp.models import WalmartDifference
                from webapp.services.reconcile import run as reconcile_run

                found_run, _new = reconcile_run.start(shop.store_id, "cli")
                db.session.commit()
                started = time.perf_counter()
                done = reconcile_run.run_now(found_run.id)
                took = time.perf_counter() - started
                differences = db.session.scalars(select(WalmartDifference).where(
                    WalmartDifference.resolved_at.is_(None))).all()
                orders_found = {d.order.purchase_order_id for d in differences if d.order}
                skus_found = {d.sku for d in differences if d.kind == "stock"}
                result = {"count": count, "error_rate": error_rate, "imported": imported,
                          "seconds": took, "reads": done.reads, "checked": done.checked,
                          "failed_reads": done.failed_reads, "unread": done.unread,
                          "skus": len(skus), "expected_orders": len(changed),
                          "expected_skus": len(changed_skus),
                          "found_orders": len(orders_found & set(changed)),
                          "found_skus": len(skus_found & set(changed_skus)),
                          "false": len(orders_found - set(changed)) +
                          len(skus_found - set(changed_skus)),
                          "gets": sum(control.counters(sim.conn).get("order", {}).values())
                          - sum(before.values())}
        finally:
            sim.stop()
    print(f"[reconcile] {result}")
    return result


def report(r: dict) -> str:
    from bench.common import machine

    rate = r["reads"] / r["seconds"] if r["seconds"] else 0
    nightly = r["count"] / DEFAULT_BUCKET
    complete = (r["found_orders"] == r["expected_orders"] and r["false"] == 0
                and r["found_skus"] == r["expected_skus"] and r["unread"] == 0)
    return "\n".join([
        "## Reconciliation", "",
        f"{machine()}; {now()}.",
        f"{r['count']} open orders and {r['skus']} tracked SKUs read back from the simulator "
        "(its own server, at Walmart's limits) and compared, in one process as `flask sync "
        "reconcile` runs it, the reconciliation's order bucket raised to Walmart's limit for "
        f"GET an order (5000/min). Behind Orderdeck's back: {r['expected_orders']} orders "
        f"cancelled in Seller Center (no search shows it), {r['expected_skus']} SKUs' stock "
        f"changed; GET order answered 500 to {r['error_rate']:.0%} of the calls.", "",
        "| measurement | result |", "|---|---|",
        f"| pass, wall time | {r['seconds']:.1f} s |",
        f"| reads (orders, returns pages, SKUs) | {r['reads']} ({rate:.0f}/s) |",
        f"| GET order calls, failed ones included | {r['gets']} |",
        f"| reads failed and read again | {r['failed_reads']} |",
        f"| still unread after the retry rounds | {r['unread']} |",
        f"| differences found / made | {r['found_orders'] + r['found_skus']} / "
        f"{r['expected_orders'] + r['expected_skus']} |",
        f"| false differences | {r['false']} |",
        f"| the nightly pass at its default bucket (600/min), computed | "
        f"{nightly:.1f} min |", "",
        "Overall: " + ("every difference found, none false." if complete
                       else "**missed or false differences**."),
        "",
        "Reproduce: `make bench` or `.venv/bin/python -m bench.reconcile "
        f"--orders {r['count']} --error-rate {r['error_rate']}`."])


def main() -> None:
    import logging

    logging.disable(logging.INFO)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=10000)
    parser.add_argument("--error-rate", type=float, default=0.02)
    args = parser.parse_args()
    write_section("reconcile", report(measure(args.orders, args.error_rate)))


if __name__ == "__main__":
    main()
