"""Receive orders instantly: an admin subscribes a store to Walmart's order notifications
from its page — create, test, pause, resume, delete through Walmart's API (the simulator) —
refused for read-only stores, viewers and operators, and for a Walmart store without https."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from simulator import control
from tests.factories import make_walmart_order
from tests.receivers import wait_for


@pytest.fixture
def store(app, live_server, walmart_store):
    """A simulator store, Orderdeck's public address this test's server: (store_id, seller)."""
    app.config["PUBLIC_URL"] = live_server
    return walmart_store()


def _store(app, store_id: int):
    from webapp.extensions import db
    from webapp.models import Store

    with app.app_context():
        found = db.session.get(Store, store_id)
        db.session.expunge(found)
        return found


def _press(client, auth, store_id: int, action: str):
    return client.post(f"/stores/{store_id}/instant/{action}",
                       data={"csrf_token": auth.csrf(f"/stores/{store_id}/edit")})


def _walmart(sim, seller) -> list[dict]:
    return control.subscriptions(sim.conn, seller.seller_id)


def test_an_admin_subscribes_tests_pauses_resumes_and_deletes(app, client, auth, signed_in,
                                                             store, sim, live_server, worker):
    """Each button does it at Walmart and says so on the store's page: an ACTIVE
    ORDER_UPDATES subscription to /walmart/events/<id> with BASIC_AUTH; a test notification
    that reaches Orderdeck; INACTIVE; ACTIVE; gone, and the old password refused."""
    from webapp.extensions import db
    from webapp.models import AuditEvent, WalmartEvent

    store_id, seller = store
    signed_in("admin")
    page = client.get(f"/stores/{store_id}/edit").text
    assert "Receive orders instantly" in page and "Not subscribed" in page
    response = _press(client, auth, store_id, "subscribe")
    assert response.status_code == 302 and response.headers["Location"].endswith("#instant")
    [walmart] = _walmart(sim, seller)
    assert walmart["eventType"] == "ORDER_UPDATES" and walmart["status"] == "ACTIVE"
    assert walmart["eventUrl"] == f"{live_server}/walmart/events/{store_id}"
    assert walmart["authDetails"]["authMethod"] == "BASIC_AUTH"
    row = sim.conn.execute("SELECT auth FROM subscriptions").fetchall()
    assert row  # (the simulator keeps the password: Walmart must know it)
    saved = _store(app, store_id)
    assert saved.events_status == "ACTIVE" and saved.events_subscription_id == \
        walmart["subscriptionId"]
    assert "Active" in client.get(f"/stores/{store_id}/edit").text

    assert _press(client, auth, store_id, "test").status_code == 302
    assert "test notification reached Orderdeck" in client.get(f"/stores/{store_id}/edit").text
    with app.app_context():
        assert db.session.scalars(select(WalmartEvent.outcome)).all() in ([None], ["no_order"])
    assert _store(app, store_id).events_tested_at is not None

    _press(client, auth, store_id, "pause")
    assert _walmart(sim, seller)[0]["status"] == "INACTIVE"
    make_walmart_order(seller, (1,))
    assert control.deliveries(sim.conn, seller.seller_id) == []  # paused: nothing sent
    _press(client, auth, store_id, "resume")
    assert _walmart(sim, seller)[0]["status"] == "ACTIVE"
    po = make_walmart_order(seller, (1,))
    assert wait_for(lambda: any(d["po"] == po and d["state"] == "delivered"
                                for d in control.deliveries(sim.conn, seller.seller_id)))

    old = _store(app, store_id).events_password_encrypted
    with app.app_context():
        from webapp.secrets_box import decrypt
        password = decrypt(old)
    _press(client, auth, store_id, "unsubscribe")
    assert _walmart(sim, seller) == []
    assert _store(app, store_id).events_status is None
    refused = client.post(f"/walmart/events/{store_id}", data=b"{}", headers={
        "Authorization": base64.b64encode(f"orderdeck:{password}".encode()).decode()})
    assert refused.status_code == 401
    with app.app_context():
        actions = [a for (a,) in db.session.execute(select(AuditEvent.action).where(
            AuditEvent.action.like("store.events_%")).order_by(AuditEvent.id))]
    assert actions == ["store.events_subscribe", "store.events_test", "store.events_pause",
                       "store.events_resume", "store.events_unsubscribe"]


def test_the_password_is_random_encrypted_and_renewed(app, client, auth, signed_in, store,
                                                      sim):
    """The password is long and random, stored encrypted (never in plain in a row), and a
    new one replaces it when the subscription is renewed — at Walmart too, no second
    subscription made."""
    from webapp.secrets_box import decrypt

    store_id, seller = store
    signed_in("admin")
    _press(client, auth, store_id, "subscribe")
    first = _store(app, store_id).events_password_encrypted
    _press(client, auth, store_id, "subscribe")
    second = _store(app, store_id).events_password_encrypted
    with app.app_context():
        one, two = decrypt(first), decrypt(second)
    assert one != two and len(one) >= 40 and one not in first
    assert len(_walmart(sim, seller)) == 1
    stored = sim.conn.execute("SELECT auth FROM subscriptions WHERE seller_id = ?",
                              (seller.seller_id,)).fetchone()["auth"]
    assert two in stored and one not in stored


def test_a_subscription_walmart_kept_is_found_again(app, store, sim):
    """Orderdeck's record of the subscription lost (a restore, say): subscribing again finds
    Walmart's by its address and updates it instead of making a second one."""
    from webapp.extensions import db
    from webapp.models import Store
    from webapp.services.stores import webhooks

    store_id, seller = store
    with app.app_context():
        webhooks.subscribe(db.session.get(Store, store_id), by=None)
        found = db.session.get(Store, store_id)
        found.events_subscription_id = None
        db.session.commit()
        webhooks.subscribe(db.session.get(Store, store_id), by=None)
        assert db.session.get(Store, store_id).events_subscription_id == \
            _walmart(sim, seller)[0]["subscriptionId"]
    assert len(_walmart(sim, seller)) == 1


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_admins_may_subscribe(app, client, auth, signed_in, store, sim, role):
    """Viewers and operators get 403 on every subscription action; nothing at Walmart."""
    store_id, seller = store
    signed_in(role)
    for action in ("subscribe", "test", "pause", "resume", "unsubscribe"):
        response = client.post(f"/stores/{store_id}/instant/{action}",
                               data={"csrf_token": auth.csrf("/stores/")})
        assert response.status_code == 403, action
    assert _walmart(sim, seller) == []


