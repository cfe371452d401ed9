"""One test per protection docs/security.md promises, written so that it FAILS when that
protection is taken out (each was checked by removing it in a scratch copy). They go through
HTTP and count effects, not internals, so they survive the code being moved around."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import pytest

from tests.conftest import Auth, csrf_from

SIGNED_IN_PAGES = ("/", "/orders/", "/stores/", "/users/", "/sync/", "/audit/")


def _user_row(app, user_id: int):
    from webapp.extensions import db
    from webapp.models import User

    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


# -- response headers ------------------------------------------------------------------------

def test_every_page_carries_the_strict_content_security_policy(signed_in, client):
    """Signed-in pages and the login page send the CSP: scripts, styles and connections only
    from Orderdeck, no plugins, no <base>, forms only to Orderdeck, no framing."""
    signed_in("admin")
    for path in (*SIGNED_IN_PAGES, "/login"):
        csp = client.get(path).headers.get("Content-Security-Policy", "")
        directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
        assert directives.get("default-src") == ["'self'"], path
        assert directives.get("script-src") == ["'self'"], path
        assert directives.get("style-src") == ["'self'"], path
        assert directives.get("connect-src") == ["'self'"], path
        assert directives.get("object-src") == ["'none'"], path
        assert directives.get("base-uri") == ["'none'"], path
        assert directives.get("form-action") == ["'self'"], path
        assert directives.get("frame-ancestors") == ["'none'"], path


def test_no_page_may_be_framed_by_another_site(signed_in, client):
    """X-Frame-Options: DENY and the CSP's frame-ancestors 'none' on every page (clickjacking):
    old browsers read the first, new ones the second."""
    signed_in("admin")
    for path in (*SIGNED_IN_PAGES, "/login"):
        response = client.get(path)
        assert response.headers.get("X-Frame-Options") == "DENY", path
        assert "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", "")


def test_nosniff_referrer_and_opener_policies_on_every_page(signed_in, client):
    """nosniff, Referrer-Policy: same-origin and Cross-Origin-Opener-Policy: same-origin."""
    signed_in("admin")
    for path in (*SIGNED_IN_PAGES, "/login", "/healthz"):
        headers = client.get(path).headers
        assert headers.get("X-Content-Type-Options") == "nosniff", path
        assert headers.get("Referrer-Policy") == "same-origin", path
        assert headers.get("Cross-Origin-Opener-Policy") == "same-origin", path


def test_signed_in_pages_and_fragments_are_never_cached(signed_in, client):
    """Cache-Control: no-store on every page and htmx fragment (a shared computer's back button
    or a proxy must not keep customers' addresses); static files may be cached."""
    signed_in("admin")
    for path in SIGNED_IN_PAGES:
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, headers)
            assert response.headers.get("Cache-Control") == "no-store", (path, headers)
    assert client.get("/login").headers.get("Cache-Control") == "no-store"
    static = client.get("/static/css/app.css")
    static.close()
    assert static.status_code == 200 and "no-store" not in static.headers.get(
        "Cache-Control", "")


# -- cookies ---------------------------------------------------------------------------------

def _session_cookie(response) -> str:
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def test_the_session_cookie_is_httponly_and_samesite_lax(make_user, auth):
    """Scripts cannot read the session cookie and other sites' forms do not carry it."""
    cookie = _session_cookie(auth.login(make_user().email))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_session_cookie_is_secure_when_secure_cookies_are_on(app_settings, make_user,
                                                                 monkeypatch):
    """ORDERDECK_SECURE_COOKIES=1 (the production default) marks the cookie Secure."""
    from webapp import create_app
    from webapp.extensions import db

    monkeypatch.setenv("ORDERDECK_SECURE_COOKIES", "1")
    secure_app = create_app(app_settings)
    user = make_user()
    cookie = _session_cookie(Auth(secure_app.test_client()).login(user.email))
    assert "Secure" in cookie and "HttpOnly" in cookie
    with secure_app.app_context():
        db.engine.dispose()


def test_a_session_cookie_older_than_twelve_hours_is_refused(make_user, auth, client,
                                                             monkeypatch):
    """A cookie signed 12 h 1 min ago no longer signs anyone in; one signed 11 h ago does."""
    import time

    from itsdangerous import TimestampSigner

    user = make_user()
    now = time.time()
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(now - 11 * 3600))
    assert auth.login(user.email).status_code == 302
    monkeypatch.undo()
    assert client.get("/orders/").status_code == 200
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(now - 12 * 3600 - 60))
    assert auth.login(user.email).status_code == 302
    monkeypatch.undo()
    response = client.get("/orders/")
    assert response.status_code == 302 and urlsplit(response.location).path == "/login"


