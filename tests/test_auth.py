"""Sign-in, sign-out, sessions, CSRF and throttling."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from


def test_sign_in_lands_on_orders_and_sign_out_ends_the_session(signed_in, client, auth):
    """A signed-in user sees the Orders page; after signing out it is closed again."""
    signed_in("operator")
    assert "<h1>Orders</h1>" in client.get("/orders/").text
    response = auth.logout()
    assert response.status_code == 303
    assert client.get("/").status_code == 302


def test_sign_in_follows_a_local_next(make_user, auth):
    """`?next=` to a path on the site is followed after sign-in."""
    user = make_user()
    response = auth.login(user.email, next_url="/stores/")
    assert response.headers["Location"] == "/stores/"


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/x", "///evil.example", "/\\evil.example",
    "\\\\evil.example", "/\\/evil.example", "javascript:alert(1)", "http:evil.example",
    "https:/evil.example", "//evil.example@localhost", "/\t/evil.example", "/\n/evil.example",
    " //evil.example", "evil.example", "%2F%2Fevil.example"])
def test_sign_in_ignores_a_foreign_next(make_user, auth, target):
    """`?next=` that a browser could read as another site (scheme, `//`, backslashes, tabs and
    newlines browsers drop) is ignored, at sign-in and when already signed in: Orders."""
    user = make_user()
    response = auth.login(user.email, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    again = auth.client.get("/login", query_string={"next": target})
    assert again.headers["Location"] == "/"


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
    from webapp.services.users.accounts import set_active

    admin = make_user(role="admin")
    user = make_user()
    assert auth.login(user.email).status_code == 302
    with app.app_context():
        set_active(db.session.get(User, user.id), False, by=db.session.get(User, admin.id))
    assert client.get("/").status_code == 302
    assert auth.login(user.email).status_code == 401


def test_session_is_renewed_at_sign_in(make_user, client, auth):
    """Nothing put in the session before sign-in survives it (no session fixation): neither
    planted keys nor the CSRF token of the signed-out page, which stops working."""
    user = make_user()
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    token_before = csrf_from(client.get("/login").text)
    auth.login(user.email)
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert "_user_id" in sess
    stale = client.post("/logout", data={"csrf_token": token_before})
    assert stale.status_code == 400
    assert client.get("/").status_code == 200  # still signed in


def test_htmx_request_when_signed_out_redirects_the_whole_page(client):
    """A fragment request without a session asks htmx to load the login page, not swap it in."""
    response = client.get("/stores/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login?next=")


def test_failed_sign_ins_are_throttled_per_account(make_user, auth, app, monkeypatch):
    """After 5 failed attempts on one account, even the right password is refused for a while,
    however the e-mail is spelt (letter case, spaces) and from whichever address."""
    from webapp.services.users import login_throttle

    monkeypatch.setattr(login_throttle, "now", lambda: 1_000_000.0)  # no time passes
    user = make_user()
    spellings = [user.email, user.email.upper(), f"  {user.email} ", user.email.title(),
                 user.email]
    for n, email in enumerate(spellings):
        response = auth.client.post("/login", headers={"X-Forwarded-For": f"203.0.113.{n}"},
                                    data={"email": email, "password": "wrong password!",
                                          "csrf_token": auth.csrf("/login")})
        assert response.status_code == 401
    response = auth.login(user.email.upper())
    assert response.status_code == 429
    assert "Too many failed sign-ins for this account: wait 1 second" in response.text


def test_failed_sign_ins_are_throttled_per_address(app_settings, make_user, app):
    """Many failures from one address, spread over accounts, block that address."""
    from tests.conftest import Auth

    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per 15 minutes"
    auth = Auth(app.test_client())
    for n in range(3):  # a forged X-Forwarded-For is not believed (no proxy configured)
        response = auth.client.post("/login", headers={"X-Forwarded-For": f"198.51.100.{n}"},
                                    data={"email": f"nobody{n}@example.com",
                                          "password": "x" * 12, "csrf_token": auth.csrf("/login")})
        assert response.status_code == 401
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
