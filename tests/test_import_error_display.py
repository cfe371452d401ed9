"""Import and connection errors on Stores, Home and the empty Orders list: a short summary,
cut and escaped, for everyone; what a remote host or the network library said in its own words
for admins only. Walmart's own messages on sync tasks stay visible to everyone."""

from __future__ import annotations

import socket

import pytest
from markupsafe import escape
from sqlalchemy import select

from simulator import control
from tests.conftest import Auth

PROXY_TEXT = ('Upstream pool orders-east-7 at 10.0.4.17:8443 unreachable; trace=9f2c & '
              '"retry later"')


def _import_fails(app, store_id: int) -> None:
    from webapp.services.orders.importer import import_store
    from webapp.walmart import WalmartError

    with app.app_context():
        with pytest.raises(WalmartError):
            import_store(store_id)


def _pages_as(app, make_user, role: str) -> dict[str, str]:
    client = app.test_client()
    assert Auth(client).login(make_user(role=role).email).status_code == 302
    pages = {path: client.get(path) for path in ("/stores/", "/", "/orders/")}
    assert all(page.status_code == 200 for page in pages.values())
    return {path: page.text for path, page in pages.items()}


def test_a_gateways_own_text_is_for_admins_and_everyone_sees_a_summary(app, walmart_store,
                                                                        make_user):
    """Walmart's gateway (or a proxy) answering 503 with its own plain text: viewers see
    "Walmart answered 503: server error" on Stores, Home and the empty Orders list, never the
    text naming internal hosts; admins also see that text, escaped, on Stores."""
    store_id, seller = walmart_store(orders=0)
    control.set_faults(seller.sim.conn, "*", down=PROXY_TEXT)
    _import_fails(app, store_id)
    viewer = _pages_as(app, make_user, "viewer")
    for path, text in viewer.items():
        assert "Walmart answered 503: server error" in text, path
        assert "10.0.4.17" not in text and "orders-east-7" not in text, path
    admin = _pages_as(app, make_user, "admin")
    assert "trace=9f2c &amp; &#34;retry later&#34;" in admin["/stores/"]
    assert "10.0.4.17" not in admin["/"] and "10.0.4.17" not in admin["/orders/"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_connection_error_shows_a_summary_and_the_library_text_to_admins(app, make_user):
    """Nothing listening at the store's address: everyone reads "connection to Walmart
    failed"; the socket error with our URL is for admins."""
    from tests.factories import make_store

    address = f"http://127.0.0.1:{_closed_port()}"
    app.config["SIMULATOR_URL"] = address
    with app.app_context():
        store_id = make_store(environment="simulator", base_url=address).id
    _import_fails(app, store_id)
    viewer = _pages_as(app, make_user, "viewer")
    for path, text in viewer.items():
        assert "connection to Walmart failed" in text, path
        assert "/v3/token" not in text and "Errno" not in text, path
    admin = _pages_as(app, make_user, "admin")
    assert "/v3/token" in admin["/stores/"] and "Connection refused" in admin["/stores/"]


def test_a_long_import_error_is_cut_and_escaped_on_every_page(app, make_user):
    """A 1,500-character error full of markup is cut (300 characters on Stores, less on Home
    and Orders) and shown escaped."""
    from tests.factories import make_store
    from webapp.extensions import db
    from webapp.models import Store
    from webapp.models.base import utcnow

    error = "<b>Walmart</b> " + "x" * 1485
    with app.app_context():
        store = db.session.get(Store, make_store().id)
        store.last_import_error, store.last_import_error_at = error, utcnow()
        store.import_failures = 3
        db.session.commit()
    for path, text in _pages_as(app, make_user, "viewer").items():
        assert "&lt;b&gt;Walmart&lt;/b&gt;" in text and "<b>Walmart" not in text, path
        assert "x" * 300 not in text, path


def test_walmarts_own_message_on_a_sync_task_stays_visible_to_viewers(app, shop, make_user):
    """Walmart's refusal text on a failed update is still shown to every signed-in role."""
    from webapp.extensions import db
    from webapp.models import Order, SyncTask
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order
    from webapp.services.sync.engine import process_task

    _store_id, seller = shop
    control.set_faults(seller.sim.conn, "shipping", reject_rate=1.0)
    with app.app_context():
        order = db.session.scalars(select(Order).where(Order.intent_to_cancel.is_(False))
                                   .order_by(Order.id)).first()
        task_id = ship_order(order.id, [PackageInput("1Z999AA10123456784", "Standard",
                                                     {order.lines[0].line_number: 1}, "UPS")],
                             utcnow(), by=None, actor="test").task_id
        assert process_task(task_id).state == "error"
        message, order_id = db.session.get(SyncTask, task_id).last_error_message, order.id
    assert message
    client = app.test_client()
    Auth(client).login(make_user(role="viewer").email)
    page = client.get(f"/orders/{order_id}")
    assert page.status_code == 200 and str(escape(message)) in page.text


def test_test_connection_shows_admins_the_library_text(app, make_user):
    """Test connection (admins only) keeps the socket error next to the summary."""
    from tests.factories import make_store

    address = f"http://127.0.0.1:{_closed_port()}"
    app.config["SIMULATOR_URL"] = address
    with app.app_context():
        store_id = make_store(environment="simulator", base_url=address).id
    client = app.test_client()
    auth = Auth(client)
    auth.login(make_user(role="admin").email)
    page = client.post(f"/stores/{store_id}/check",
                       data={"csrf_token": auth.csrf(f"/stores/{store_id}/edit")})
    assert page.status_code == 200
    assert "connection to Walmart failed" in page.text
    assert "Connection refused" in page.text


def test_the_simulator_cli_sets_a_gateways_own_text(tmp_path):
    """`python -m simulator faults '*' --down-text TEXT` makes every call a 503 with TEXT."""
    import json

    from tests.test_simulator_cli import sim

    db = tmp_path / "sim.db"
    faults = sim(db, "faults", "*", "--down-text", PROXY_TEXT)
    assert faults.returncode == 0, faults.stderr
    assert json.loads(faults.stdout) == {"down": PROXY_TEXT}
