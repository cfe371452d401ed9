"""Layered fixtures: real Redis and a real database for the session; app, client, auth per test."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from devserver.redis_server import EmbeddedRedis, reachable

TEST_SECRET_KEY = "test-secret-key"
TEST_ENCRYPTION_KEY = Fernet.generate_key().decode()
CSRF_RE = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """TEST_REDIS_URL when reachable, else an embedded Redis.

    The tests empty that Redis database: give them one of their own (CI gives /15 to the
    SQLite run and /14 to the PostgreSQL one, side by side). REDIS_URL is never used — it is
    the dashboard's own Redis, whose queue the tests would wipe.
    """
    url = os.environ.get("TEST_REDIS_URL")
    if url and reachable(url):
        yield url
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, redis_url):
    """TEST_DATABASE_URL (PostgreSQL in CI) or a SQLite file, upgraded by the real migrations."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        engine = create_engine(url)
        with engine.begin() as conn:  # start from nothing: the migrations must build it all
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    from flask_migrate import upgrade

    from webapp import create_app

    app = create_app(_settings(url, redis_url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        upgrade()
        from webapp.extensions import db
        db.engine.dispose()
    return url


def _settings(database_url: str, redis_url: str, instance: Path, **extra) -> dict:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        "SIMULATOR_URL": None,
        # A prefix per app, so one test's failed sign-ins never throttle another's.
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
        **extra,
    }


@pytest.fixture
def app_settings(database_url, redis_url, tmp_path):
    """Config overrides for this test's app; a test may add keys before `app` is built."""
    return _settings(database_url, redis_url, tmp_path)


@pytest.fixture
def app(app_settings, redis_url):
    from redis import Redis

    from webapp import create_app
    from webapp.extensions import db

    app = create_app(app_settings)
    Redis.from_url(redis_url).flushdb()
    yield app
    with app.app_context():
        db.session.remove()
        _empty_tables(db)
        db.engine.dispose()
    Redis.from_url(redis_url).flushdb()


def _empty_tables(db) -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:  # twice: deleting orders fires triggers that write other tables (their counts)
            for _ in range(2):
                for table in tables:
                    conn.execute(table.delete())


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Auth:
    """Sign in through the real login form (CSRF and all)."""

    def __init__(self, client) -> None:
        self.client = client

    def login(self, email: str, password: str = "correct horse battery", next_url: str = ""):
        page = self.client.get("/login")
        return self.client.post("/login", query_string={"next": next_url} if next_url else None,
                                data={"email": email, "password": password,
                                      "csrf_token": csrf_from(page.text)})

    def csrf(self, path: str = "/") -> str:
        return csrf_from(self.client.get(path).text)

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": self.csrf()})


@pytest.fixture
def live_server(app):
    """The test app served over real HTTP on a free port, one thread per request."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def http_session(base: str, email: str, password: str = "correct horse battery"):
    """A `requests` session signed in through the live server's login form."""
    import requests

    session = requests.Session()
    token = csrf_from(session.get(f"{base}/login", timeout=30).text)
    response = session.post(f"{base}/login", allow_redirects=False, timeout=30,
                            data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, f"sign-in of {email} failed"
    return session


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def make_user(app):
    from tests.factories import make_user as factory

    def make(**overrides):
        with app.app_context():
            return factory(**overrides)
    return make


@pytest.fixture
def signed_in(make_user, auth):
    """Sign in as a fresh user of the given role; returns the user's e-mail."""
    def sign_in(role: str = "admin") -> str:
        user = make_user(role=role)
        response = auth.login(user.email)
        assert response.status_code == 302
        return user.email
    return sign_in


# -- the Walmart simulator, served over real HTTP ------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def simulator(tmp_path_factory):
    """The simulator as its own gunicorn server process, on a free port, for the session."""
    import subprocess
    import sys

    from devserver.net import free_port, wait_until_serving

    db = tmp_path_factory.mktemp("simulator") / "sim.sqlite"
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--db", str(db), "serve", "--port", str(port),
         "--workers", "2", "--threads", "8"], cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    assert wait_until_serving(f"{url}/_sim/api/counters", process=process), \
        "the simulator exited" if process.poll() is not None else "the simulator did not start"
    from simulator import control

    conn = control.conn_for(db)
    control.set_rate_scale(conn, 1000)  # tests are not about waiting for Walmart's limits
    yield Simulator(url, db, conn)
    process.terminate()
    process.wait(10)


class Simulator:
    """Handle on the running simulator: its URL and its state (via simulator.control)."""

    def __init__(self, url: str, db: Path, conn) -> None:
        self.url, self.db, self.conn = url, db, conn

    def seller(self, seed_orders: int = 0, seed: int = 1):
        from simulator import control

        name = f"seller-{uuid.uuid4().hex[:8]}"
        control.add_seller(self.conn, name, f"{name}-id", f"{name}-secret")
        if seed_orders:
            control.seed_orders(self.conn, name, seed_orders, seed=seed)
        return SimSeller(self, name)


class SimSeller:
    def __init__(self, sim: Simulator, seller_id: str) -> None:
        self.sim, self.seller_id = sim, seller_id
        self.client_id, self.client_secret = f"{seller_id}-id", f"{seller_id}-secret"

    def client(self, **timeouts):
        from webapp.walmart import WalmartClient

        return WalmartClient(self.sim.url, self.client_id, self.client_secret, **timeouts)

    def requests(self):
        """What the simulator received from this seller, oldest first."""
        return [dict(r) for r in self.sim.conn.execute(
            "SELECT * FROM requests WHERE seller_id = ? ORDER BY id", (self.seller_id,))]


@pytest.fixture
def sim(simulator):
    """The simulator with no faults left over from another test."""
    from simulator import control

    control.clear_faults(simulator.conn)
    yield simulator
    control.clear_faults(simulator.conn)


FAST_LIMITS = {"released": 6000, "orders": 100000, "order": 100000, "acknowledge": 6000,
               "shipping": 6000, "cancel": 6000, "refund": 6000, "returns": 5000,
               "return_refund": 6000, "inventory": 20000}


@pytest.fixture
def walmart_store(app, sim):
    """A store connected to a fresh seller at the simulator (our own limits raised to match
    the simulator's fast test scale). Returns (store_id, seller)."""
    from webapp.walmart.client import forget_tokens

    forget_tokens()
    seller = sim.seller()

    def make(orders: int = 0, seed: int = 1, **store_fields):
        from simulator import control

        app.config["SIMULATOR_URL"] = sim.url  # a simulator store may only use its address
        if orders:
            control.seed_orders(sim.conn, seller.seller_id, orders, seed=seed)
        with app.app_context():
            from tests.factories import make_store
            store = make_store(environment="simulator", base_url=sim.url,
                               client_id=seller.client_id, client_secret=seller.client_secret,
                               rate_limits=store_fields.pop("rate_limits", FAST_LIMITS),
                               **store_fields)
        return store.id, seller
    return make


@pytest.fixture
def worker(app):
    """Run queued jobs (and due scheduled ones) in a real RQ SimpleWorker, burst mode.

    Refused while another worker listens on the queue (the browser tests' `live_worker`):
    the burst ends when the queue is empty, not when the jobs the other worker took are
    done, so what the test does next races them (a reconciliation test once changed Walmart
    before its shipment got there: 1 difference of 3, only when the suite ran together)."""
    from rq import Queue, SimpleWorker, Worker

    from jobs.queue import QUEUE_NAME
    from webapp.extensions import redis_connection

    def refuse_beside_another_worker(connection, when: str) -> None:
        others = Worker.all(connection=connection, queue=Queue(QUEUE_NAME, connection=connection))
        if others:
            pytest.fail(f"worker() {when} {len(others)} other worker(s) on the queue (a "
                        "live_worker?): wait for what they do, never mix them in one test",
                        pytrace=False)

    def work() -> None:
        with app.app_context():
            connection = redis_connection()
            refuse_beside_another_worker(connection, "called beside")
            SimpleWorker([QUEUE_NAME], connection=connection).work(
                burst=True, with_scheduler=True, logging_level="WARNING")
            refuse_beside_another_worker(connection, "ran beside")
    return work


@pytest.fixture
def shop(app, walmart_store, worker):
    """40 imported orders, acknowledged at the simulator; returns (store_id, seller)."""
    from webapp.services.orders.importer import import_store

    store_id, seller = walmart_store(orders=40, seed=32)
    with app.app_context():
        import_store(store_id)
    worker()
    return store_id, seller


@pytest.fixture
def walmart_order(app, worker):
    """Make an order to measure at a store's seller, imported and acknowledged: call
    `walmart_order((store_id, seller), quantities, **options)` (options of
    factories.make_walmart_order); returns (order_id, po)."""
    from tests.factories import import_order, make_walmart_order

    def make(store, quantities=(1,), **options) -> tuple[int, str]:
        store_id, seller = store
        po = make_walmart_order(seller, quantities, **options)
        with app.app_context():
            order_id = import_order(store_id, po)
        worker()
        return order_id, po
    return make


@pytest.fixture
def returned(app, shop, worker, walmart_order):
    """An order of one line, 2 × FLT-H2O-3PK at $18.75 + $1.50 tax, no shipping charge, shipped,
    delivered and returned (DAMAGED) at Walmart, with the returns imported. Returns (store_id,
    seller, order_id, rma)."""
    from tests.factories import make_shipment, make_walmart_return
    from webapp.services.returns.importer import import_returns

    store_id, seller = shop
    order_id, po = walmart_order(shop, [("FLT-H2O-3PK", 2)])
    with app.app_context():
        make_shipment(order_id)
    worker()
    rma = make_walmart_return(seller, po)
    with app.app_context():
        assert import_returns(store_id) == 1
    return store_id, seller, order_id, rma
