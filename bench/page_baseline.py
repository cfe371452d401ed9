"""The app under measurement and its baselines, for bench/orders_page.py and its helpers.

The baselines are views registered on the same app, so they pass the same request pipeline as
every page (session cookie, sign-in check, security headers) and do nothing else: a bare
Orders view that runs a page's SQL straight through the database driver (sqlite3 or psycopg,
no SQLAlchemy) and renders the rows with a minimal Jinja table, and a view that returns a
constant fragment (for the polls).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

ROW_TEMPLATE = """<table>{% for r in rows %}<tr><td>{{ r[1] }}</td><td>{{ r[2] }}</td>
<td>{% for sku, qty in items.get(r[0], []) %}{{ sku }} × {{ qty }}<br>{% endfor %}</td>
<td>{{ r[3] }}</td><td>{{ r[4] }}</td><td>{{ r[5] }}</td><td>{{ r[6] }}</td><td>{{ r[7] }}</td>
<td>{{ r[8] }}</td><td>{{ r[9] }}</td><td>{{ r[10] or '' }}</td></tr>{% endfor %}</table>"""
COLUMNS = ("id", "purchase_order_id", "number", "order_value", "order_date", "ship_by",
           "deliver_by", "ship_method", "updated_at", "status", "status_details")
# The plain first page's SQL, written out: the bare page baseline must not move when the
# app's query code does.
FIRST_PAGE_SQL = (f"SELECT {', '.join(COLUMNS)} FROM orders WHERE order_date IS NOT NULL "
                  "ORDER BY order_date DESC, id DESC LIMIT 51")
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


def prepare(app, database_url: str, count: int, seed: int = 7) -> dict:
    """A migrated, empty database (PostgreSQL: its public schema dropped first) with the bench
    user, three stores and `count` generated orders; the seed's samples."""
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
        samples = seed_orders(db, stores, count, seed=seed)
        samples["store"], samples["count"] = stores[1], count
        db.engine.dispose()
    return samples


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


def page_sql(app, args: dict) -> str | None:
    """The SQL of the page query our Orders page runs for these arguments, as text; None when
    the page's query can no longer be rebuilt here (the same-SQL baseline is then skipped)."""
    try:
        return _page_sql(app, args)
    except Exception as error:  # noqa: BLE001 — an internal API moved: report, do not stop
        print(f"  (no same-SQL baseline for {args}: {type(error).__name__}: {error})")
        return None


def _page_sql(app, args: dict) -> str:
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


