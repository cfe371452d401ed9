"""Stores: add and edit Walmart seller accounts; the client secret is write-only."""

from __future__ import annotations

import html
import logging

import pytest
from sqlalchemy import select

from tests.factories import make_store


def _form(auth, path, **fields):
    data = {"name": "Main shop", "environment": "sandbox", "base_url": "",
            "client_id": "abc-client", "client_secret": "s3cret-value-xyz", "import_enabled": "y"}
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    data["csrf_token"] = auth.csrf(path)
    return auth.client.post(path, data=data)


def _stores(app):
    from webapp.extensions import db
    from webapp.models import Store

    with app.app_context():
        stores = db.session.scalars(select(Store).order_by(Store.id)).all()
        for store in stores:
            db.session.expunge(store)
        return stores


def test_admin_adds_a_store_and_the_secret_is_encrypted(app, signed_in, auth, caplog):
    """A new store is listed; its secret is stored encrypted and appears in no page or log."""
    caplog.set_level(logging.DEBUG)
    signed_in("admin")
    response = _form(auth, "/stores/new")
    assert response.status_code == 302
    [store] = _stores(app)
    assert store.base_url == "https://sandbox.walmartapis.com"
    assert "s3cret-value-xyz" not in store.client_secret_encrypted
    with app.app_context():
        from webapp.services.stores.editing import client_secret
        assert client_secret(store) == "s3cret-value-xyz"
    for path in ("/stores/", f"/stores/{store.id}/edit", "/"):
        assert "s3cret-value-xyz" not in auth.client.get(path).text
    assert "s3cret-value-xyz" not in caplog.text


@pytest.mark.parametrize("environment, expected", [
    ("sandbox", "https://sandbox.walmartapis.com"),
    ("production", "https://marketplace.walmartapis.com"),
])
def test_environment_sets_the_default_base_url(app, signed_in, auth, environment, expected):
    """Leaving the base URL empty uses Walmart's host for the chosen environment."""
    signed_in("admin")
    _form(auth, "/stores/new", environment=environment)
    assert _stores(app)[0].base_url == expected


def test_simulator_environment_uses_the_running_simulator(app, signed_in, auth):
    """With the built-in simulator running, its address is the simulator store's default."""
    app.config["SIMULATOR_URL"] = "http://127.0.0.1:5055"
    signed_in("admin")
    _form(auth, "/stores/new", environment="simulator")
    assert _stores(app)[0].base_url == "http://127.0.0.1:5055"


def test_an_operator_allowed_host_may_be_typed(app, signed_in, auth):
    """A host an operator allowed (ORDERDECK_WALMART_EXTRA_HOSTS, e.g. an egress proxy) may be
    typed as a Walmart store's base URL, and is kept as typed."""
    app.config["WALMART_EXTRA_HOSTS"] = ["walmart-proxy.internal:8443"]
    signed_in("admin")
    _form(auth, "/stores/new", base_url="https://walmart-proxy.internal:8443/api/")
    assert _stores(app)[0].base_url == "https://walmart-proxy.internal:8443/api"


WALMART_ONLY = "store uses Walmart's address, https://"
SIMULATOR_ONLY = "A simulator store uses the built-in simulator's address, http://127.0.0.1:5055"


@pytest.mark.parametrize("environment, base_url, message", [
    ("production", "https://10.0.0.1", WALMART_ONLY),
    ("production", "https://127.0.0.1:6379", WALMART_ONLY),
    ("sandbox", "https://169.254.169.254/latest/meta-data", WALMART_ONLY),
    ("production", "https://marketplace.walmartapis.com.evil.example", WALMART_ONLY),
    ("production", "https://sandbox.walmartapis.com", WALMART_ONLY),
    ("production", "https://user:pw@marketplace.walmartapis.com", "Invalid URL."),
    ("simulator", "http://169.254.169.254", SIMULATOR_ONLY),
    ("simulator", "http://127.0.0.1:5056", SIMULATOR_ONLY),
])
def test_a_store_never_points_at_an_address_it_may_not_use(app, signed_in, auth, environment,
                                                            base_url, message):
    """The client id and secret go to the base URL: sandbox and production take Walmart's own
    host (or an allowed one), a simulator store only the running simulator's address; anything
    else is refused with a message and no store is added."""
    app.config["SIMULATOR_URL"] = "http://127.0.0.1:5055"
    signed_in("admin")
    response = _form(auth, "/stores/new", environment=environment, base_url=base_url)
    assert response.status_code == 422
    assert message in html.unescape(response.text)
    assert _stores(app) == []


