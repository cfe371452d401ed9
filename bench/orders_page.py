"""Orders page at 100,000 orders: server time of the full page against a bare baseline.

    .venv/bin/python -m bench.orders_page [--orders 100000] [--requests 60]

Runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set (its schema is dropped and
rebuilt: give it a database of its own). For every shape — first page, a deep page, each
status card, a store filter, a search by PO, by SKU and by customer — it times, in one process
and interleaved:

- the full Orders page as a signed-in person gets it (layout, status-card counts, filters,
  rows with their items), through Flask's test client;
- the baseline: a bare view, registered on the same app (so it passes the same session and
  sign-in checks as any page, and nothing else), that runs the same SQL (the page query, and
  the items of its rows) straight through the database driver and renders the same rows with a
  minimal Jinja table — no layout, no counts, no ORM;
- the raw SQL alone.

Also the first page with its rows rendered afresh (rows are otherwise kept by content), and the
live-status polls (the Orders page's and an order's, while an update travels) against a bare
view of the same app that returns a constant fragment.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.common import median, ms, now, p95, redis_url, write_section

ROW_TEMPLATE = """<table>{% for r in rows %}<tr><td>{{ r[1] }}</td><td>{{ r[2] }}</td>
<td>{% for sku, qty in items.get(r[0], []) %}{{ sku }} × {{ qty }}<br>{% endfor %}</td>
<td>{{ r[3] }}</td><td>{{ r[4] }}</td><td>{{ r[5] }}</td><td>{{ r[6] }}</td><td>{{ r[7] }}</td>
<td>{{ r[8] }}</td><td>{{ r[9] }}</td><td>{{ r[10] or '' }}</td></tr>{% endfor %}</table>"""
COLUMNS = ("id", "purchase_order_id", "number", "order_value", "order_date", "ship_by",
           "deliver_by", "ship_method", "updated_at", "status", "status_details")
FRAGMENT = '<section id="order-live" class="card"><p>Shipped</p></section>'


def build_app(database_url: str, redis: str, instance: Path, encryption_key: str | None = None,
              simulator_url: str | None = None):
    from cryptography.fernet import Fernet

    from webapp import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis,
                       "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench",
                       "ENCRYPTION_KEY": encryption_key or Fernet.generate_key().decode(),
                       "RATELIMIT_KEY_PREFIX": "bench-limiter",
                       **({"SIMULATOR_URL": simulator_url} if simulator_url else {})})


def prepare(app, database_url: str, count: int) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text

    from bench.seed import make_stores, seed_orders
    from webapp.extensions import db

    if database_url.startswith("postgresql"):
        engine = create_engine(database_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    with app.app_context():
        upgrade()
        from webapp.models import Role
        from webapp.services.users.accounts import create_user

        create_user("bench@example.com", Role.OPERATOR, "correct horse battery")
        stores = make_stores(3)
        started = time.perf_counter()
        samples = seed_orders(db, stores, count)
        samples["seconds"] = time.perf_counter() - started
        samples["store"], samples["count"] = stores[1], count
    return samples


def shapes(app, samples: dict) -> list[tuple[str, dict]]:
    """(name, query args) for every measured shape."""
    from webapp.models import OrderStatus

    deep = samples["count"] // 2
    out = [("first page", {}), (f"deep page (row {deep:,})", {"after": deep_cursor(app, deep)})]
    out += [(f"status card: {s}", {"status": s.slug}) for s in OrderStatus]
    out += [("store filter", {"store": samples["store"]}),
            ("search by PO", {"q": samples["po"]}), ("search by SKU", {"q": samples["sku"]}),
            ("search by customer", {"q": samples["customer"]})]
    return out


def deep_cursor(app, row: int) -> str:
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.orders.queries import _encode

    with app.app_context():
        order = db.session.scalars(select(Order).order_by(Order.order_date.desc(),
                                                          Order.id.desc()).offset(row - 1)
                                   .limit(1)).one()
        return _encode(order, Order.order_date)


def page_sql(app, args: dict) -> str:
    """The SQL of the page query our Orders page runs for these arguments, as text."""
    from werkzeug.datastructures import MultiDict

    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.orders import queries as order_queries

    with app.test_request_context("/orders/", query_string=MultiDict(args)):
        from webapp.views.orders import parse_filter

        f = parse_filter()
        column, _ = order_queries.SORTS[f.sort]
        query = order_queries.base_query(f).where(column.is_not(None))
        key = order_queries._decode(args["after"]) if args.get("after") else None
        if key:
            from sqlalchemy import tuple_

            query = query.where(tuple_(column, Order.id) < tuple_(*key))
        query = query.with_only_columns(*(getattr(Order, c) for c in COLUMNS)) \
            .order_by(column.desc(), Order.id.desc()).limit(order_queries.PAGE_SIZE + 1)
        return str(query.compile(dialect=db.engine.dialect,
                                 compile_kwargs={"literal_binds": True}))


class Driver:
    """The database driver itself (sqlite3 or psycopg), no SQLAlchemy."""

    def __init__(self, database_url: str) -> None:
        if database_url.startswith("sqlite"):
            self.conn = sqlite3.connect(database_url.removeprefix("sqlite:///"),
                                        check_same_thread=False)
            self.mark = "?"
        else:
            import psycopg

            self.conn = psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql"),
                                        autocommit=True)
            self.mark = "%s"

    def page(self, sql: str) -> tuple[list, dict]:
        cursor = self.conn.cursor()
        rows = cursor.execute(sql).fetchall()[:50]
        items: dict = {}
        if rows:
            marks = ",".join([self.mark] * len(rows))
            for order_id, sku, qty in cursor.execute(
                    f"SELECT order_id, sku, quantity FROM order_lines WHERE order_id IN ({marks})"
                    " ORDER BY order_id, line_number", [r[0] for r in rows]).fetchall():
                items.setdefault(order_id, []).append((sku, qty))
        return rows, items


def add_baselines(app, driver: Driver) -> dict[str, str]:
    """The baseline views, registered on the same app: they pass the same request pipeline
    (session cookie, sign-in check, security headers) as every page, and do nothing else.
    Returns the SQL-by-shape table they read."""
    from flask import Blueprint, request

    bare = Blueprint("bench_baseline", __name__, url_prefix="/_bench")
    sqls: dict[str, str] = {}
    table = app.jinja_env.from_string(ROW_TEMPLATE)  # compiled once, as Flask caches files

    @bare.get("/orders")
    def orders():
        rows, items = driver.page(sqls[request.args["shape"]])
        return table.render(rows=rows, items=items)

    @bare.get("/fragment")
    def fragment():
        return FRAGMENT

    app.register_blueprint(bare)
    return sqls


def sign_in(app):
    import re

    client = app.test_client()
    page = client.get("/login").text
    token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"csrf_token": token, "email": "bench@example.com",
                                           "password": "correct horse battery"})
    assert response.status_code == 302, "bench sign-in failed"
    return client


def poll_url(html: str, element: str) -> str:
    import re

    found = re.search(rf'id="{element}"[^>]*hx-get="([^"]+)"', html)
    assert found, f"no poll on #{element}"
    return found.group(1).replace("&amp;", "&")


def in_flight_order(app) -> int:
    """An order with an update on its way (what the live poll watches)."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Order, OrderStatus, TaskKind
    from webapp.services.orders import status as order_status
    from webapp.services.sync import outbox

    with app.app_context():
        order = db.session.scalars(select(Order).where(Order.status == OrderStatus.OPEN)
                                   .order_by(Order.id.desc()).limit(1)).one()
        outbox.add_task(order.store_id, TaskKind.ACKNOWLEDGE, order.purchase_order_id,
                        order=order)
        order_status.refresh(order)
        outbox.forget_pending()  # never sent: it stays in flight for the whole run
        db.session.commit()
        return order.id


