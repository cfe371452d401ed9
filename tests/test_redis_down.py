"""Redis down or hung: sign-in works, pages answer and say jobs are unavailable, and
Import now leaves nothing half-made."""

from __future__ import annotations

import socket
import threading

import pytest
from sqlalchemy import select


class HungRedis:
    """A TCP server that accepts connections and never answers (a hung Redis)."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections.append(conn)

    def close(self) -> None:
        self.server.close()
        for conn in self.connections:
            conn.close()


@pytest.fixture(params=["hung", "closed"])
def redis_down(request, app_settings):
    """The app's Redis hung (accepts, never answers) or stopped (a closed port)."""
    if request.param == "hung":
        server = HungRedis()
        app_settings["REDIS_URL"] = f"redis://127.0.0.1:{server.port}/0"
        yield server
        server.close()
        return
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    app_settings["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    yield None


def test_sign_in_works_and_is_still_throttled_in_memory(redis_down, app, make_user, auth):
    """With Redis down, a right password signs in, a wrong one is refused (401), and the
    per-account limit still applies (counted in this process's memory)."""
    app.config["LOGIN_FREE_TRIES"] = 2  # then a delay: the third try within a second waits
    user = make_user(role="viewer")
    assert auth.login(user.email).status_code == 302
    auth.logout()
    other = make_user(role="viewer")
    assert auth.login(other.email, "wrong password").status_code == 401
    assert auth.login(other.email, "wrong password").status_code == 401
    assert auth.login(other.email).status_code == 429


def test_pages_answer_and_say_jobs_are_unavailable(redis_down, app, signed_in, client):
    """With Redis down, Home, Orders, Stores, Stock and Returns answer 200 with the banner
    saying background jobs are unavailable; a hung Redis is waited on once at most, not per
    call."""
    signed_in("viewer")  # (the sign-in throttle's own Redis client tried too)
    tried = len(redis_down.connections) if redis_down is not None else 0
    for path in ("/", "/orders/", "/stores/", "/stock/", "/returns/", "/sync/"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "Background jobs are unavailable" in page.text, path
    if redis_down is not None:  # one connection at most; every later call failed at once
        assert len(redis_down.connections) <= tried + 1


def test_import_now_leaves_no_run_importing(redis_down, app, auth, signed_in, client):
    """Stores → Import now with Redis down answers 503 "jobs are unavailable" and leaves
    no run "Importing…": the run it made is ended as failed, saying why."""
    from tests.factories import make_store
    from webapp.extensions import db
    from webapp.models import ImportRun

    with app.app_context():
        store_id = make_store().id
    signed_in("operator")
    token = auth.csrf("/stores/")
    response = client.post(f"/stores/{store_id}/import", data={"csrf_token": token})
    assert response.status_code == 503
    assert "Jobs are unavailable" in response.text
    with app.app_context():
        runs = db.session.scalars(select(ImportRun)).all()
        assert [(r.ok, r.finished_at is not None) for r in runs] == [(False, True)]
        assert "background jobs are unavailable" in runs[0].error
    assert "Importing…" not in client.get("/stores/").text


def test_returns_import_now_says_jobs_are_unavailable(redis_down, app, auth, signed_in,
                                                      client):
    """Returns → Import now with Redis down answers 503 "jobs are unavailable"."""
    from tests.factories import make_store

    with app.app_context():
        make_store()
    signed_in("operator")
    response = client.post("/returns/import", data={"csrf_token": auth.csrf("/returns/")})
    assert response.status_code == 503 and "Jobs are unavailable" in response.text


def test_a_stock_change_is_saved_and_its_push_waits(redis_down, app, auth, signed_in, client):
    """With Redis down, setting a SKU's stock is saved and its push waits as Pending (the
    sweeper queues it once Redis answers)."""
    from tests.factories import make_store
    from webapp.extensions import db
    from webapp.models import SkuStock, SyncTask

    with app.app_context():
        store_id = make_store().id
    signed_in("operator")
    page = client.post("/stock/set", data={"csrf_token": auth.csrf("/stock/"), "store": store_id,
                                           "sku": "KEEP-1", "on_hand": "4"},
                       follow_redirects=True)
    assert page.status_code == 200 and "on its way to Walmart" in page.text
    with app.app_context():
        assert db.session.scalar(select(SkuStock.on_hand).where(SkuStock.sku == "KEEP-1")) == 4
        assert db.session.scalar(select(SyncTask.state).where(SyncTask.target == "KEEP-1")) \
            == "pending"
