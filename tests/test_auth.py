"""Sign-in, sign-out, sessions, CSRF and throttling."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from


def test_every_page_redirects_to_sign_in_when_signed_out(app, client):
    """No URL but the login page, static files and the health check answers a stranger."""
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in {"static", "auth.login", "health"}:
            continue
        url = rule.build({arg: 1 for arg in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            if method == "GET":
                assert response.status_code == 302, (method, url)
                assert response.headers["Location"].startswith("/login?next="), url
            else:  # a POST without a session has no CSRF token either: refused either way
                assert response.status_code in (302, 400), (method, url)
            checked += 1
    assert checked >= 8


def test_sign_in_lands_on_orders_and_sign_out_ends_the_session(signed_in, client, auth):
    """A signed-in user sees the Orders page; after signing out it is closed again."""
    signed_in("operator")
    assert "<h1>Orders</h1>" in client.get("/").text
    response = auth.logout()
    assert response.status_code == 303
    assert client.get("/").status_code == 302


def test_sign_in_follows_a_local_next(make_user, auth):
    """`?next=` to a path on the site is followed after sign-in."""
    user = make_user()
    response = auth.login(user.email, next_url="/stores/")
    assert response.headers["Location"] == "/stores/"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x",
                                    "/\\evil.example", "javascript:alert(1)"])
def test_sign_in_ignores_a_foreign_next(make_user, auth, target):
    """`?next=` pointing off the site is ignored: the user lands on Orders."""
    user = make_user()
    response = auth.login(user.email, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_wrong_password_is_refused_with_a_message(make_user, auth, client):
    """A wrong password shows a clear message and opens no session."""
    user = make_user()
    response = auth.login(user.email, password="wrong password!")
    assert response.status_code == 401
    assert "Wrong e-mail or password" in response.text
    assert client.get("/").status_code == 302


def test_deactivated_user_cannot_sign_in_and_loses_open_sessions(app, make_user, auth, client):
    """Deactivating an account ends its session at the next request and blocks sign-in."""
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services.users import set_active

    admin = make_user(role="admin")
    user = make_user()
    assert auth.login(user.email).status_code == 302
    with app.app_context():
        set_active(db.session.get(User, user.id), False, by=db.session.get(User, admin.id))
    assert client.get("/").status_code == 302
    assert auth.login(user.email).status_code == 401


def test_session_is_renewed_at_sign_in(make_user, client, auth):
    """Nothing put in the session before sign-in survives it (no session fixation)."""
    user = make_user()
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    auth.login(user.email)
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert "_user_id" in sess


def test_post_without_csrf_token_is_refused(signed_in, client, app):
    """A form POST without the CSRF token gets 400 and changes nothing."""
    from webapp.extensions import db
    from webapp.models import Store

    signed_in("admin")
    response = client.post("/stores/new", data={"name": "X", "environment": "sandbox",
                                                "client_id": "c", "client_secret": "s"})
    assert response.status_code == 400
    assert "expired or was not sent from Orderdeck" in response.text
    with app.app_context():
        assert db.session.scalars(select(Store)).all() == []


def test_htmx_post_with_csrf_header_is_accepted(signed_in, client, auth):
    """htmx sends the token in X-CSRFToken (from hx-headers on <body>): that is accepted."""
    signed_in("operator")
    token = auth.csrf()
    response = client.post("/logout", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/login"


def test_htmx_request_when_signed_out_redirects_the_whole_page(client):
    """A fragment request without a session asks htmx to load the login page, not swap it in."""
    response = client.get("/stores/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login?next=")


def test_failed_sign_ins_are_throttled_per_account(make_user, auth, app):
    """After 5 failed attempts on one account, even the right password is refused for a while."""
    user = make_user()
    for _ in range(5):
        assert auth.login(user.email, password="wrong password!").status_code == 401
    response = auth.login(user.email)
    assert response.status_code == 429
    assert "Too many attempts" in response.text


def test_failed_sign_ins_are_throttled_per_address(app_settings, make_user, app):
    """Many failures from one address, spread over accounts, block that address."""
    from tests.conftest import Auth

    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per 15 minutes"
    auth = Auth(app.test_client())
    for n in range(3):
        assert auth.login(f"nobody{n}@example.com", password="x" * 12).status_code == 401
    user = make_user()
    assert auth.login(user.email).status_code == 429


def test_successful_sign_ins_do_not_count_against_the_limit(make_user, auth):
    """Only failures count: signing in and out many times keeps working."""
    user = make_user()
    for _ in range(7):
        assert auth.login(user.email).status_code == 302
        auth.logout()


def test_logout_needs_a_post(signed_in, client):
    """A GET to /logout (a link in an e-mail, an <img>) does not sign anyone out."""
    signed_in("operator")
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_sign_ins_are_audited(app, make_user, auth):
    """Sign-in and failed sign-in leave audit events with who and from where."""
    from webapp.extensions import db
    from webapp.models import AuditEvent

    user = make_user()
    auth.login(user.email, password="wrong password!")
    auth.login(user.email)
    with app.app_context():
        actions = [(e.action, e.actor) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("auth.%")).order_by(AuditEvent.id))]
    assert actions == [("auth.login_failed", user.email), ("auth.login", user.email)]


def test_passwords_are_stored_hashed(app, make_user):
    """The database holds a scrypt hash, never the password."""
    from webapp.extensions import db
    from webapp.models import User

    user = make_user(password="a very secret pw")
    with app.app_context():
        stored = db.session.get(User, user.id).password_hash
    assert stored.startswith("scrypt:") and "a very secret pw" not in stored


def test_login_page_has_the_expected_fields(client):
    """The login form has fields named email and password and a CSRF token."""
    page = client.get("/login").text
    assert 'name="email"' in page and 'name="password"' in page
    assert csrf_from(page)