def measure(database_url: str, label: str, count: int, requests: int) -> list[dict]:
    from redis import Redis

    with redis_url() as redis, tempfile.TemporaryDirectory() as instance:
        Redis.from_url(redis).flushdb()
        app = build_app(database_url, redis, Path(instance))
        samples = prepare(app, database_url, count)
        print(f"[{label}] seeded {count:,} orders in {samples['seconds']:.0f} s")
        driver = Driver(database_url)
        sqls = add_baselines(app, driver)
        client = sign_in(app)
        results = []
        for name, args in shapes(app, samples):
            sql = page_sql(app, args)
            sqls[name] = sql
            ours, base, raw = [], [], []
            for i in range(requests + 3):  # 3 warm-up rounds, interleaved to share the noise
                t0 = time.perf_counter()
                response = client.get("/orders/", query_string=args)
                t1 = time.perf_counter()
                bare_response = client.get("/_bench/orders", query_string={"shape": name})
                t2 = time.perf_counter()
                driver.page(sql)
                t3 = time.perf_counter()
                assert response.status_code == 200 and bare_response.status_code == 200
                if i >= 3:
                    ours.append(t1 - t0)
                    base.append(t2 - t1)
                    raw.append(t3 - t2)
            results.append(_result(label, name, ours, base, raw, target=3.0))
        # The same first page with every row rendered afresh (the row cache emptied before
        # each request): what a page costs the first time its rows are seen.
        sqls["cold"] = page_sql(app, {})
        ours, base, raw = [], [], []
        for i in range(requests + 3):
            app.extensions.pop("orderdeck_rows", None)
            t0 = time.perf_counter()
            response = client.get("/orders/")
            t1 = time.perf_counter()
            client.get("/_bench/orders", query_string={"shape": "cold"})
            t2 = time.perf_counter()
            driver.page(sqls["cold"])
            t3 = time.perf_counter()
            assert response.status_code == 200
            if i >= 3:
                ours.append(t1 - t0)
                base.append(t2 - t1)
                raw.append(t3 - t2)
        results.append(_result(label, "first page, rows not yet cached", ours, base, raw,
                               target=3.0))
        order_id = in_flight_order(app)
        polls = {"live-status poll (Orders page)": poll_url(client.get("/orders/").text,
                                                           "orders-results"),
                 "live-status poll (order page)": poll_url(
                     client.get(f"/orders/{order_id}").text, "order-live")}
        for name, url in polls.items():
            ours, base = [], []
            for i in range(requests * 3 + 3):
                t0 = time.perf_counter()
                response = client.get(url, headers={"HX-Request": "true"})
                t1 = time.perf_counter()
                client.get("/_bench/fragment")
                t2 = time.perf_counter()
                assert response.status_code in (200, 204), response.status_code
                if i >= 3:
                    ours.append(t1 - t0)
                    base.append(t2 - t1)
            results.append(_result(label, name, ours, base, None, target=1.5))
        # The Home page (no target: nothing to compare it with), its counts and chart read
        # from the same 100,000 orders.
        home = []
        for i in range(requests + 3):
            t0 = time.perf_counter()
            response = client.get("/")
            t1 = time.perf_counter()
            assert response.status_code == 200
            if i >= 3:
                home.append(t1 - t0)
        results.append({"db": label, "shape": "Home page (report only)", "median": median(home),
                        "p95": p95(home), "base_median": None, "base_p95": None,
                        "raw_median": None, "target": None, "ratio": None})
        print(f"[{label}] Home page: p50 {ms(median(home))}, p95 {ms(p95(home))} (no target)")
        with app.app_context():
            from webapp.extensions import db
            db.engine.dispose()
        return results


