"""Test connection: a token and one read, explained in plain words, from the form and the CLI."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import csrf_from


def _store(app, walmart_store, **fields):
    from webapp.extensions import db
    from webapp.models import Store

    store_id, seller = walmart_store(orders=3, seed=7, **fields)
    with app.app_context():
        return db.session.get(Store, store_id).name, store_id, seller


def test_cli_check_passes_with_good_credentials(app, runner, walmart_store):
    """`stores check NAME` takes a token, reads the orders, says both worked, exits 0, and
    makes exactly one read."""
    name, _store_id, seller = _store(app, walmart_store)
    result = runner.invoke(args=["stores", "check", name])
    assert result.exit_code == 0, result.output
    assert "OK     Walmart accepts the client ID and secret" in result.output
    assert "OK     Read orders: 3 order(s) created in the last 7 days." in result.output
    assert [r["endpoint"] for r in seller.requests()] == ["orders"]


def test_cli_check_explains_refused_credentials_without_the_secret(app, runner, walmart_store):
    """A wrong secret: exit 1, Walmart's refusal and what to do, and never the secret."""
    from webapp.extensions import db
    from webapp.models import Store
    from webapp.secrets_box import encrypt

    name, store_id, _seller = _store(app, walmart_store)
    with app.app_context():
        db.session.get(Store, store_id).client_secret_encrypted = encrypt("wrong-secret-xyz")
        db.session.commit()
    result = runner.invoke(args=["stores", "check", name])
    assert result.exit_code == 1
    assert "FAILED Walmart accepts the client ID and secret: Walmart refused" in result.output
    assert "What to do: Copy the Client ID and Client Secret again" in result.output
    assert "wrong-secret-xyz" not in result.output


def test_cli_check_explains_an_unreachable_address(app, runner, walmart_store):
    """Nothing listening at the address: exit 1, 'Reach Walmart' failed, check the URL."""
    from devserver.net import free_port
    from webapp.extensions import db
    from webapp.models import Store

    name, store_id, _seller = _store(app, walmart_store)
    moved = f"http://127.0.0.1:{free_port()}"  # the simulator's configured address, not running
    app.config["SIMULATOR_URL"] = moved
    with app.app_context():
        db.session.get(Store, store_id).base_url = moved
        db.session.commit()
    result = runner.invoke(args=["stores", "check", name])
    assert result.exit_code == 1
    assert "FAILED Reach Walmart at http://127.0.0.1:" in result.output
    assert "Check the base URL" in result.output


def test_unknown_store_is_refused(runner, app):
    """`stores check` of a store that does not exist says so and fails."""
    result = runner.invoke(args=["stores", "check", "Nope"])
    assert result.exit_code == 1 and "No store named 'Nope'" in result.output


def test_form_button_tests_unsaved_values_and_saves_nothing(app, walmart_store, signed_in,
                                                            client):
    """Test connection on the edit form checks the values typed (a wrong secret fails, the
    saved one works), as a page or as the htmx block, saves nothing, and the audit log says
    who tested and how it went."""
    from webapp.extensions import db
    from webapp.models import AuditEvent, Store

    name, store_id, _seller = _store(app, walmart_store)
    signed_in("admin")
    with app.app_context():
        store = db.session.get(Store, store_id)
        fields = {"name": name, "environment": "simulator", "base_url": store.base_url,
                  "client_id": store.client_id, "import_enabled": "y", "action": "check"}
        audits = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()))
        store_secret = store.client_secret_encrypted
    token = csrf_from(client.get(f"/stores/{store_id}/edit").text)
    wrong = client.post(f"/stores/{store_id}/edit", data={
        **fields, "csrf_token": token, "client_secret": "typed-wrong"})
    assert wrong.status_code == 200
    assert "Connection failed" in wrong.text and "Walmart refused" in wrong.text
    assert "typed-wrong" not in wrong.text
    saved = client.post(f"/stores/{store_id}/edit", data={**fields, "csrf_token": token},
                        headers={"HX-Request": "true"})
    assert "Connection works" in saved.text and "<html" not in saved.text
    assert "3 order(s) created in the last 7 days" in saved.text
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.id > (audits or 0))
                                    .order_by(AuditEvent.id)).all()
        assert [(e.action, e.details["ok"]) for e in events] == [("store.check", False),
                                                                 ("store.check", True)]
        assert db.session.get(Store, store_id).client_secret_encrypted == store_secret


def test_saved_store_check_route_is_for_admins(app, walmart_store, signed_in, client):
    """POST /stores/<id>/check shows the result to an admin; an operator may not."""
    _name, store_id, _seller = _store(app, walmart_store)
    signed_in("operator")
    token = csrf_from(client.get("/stores/").text)
    assert client.post(f"/stores/{store_id}/check",
                       data={"csrf_token": token}).status_code == 403
    client.post("/logout", data={"csrf_token": token})
    signed_in("admin")
    token = csrf_from(client.get("/stores/").text)
    page = client.post(f"/stores/{store_id}/check", data={"csrf_token": token})
    assert page.status_code == 200 and "Connection works" in page.text


def test_check_never_reaches_an_address_a_store_may_not_use(app, runner, walmart_store):
    """A store whose address was changed behind the form's back is not called: the check says
    which address may be used instead, and exits 1."""
    from webapp.extensions import db
    from webapp.models import Store

    name, store_id, seller = _store(app, walmart_store)
    with app.app_context():
        db.session.get(Store, store_id).base_url = "http://169.254.169.254"
        db.session.commit()
    result = runner.invoke(args=["stores", "check", name])
    assert result.exit_code == 1
    assert "FAILED Use the address http://169.254.169.254: A simulator store uses the " \
        "built-in simulator's address" in result.output
    assert seller.requests() == []


def test_a_passing_check_resumes_updates_paused_for_refused_credentials(app, runner,
                                                                       walmart_store):
    """Walmart accepted the credentials again (fixed in Seller Center): a passing Test
    connection clears the store's credentials problem at once."""
    from webapp.extensions import db
    from webapp.models import Store
    from webapp.models.base import utcnow

    name, store_id, _seller = _store(app, walmart_store)
    with app.app_context():
        store = db.session.get(Store, store_id)
        store.credentials_problem, store.credentials_failed_at = "refused", utcnow()
        db.session.commit()
    assert runner.invoke(args=["stores", "check", name]).exit_code == 0
    with app.app_context():
        assert db.session.get(Store, store_id).credentials_problem is None