def test_credentials_in_the_address_are_refused_by_the_service_too(app_ctx):
    """The rule itself (used by the CLI and every Walmart call, not only the form) refuses a
    user:password in the address and a port that is not a number."""
    from webapp.models import Environment
    from webapp.services.stores.editing import address_refusal

    for url in ("https://user:pw@marketplace.walmartapis.com",
                "https://marketplace.walmartapis.com:x"):
        assert "must look like" in address_refusal(Environment.PRODUCTION, url)
    assert address_refusal(Environment.PRODUCTION, "https://marketplace.walmartapis.com") is None
    assert address_refusal(Environment.PRODUCTION,
                           "https://marketplace.walmartapis.com:443/") is None


def test_an_address_changed_behind_the_form_is_never_called(app, walmart_store):
    """A store whose address was changed in the database (or whose simulator moved) is not
    called at all: the import fails with the reason, and the secret goes nowhere."""
    from webapp.extensions import db
    from webapp.models import ImportRun, Store
    from webapp.services.orders.importer import import_store
    from webapp.walmart.errors import AddressRefused

    store_id, seller = walmart_store(orders=2)
    with app.app_context():
        db.session.get(Store, store_id).base_url = "http://169.254.169.254"
        db.session.commit()
        with pytest.raises(AddressRefused, match="Nothing was sent to http://169.254.169.254"):
            import_store(store_id)
        run = db.session.scalars(select(ImportRun)).one()
        assert run.ok is False and "Nothing was sent" in run.error


@pytest.mark.parametrize("fields, message", [
    ({"name": ""}, "This field is required."),
    ({"client_id": ""}, "This field is required."),
    ({"client_secret": ""}, "Enter the Walmart client secret."),
    ({"base_url": "ftp://x.example"}, "Invalid URL."),
    ({"base_url": "http://marketplace.walmartapis.com"}, "only served over https"),
    ({"environment": "simulator"}, "The built-in simulator is not running"),
    ({"environment": "simulator", "base_url": "http://127.0.0.1:5055"},
     "The built-in simulator is not running here"),
    ({"environment": "mars"}, "Not a valid choice"),
    ({"rate_limits": "ack=5"}, "Unknown Walmart call"),
    ({"rate_limits": "acknowledge=0"}, "must be a positive number"),
])
def test_invalid_store_input_is_refused_with_a_message(app, signed_in, auth, fields, message):
    """Bad input re-renders the form with a clear message and adds no store."""
    signed_in("admin")
    response = _form(auth, "/stores/new", **fields)
    assert response.status_code == 422
    assert message in response.text
    assert _stores(app) == []


def test_rate_limits_per_store(app, signed_in, auth):
    """An account with other Walmart limits stores them, and the edit form shows them back."""
    signed_in("admin")
    _form(auth, "/stores/new", rate_limits="acknowledge=120; shipping = 90")
    [store] = _stores(app)
    assert store.rate_limits == {"acknowledge": 120, "shipping": 90}
    assert 'value="acknowledge=120, shipping=90"' in auth.client.get(
        f"/stores/{store.id}/edit").text
    with app.app_context():
        from webapp.extensions import db
        from webapp.models import Store
        from webapp.services.sync.rate_limit import limit_for
        saved = db.session.get(Store, store.id)
        assert (limit_for(saved, "acknowledge"), limit_for(saved, "cancel")) == (120, 60)


