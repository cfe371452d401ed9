"""What every page shares: layout, security headers, error pages, htmx fragments."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parent.parent / "static"


def test_security_headers_on_every_page(signed_in, client):
    """A strict CSP with no third-party origin, nosniff, referrer policy, and Vary: HX-Request."""
    signed_in("admin")
    for path in ("/", "/stores/", "/users/", "/login", "/nope"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self';" in csp
        assert "http" not in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "HX-Request" in response.headers["Vary"]


def test_session_cookie_is_httponly_and_samesite(make_user, auth):
    """The session cookie cannot be read by scripts nor sent by other sites' forms."""
    user = make_user()
    response = auth.login(user.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # only when ORDERDECK_SECURE_COOKIES (or production) says so


def test_secure_cookie_when_configured(app_settings, database_url, make_user):
    """With secure cookies on, the session cookie is marked Secure."""
    from tests.conftest import Auth
    from webapp import create_app

    app_settings["SESSION_COOKIE_SECURE"] = True
    from webapp.extensions import db

    secure_app = create_app(app_settings)
    user = make_user()
    response = Auth(secure_app.test_client()).login(user.email)
    assert "Secure" in response.headers["Set-Cookie"]
    with secure_app.app_context():
        db.engine.dispose()


def test_csrf_token_rides_in_hx_headers_on_body(signed_in, client):
    """htmx requests carry the CSRF token because <body> declares it in hx-headers."""
    signed_in("operator")
    page = client.get("/").text
    assert '<body hx-headers=\'{"X-CSRFToken": "' in page


def test_navigation_shows_the_areas_for_the_role(signed_in, client):
    """An admin's navigation has Orders, Stores and Users, and marks the current page."""
    signed_in("admin")
    page = client.get("/stores/").text
    for label in ("Orders", "Stores", "Users"):
        assert f">{label}</a>" in page
    assert 'href="/stores/" aria-current="page"' in page


@pytest.mark.parametrize("path, status, text", [
    ("/does-not-exist", 404, "There is nothing at this address."),
    ("/users/", 403, "Your role does not allow this."),
])
def test_error_pages_as_page_and_fragment(signed_in, client, path, status, text):
    """Errors render as a full page, and as a bare fragment for htmx requests."""
    signed_in("viewer")
    page = client.get(path)
    assert page.status_code == status and text in page.text and "<html" in page.text
    fragment = client.get(path, headers={"HX-Request": "true"})
    assert fragment.status_code == status and text in fragment.text
    assert "<html" not in fragment.text and "error-page" in fragment.text


def test_unexpected_errors_show_a_friendly_500(app, signed_in, client):
    """A crash shows a 500 page that leaks no traceback."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def boom():
        raise RuntimeError("internal detail that must not leak")

    app.add_url_rule("/boom", "boom", boom)
    signed_in("viewer")
    response = client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "internal detail" not in response.text


def test_htmx_is_vendored_at_the_noted_version(client):
    """static/js/htmx.min.js is htmx 2.0.11 as noted in static/js/VERSIONS.md, served locally."""
    body = (STATIC / "js" / "htmx.min.js").read_bytes()
    noted = (STATIC / "js" / "VERSIONS.md").read_text()
    assert "2.0.11" in noted and hashlib.sha256(body).hexdigest() in noted
    assert b'version:"2.0.11"' in body
    with client.get("/static/js/htmx.min.js") as response:
        assert response.status_code == 200


def test_health_check_is_public_and_says_nothing(client):
    """/healthz answers without sign-in and reveals nothing."""
    response = client.get("/healthz")
    assert (response.status_code, response.text) == (200, "ok")


def test_dates_show_in_the_team_time_zone(app):
    """Timestamps are stored in UTC and rendered in ORDERDECK_TIMEZONE."""
    from datetime import UTC, datetime

    from flask import render_template_string

    from webapp.formatting import money

    app.config["TIMEZONE"] = "America/Chicago"
    template = "{{ when | local_time }}|{{ none | local_time }}|{{ when | local_date }}"
    when = datetime(2026, 7, 1, 3, 30, tzinfo=UTC)
    with app.test_request_context("/"):
        assert render_template_string(template, when=when, none=None) == \
            "Jun 30, 2026 22:30|—|Jun 30, 2026"
    with app.app_context():  # outside a page render too (no context processor)
        assert app.jinja_env.from_string(template).render(when=when, none=None) == \
            "Jun 30, 2026 22:30|—|Jun 30, 2026"
    assert money(1234.5) == "$1,234.50" and money(3, "CAD") == "3.00 CAD"