def test_a_read_only_store_cannot_subscribe(app, client, auth, signed_in, store, sim):
    """Subscribing sends something to Walmart: refused for a read-only store, with the
    read-only message; nothing at Walmart, nothing stored."""
    from webapp.extensions import db
    from webapp.models import Store
    from webapp.services.errors import StoreReadOnly
    from webapp.services.stores import webhooks

    store_id, seller = store
    with app.app_context():
        db.session.get(Store, store_id).read_only = True
        db.session.commit()
    signed_in("admin")
    page = client.get(f"/stores/{store_id}/edit").text
    assert "read-only" in page and "/instant/subscribe" not in page
    _press(client, auth, store_id, "subscribe")
    assert "is read-only" in client.get(f"/stores/{store_id}/edit").text
    assert _walmart(sim, seller) == []
    saved = _store(app, store_id)
    assert saved.events_password_encrypted is None and saved.events_status is None
    with app.app_context(), pytest.raises(StoreReadOnly):
        webhooks.subscribe(db.session.get(Store, store_id), by=None)


@pytest.mark.parametrize("public_url, environment, refused", [
    (None, "simulator", "Set ORDERDECK_PUBLIC_URL"),
    ("http://orders.example.com", "sandbox", "must be https"),
    ("http://orders.example.com", "production", "must be https"),
    ("javascript:alert(1)", "simulator", "must look like"),
    ("https://user:pw@orders.example.com", "production", "must look like"),
])
def test_the_public_address_must_be_https_for_walmart(app, public_url, environment, refused):
    """No ORDERDECK_PUBLIC_URL, or plain http for a sandbox or production store (the password
    travels with every notification): refused before anything is sent or stored."""
    from tests.factories import make_store
    from webapp.extensions import db
    from webapp.models import Store
    from webapp.services.errors import ActionRefused
    from webapp.services.stores import webhooks

    app.config["PUBLIC_URL"] = public_url
    app.config["SIMULATOR_URL"] = "http://127.0.0.1:9"
    with app.app_context():
        made = make_store(environment=environment,
                          base_url="http://127.0.0.1:9" if environment == "simulator" else None)
        with pytest.raises(ActionRefused, match=refused):
            webhooks.subscribe(db.session.get(Store, made.id), by=None)
        assert db.session.get(Store, made.id).events_password_encrypted is None


def test_https_is_required_for_walmart_but_http_allowed_for_the_simulator(app):
    """The event URL: https for a Walmart store, http accepted only for the simulator's."""
    from tests.factories import make_store
    from webapp.extensions import db
    from webapp.models import Store
    from webapp.services.stores import webhooks

    with app.app_context():
        sandbox = db.session.get(Store, make_store(environment="sandbox").id)
        app.config["PUBLIC_URL"] = "https://orders.example.com/"
        assert webhooks.event_url(sandbox) == \
            f"https://orders.example.com/walmart/events/{sandbox.id}"
        app.config["SIMULATOR_URL"] = "http://127.0.0.1:9"
        sim_store = db.session.get(Store, make_store(environment="simulator",
                                                     base_url="http://127.0.0.1:9").id)
        app.config["PUBLIC_URL"] = "http://127.0.0.1:5000"
        assert webhooks.event_url(sim_store).startswith("http://127.0.0.1:5000/walmart/")


def test_walmart_refusing_is_said_and_kept_and_changes_nothing_else(
        app, client, auth, signed_in, store, sim):
    """Walmart refuses the subscription (400): the page says Walmart's words, Stores shows
    them, the store stays unsubscribed and keeps no password."""
    store_id, seller = store
    control.set_faults(sim.conn, "webhooks", next={"reject": 1})
    signed_in("admin")
    _press(client, auth, store_id, "subscribe")
    page = client.get(f"/stores/{store_id}/edit").text
    assert "Walmart refused to subscribe" in page
    saved = _store(app, store_id)
    assert saved.events_status is None and saved.events_password_encrypted is None
    assert "Simulated rejection" in saved.events_error
    assert "Simulated rejection" in client.get("/stores/").text


def test_sync_health_shows_the_state_and_the_last_notification(app, client, auth, signed_in,
                                                               store, sim, worker):
    """Stores and Home show the subscription (Instant / paused) and when the last
    notification came."""
    store_id, seller = store
    signed_in("admin")
    _press(client, auth, store_id, "subscribe")
    assert "last notification none yet" in " ".join(client.get("/stores/").text.split())
    make_walmart_order(seller, (1,))
    assert wait_for(lambda: "none yet" not in client.get(f"/stores/{store_id}/edit").text)
    for path in ("/stores/", "/"):
        text = " ".join(client.get(path).text.split())
        assert "Instant" in text and "last notification" in text, path
        assert "none yet" not in text, path
    _press(client, auth, store_id, "pause")
    assert "Instant: paused" in client.get("/stores/").text
