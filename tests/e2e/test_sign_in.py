"""Signing in and out in a real browser."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_sign_in_see_orders_sign_out(page, make_user):
    """A person signs in, lands on Home, goes to Orders, and signs out back to the sign-in
    page."""
    user = make_user(role="operator")
    page.goto("/")
    assert "/login" in page.url
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Home").wait_for()
    page.get_by_role("link", name="Orders", exact=True).click()
    page.get_by_role("heading", name="Orders").wait_for()
    assert page.get_by_text(f"{user.email} · Operator").is_visible()
    # htmx is a deferred script: the heading can be visible before it has run.
    page.wait_for_function("() => typeof htmx !== 'undefined'")
    assert page.evaluate("htmx.version") == "2.0.11"
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.get_by_text("You are signed out.").is_visible()
    page.goto("/stores/")
    assert "/login" in page.url


def test_wrong_password_shows_a_message_in_the_browser(page, make_user):
    """A wrong password keeps the person on the sign-in page with a clear message."""
    user = make_user()
    page.goto("/login")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Wrong e-mail or password").wait_for()
    assert "/login" in page.url
