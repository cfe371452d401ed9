"""Stores: add and edit Walmart seller accounts; the client secret is write-only."""

from __future__ import annotations

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
        from webapp.services.stores import client_secret
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


def test_base_url_stays_editable(app, signed_in, auth):
    """A base URL typed by the admin (e.g. a test double) wins over the default."""
    signed_in("admin")
    _form(auth, "/stores/new", base_url="https://walmart-double.internal:8443/api/")
    assert _stores(app)[0].base_url == "https://walmart-double.internal:8443/api"


@pytest.mark.parametrize("fields, message", [
    ({"name": ""}, "This field is required."),
    ({"client_id": ""}, "This field is required."),
    ({"client_secret": ""}, "Enter the Walmart client secret."),
    ({"base_url": "ftp://x.example"}, "Invalid URL."),
    ({"base_url": "http://marketplace.walmartapis.com"}, "only served over https"),
    ({"environment": "simulator"}, "The built-in simulator is not running"),
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
        from webapp.services.rate_limit import limit_for
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
        from webapp.services.stores import client_secret
        assert client_secret(saved) == "first-secret-123"
        _form(auth, f"/stores/{store.id}/edit", name="Shop renamed", client_secret="second-456")
        assert client_secret(_stores(app)[0]) == "second-456"


def test_a_changed_encryption_key_is_reported_not_garbled(app):
    """A secret saved under another key raises a clear error instead of returning garbage."""
    from cryptography.fernet import Fernet

    from webapp.secrets_box import SecretUnreadable
    from webapp.services.stores import client_secret

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