def _result(label, name, ours, base, raw, target) -> dict:
    result = {"db": label, "shape": name, "median": median(ours), "p95": p95(ours),
              "base_median": median(base), "base_p95": p95(base),
              "raw_median": median(raw) if raw else None, "target": target}
    result["ratio"] = result["p95"] / result["base_p95"]
    print(f"[{label}] {name}: p50 {ms(result['median'])}, p95 {ms(result['p95'])}; "
          f"baseline p95 {ms(result['base_p95'])}; ratio {result['ratio']:.2f} "
          f"(target ≤ {target}){'' if raw is None else f'; raw SQL p50 {ms(median(raw))}'}")
    return result


def report(results: list[dict], count: int, requests: int) -> str:
    from bench.common import machine

    lines = [f"## Orders page at {count:,} orders", "",
             f"{machine()}; {now()}; {requests} timed requests per shape after 3 warm-ups.",
             "Server time through Flask's test client, in one process. Baseline: a bare Flask "
             "view running the same SQL through the driver (page query + the rows' items) with "
             "a minimal Jinja table; for the poll, a bare view returning a constant fragment. "
             "The baselines are views of the same app, so they pass the same request pipeline "
             "as every page (session cookie, sign-in check, security headers) and do nothing "
             "else. Ratio = p95 / baseline p95.", "",
             "Rendered rows are kept by their content (`webapp/row_cache.py`), so repeated "
             "requests of a shape reuse them, as people and polls do; the row \"first page, "
             "rows not yet cached\" empties that cache before every request. The Orders "
             "page's poll answers 204 while the orders' change marker in Redis is the one it "
             "carries (no SQL); the order page's while its order's last update is. The Home "
             "page (its to-do counts and 30-day chart over the same orders) is reported "
             "without a target.", "",
             "| database | shape | p50 | p95 | baseline p50 | baseline p95 | raw SQL p50 | ratio | "
             "target | meets |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if r["target"] is None:
            lines.append(f"| {r['db']} | {r['shape']} | {ms(r['median'])} | {ms(r['p95'])} | "
                         "— | — | — | — | — | — |")
            continue
        raw = ms(r["raw_median"]) if r["raw_median"] is not None else "—"
        lines.append(f"| {r['db']} | {r['shape']} | {ms(r['median'])} | {ms(r['p95'])} | "
                     f"{ms(r['base_median'])} | {ms(r['base_p95'])} | {raw} | "
                     f"{r['ratio']:.2f} | ≤ {r['target']} | "
                     f"{'yes' if r['ratio'] <= r['target'] else '**no**'} |")
    lines += ["", "Reproduce: `make bench` or `.venv/bin/python -m bench.orders_page "
              f"--orders {count} --requests {requests}` (PostgreSQL too when "
              "`TEST_DATABASE_URL` is set)."]
    return "\n".join(lines)


def main() -> None:
    import logging

    logging.disable(logging.INFO)  # migrations and requests would drown the summary lines
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        results += measure(f"sqlite:///{folder}/bench.sqlite", "SQLite", args.orders,
                           args.requests)
    if os.environ.get("TEST_DATABASE_URL"):
        results += measure(os.environ["TEST_DATABASE_URL"], "PostgreSQL", args.orders,
                           args.requests)
    write_section("orders-page", report(results, args.orders, args.requests))


if __name__ == "__main__":
    main()