# -- sign-in, sessions ------------------------------------------------------------------------

def test_every_page_needs_a_signed_in_user(client):
    """Signed out, every page is a redirect to the login page; only /login, /healthz and
    static files answer."""
    for path in (*SIGNED_IN_PAGES, "/returns/", "/stock/", "/users/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert urlsplit(response.location).path == "/login", path
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").text == "ok"


def test_a_viewer_can_change_nothing_even_on_a_route_without_a_role_check(app, signed_in,
                                                                           auth, client):
    """The sign-in hook answers 403 to any non-GET request from a viewer, also on a route
    whose view forgot its @require_role (here one added for the test)."""
    calls = []
    app.add_url_rule("/_probe", "probe", lambda: calls.append(1) or "done", methods=["POST"])
    signed_in("viewer")
    assert client.post("/_probe", data={"csrf_token": auth.csrf()}).status_code == 403
    assert calls == []
    auth.logout()
    signed_in("operator")
    assert client.post("/_probe", data={"csrf_token": auth.csrf()}).status_code == 200
    assert calls == [1]


def test_admin_pages_refuse_operators(signed_in, client):
    """Users and store editing are admin only: an operator gets 403."""
    signed_in("operator")
    assert client.get("/users/").status_code == 403
    assert client.get("/stores/new").status_code == 403


def test_another_user_agent_or_address_drops_the_session(make_user, auth, client):
    """Flask-Login's strong protection: the same cookie presented with another User-Agent, or
    from another client address, signs nobody in (and the session is gone for good)."""
    user = make_user()
    assert auth.login(user.email).status_code == 302
    assert client.get("/orders/").status_code == 200
    stolen = client.get("/orders/", headers={"User-Agent": "Mozilla/5.0 (attacker)"})
    assert stolen.status_code == 302 and urlsplit(stolen.location).path == "/login"
    assert client.get("/orders/").status_code == 302  # dropped, not just refused once

    assert auth.login(user.email).status_code == 302
    moved = client.get("/orders/", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert moved.status_code == 302 and urlsplit(moved.location).path == "/login"


def _count_password_hashes(monkeypatch) -> list[str]:
    """Every password-hash computation (scrypt, Werkzeug's default, or PBKDF2) is counted."""
    seen: list[str] = []
    scrypt, pbkdf2 = hashlib.scrypt, hashlib.pbkdf2_hmac

    def counting_scrypt(*args, **kwargs):
        seen.append("scrypt")
        return scrypt(*args, **kwargs)

    def counting_pbkdf2(*args, **kwargs):
        seen.append("pbkdf2")
        return pbkdf2(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting_scrypt)
    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counting_pbkdf2)
    return seen


def test_an_unknown_email_costs_one_password_hash_like_a_known_one(make_user, auth,
                                                                   monkeypatch):
    """The dummy-hash equaliser: a sign-in with an unknown e-mail computes exactly as many
    password hashes (one, of the same kind) as a wrong password for a real account, so the
    answer's timing does not tell which e-mails exist. Counted, never timed."""
    user = make_user()
    hashes = _count_password_hashes(monkeypatch)
    known = auth.login(user.email, "wrong password!!")
    known_hashes = list(hashes)
    hashes.clear()
    unknown = auth.login("nobody-here@example.com", "wrong password!!")
    assert known.status_code == unknown.status_code == 401
    assert known_hashes == ["scrypt"]
    assert hashes == known_hashes


def _second_session(app, email: str):
    other = app.test_client()
    assert Auth(other).login(email).status_code == 302
    assert other.get("/orders/").status_code == 200
    return other


def test_a_role_change_ends_that_users_open_sessions(app, make_user, signed_in, auth, client):
    """An admin giving someone another role ends every open session of that person (their
    session token changes): the next request goes to the login page."""
    user = make_user(role="operator")
    theirs = _second_session(app, user.email)
    signed_in("admin")
    client.post(f"/users/{user.id}/role", data={"role": "viewer", "csrf_token": auth.csrf(
        "/users/")})
    assert _user_row(app, user.id).role.value == "viewer"
    response = theirs.get("/orders/")
    assert response.status_code == 302 and urlsplit(response.location).path == "/login"


def test_deactivation_ends_sessions_for_good_even_after_reactivation(app, make_user, signed_in,
                                                                      auth, client):
    """Deactivating rotates the session token: a cookie from before stays dead when the
    account is reactivated (not merely refused while inactive)."""
    user = make_user(role="operator")
    theirs = _second_session(app, user.email)
    signed_in("admin")
    for active in ("", "y"):
        data = {"csrf_token": auth.csrf("/users/")}
        if active:
            data["active"] = active
        client.post(f"/users/{user.id}/active", data=data)
        assert _user_row(app, user.id).active is bool(active)
    response = theirs.get("/orders/")
    assert response.status_code == 302 and urlsplit(response.location).path == "/login"


def test_sign_in_starts_a_new_session(make_user, client, auth):
    """The session is cleared at sign-in: a key planted before and the signed-out page's CSRF
    token do not survive it (no session fixation)."""
    user = make_user()
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    stale_token = csrf_from(client.get("/login").text)
    auth.login(user.email)
    with client.session_transaction() as sess:
        assert "planted" not in sess
    assert client.post("/logout", data={"csrf_token": stale_token}).status_code == 400
    assert client.get("/orders/").status_code == 200


def test_sign_out_needs_a_post(signed_in, client, auth):
    """A link or an <img> (a GET) cannot sign anyone out; the POST with its token does."""
    signed_in("viewer")
    assert client.get("/logout").status_code == 405
    assert client.get("/orders/").status_code == 200
    auth.logout()
    assert client.get("/orders/").status_code == 302


@pytest.mark.parametrize("target", [
    "https://evil.example/x", "//evil.example/x", "/\\evil.example", "\\\\evil.example",
    "/\t/evil.example", "http:/evil.example", "javascript:alert(1)"])
def test_next_after_sign_in_never_leaves_the_site(make_user, auth, target):
    """?next= that names another host, scheme or a disguised // lands on Home instead."""
    response = auth.login(make_user().email, next_url=target)
    assert response.status_code == 302
    assert response.location == "/"


# -- CSRF ----------------------------------------------------------------------------------

def test_a_change_without_this_sessions_csrf_token_is_refused(app, make_user, signed_in, auth,
                                                              client):
    """No token, or a valid token of another session (what a forged form could carry): 400
    and nothing changed — on a form view and on sign-out, which has no form of its own."""
    user = make_user(role="operator")
    foreign = Auth(app.test_client())
    foreign.login(make_user(role="admin").email)
    foreign_token = foreign.csrf("/users/")
    signed_in("admin")
    for data in ({}, {"csrf_token": foreign_token}):
        response = client.post(f"/users/{user.id}/role", data={"role": "viewer", **data})
        assert response.status_code == 400
        assert _user_row(app, user.id).role.value == "operator"
        assert client.post("/logout", data=data).status_code == 400
        assert client.get("/orders/").status_code == 200  # still signed in
    accepted = client.post(f"/users/{user.id}/role", data={"role": "viewer"},
                           headers={"X-CSRFToken": auth.csrf("/users/")})
    assert accepted.status_code == 302 and _user_row(app, user.id).role.value == "viewer"


# -- secrets -------------------------------------------------------------------------------

def test_a_typed_client_secret_is_never_rendered_back(signed_in, auth, client):
    """A store form that fails validation does not echo the secret typed into it, and the
    edit page of a saved store does not show the stored one."""
    from tests.factories import make_store

    signed_in("admin")
    typed = "typed-secret-0123456789"
    response = client.post("/stores/new", data={
        "name": "", "environment": "sandbox", "client_id": "cid", "client_secret": typed,
        "csrf_token": auth.csrf("/stores/new")})
    assert response.status_code == 422 and "client_secret" in response.text
    assert typed not in response.text
    with client.application.app_context():
        store = make_store(client_secret="stored-secret-9876543210")
        page = client.get(f"/stores/{store.id}/edit")
    assert page.status_code == 200 and "stored-secret-9876543210" not in page.text


# -- bad input -----------------------------------------------------------------------------

def test_a_nul_byte_in_a_query_or_form_value_is_a_400(signed_in, auth, client):
    """PostgreSQL cannot hold NUL: the request is refused before any view reads it."""
    signed_in("operator")
    assert client.get("/orders/", query_string={"q": "a\x00b"}).status_code == 400
    assert client.get("/orders/", query_string={"q": "ab"}).status_code == 200


def test_a_body_over_two_megabytes_is_refused_unread(signed_in, auth, client):
    """MAX_CONTENT_LENGTH: a 3 MB upload is a 413 page."""
    signed_in("operator")
    token = auth.csrf("/stock/")
    response = client.post("/stock/import", data={"csrf_token": token, "pad": "x" * 3_000_000})
    assert response.status_code == 413