def test_duplicate_store_name_is_refused(app, signed_in, auth):
    """Two stores cannot share a name."""
    signed_in("admin")
    _form(auth, "/stores/new")
    response = _form(auth, "/stores/new")
    assert response.status_code == 422
    assert "already exists" in response.text
    assert len(_stores(app)) == 1


def test_editing_with_an_empty_secret_keeps_the_stored_one(app, signed_in, auth):
    """The edit form never shows the secret, and leaving it empty keeps it."""
    signed_in("admin")
    with app.app_context():
        store = make_store(name="Shop", client_secret="first-secret-123")
    page = auth.client.get(f"/stores/{store.id}/edit").text
    assert "first-secret-123" not in page and 'value="Shop"' in page
    response = _form(auth, f"/stores/{store.id}/edit", name="Shop renamed", client_secret="",
                     import_enabled=None)
    assert response.status_code == 302
    [saved] = _stores(app)
    assert (saved.name, saved.import_enabled) == ("Shop renamed", False)
    with app.app_context():
        from webapp.services.stores.editing import client_secret
        assert client_secret(saved) == "first-secret-123"
        _form(auth, f"/stores/{store.id}/edit", name="Shop renamed", client_secret="second-456")
        assert client_secret(_stores(app)[0]) == "second-456"


def test_a_changed_encryption_key_is_reported_not_garbled(app):
    """A secret saved under another key raises a clear error instead of returning garbage."""
    from cryptography.fernet import Fernet

    from webapp.secrets_box import SecretUnreadable
    from webapp.services.stores.editing import client_secret

    with app.app_context():
        store = make_store()
        app.config["ENCRYPTION_KEY"] = Fernet.generate_key().decode()
        with pytest.raises(SecretUnreadable, match="ORDERDECK_ENCRYPTION_KEY"):
            client_secret(store)


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_only_admins_add_or_edit_stores(app, signed_in, auth, role):
    """Operators and viewers see the stores but get 403 on adding or editing one."""
    with app.app_context():
        store = make_store()
    signed_in(role)
    assert auth.client.get("/stores/").status_code == 200
    assert auth.client.get("/stores/new").status_code == 403
    assert _form(auth, "/stores/new", name="Sneaky").status_code == 403
    assert _form(auth, f"/stores/{store.id}/edit", name="Sneaky").status_code == 403
    assert [s.name for s in _stores(app)] == [store.name]


def test_unknown_store_is_404(signed_in, client):
    """Editing a store that does not exist is a friendly 404."""
    signed_in("admin")
    response = client.get("/stores/999/edit")
    assert response.status_code == 404
    assert "There is nothing at this address." in response.text


def test_an_update_for_a_store_at_a_refused_address_waits_and_sends_nothing(app, shop):
    """A pending update of a store whose address may not be used is not sent and not a crash:
    it waits (ADDRESS_REFUSED, checked again in minutes) for a person to correct the address."""
    from webapp.extensions import db
    from webapp.models import Order, Store, SyncTask
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order
    from webapp.services.sync.engine import process_task

    store_id, seller = shop
    calls = len(seller.requests())
    with app.app_context():
        order = db.session.scalars(select(Order).where(Order.intent_to_cancel.is_(False))
                                   .order_by(Order.id)).first()
        line = order.lines[0]
        task_id = ship_order(order.id, [PackageInput("1Z999AA10123456784", "Standard",
                                                     {line.line_number: 1}, "UPS")],
                             utcnow(), by=None).task_id
        db.session.get(Store, store_id).base_url = "http://169.254.169.254"
        db.session.commit()
        assert process_task(task_id).state == "retry"
        task = db.session.get(SyncTask, task_id)
        assert (task.state, task.last_error_code, task.attempts) == (
            "pending", "ADDRESS_REFUSED", 0)
        assert "Nothing was sent to http://169.254.169.254" in task.last_error_message
    assert len(seller.requests()) == calls
