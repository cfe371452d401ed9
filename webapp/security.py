"""Access policy and response headers, applied to every request."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, Response, abort, request, url_for
from flask_login import current_user

from webapp.extensions import login_manager
from webapp.models import Role

# Endpoints a signed-out person may reach; everything else requires sign-in.
PUBLIC_ENDPOINTS = {"auth.login", "static", "health"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Viewers may still end their own session, and record that they printed packing slips or a
# pick list (it changes nothing at Walmart: docs/security.md).
VIEWER_WRITABLE = {"auth.logout", "printing.create"}
# Endpoints a machine calls, not a person: no sign-in, no CSRF (exempted on the view), no
# form read before the view has checked the caller's own credentials (Walmart's BASIC_AUTH
# password for a store's order notifications: views/walmart_events.py).
MACHINE_ENDPOINTS = {"walmart_events.receive"}

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


def safe_next(target: str | None) -> str:
    """`?next=` only to a path on this site; anything else goes to the Home page."""
    if target:
        parts = urlsplit(target)
        if (target.startswith("/") and not target.startswith("//") and "\\" not in target
                and not parts.scheme and not parts.netloc):
            return target
    return url_for("home.index")


def require_role(role: Role) -> Callable:
    """Decorator: 403 unless the signed-in user's role includes `role`."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated or not current_user.can(role):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def _enforce_sign_in():
    if (request.endpoint in PUBLIC_ENDPOINTS or request.endpoint in MACHINE_ENDPOINTS
            or request.endpoint is None):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if (request.method not in SAFE_METHODS and current_user.role == Role.VIEWER
            and request.endpoint not in VIEWER_WRITABLE):
        abort(403)
    return None


def _refuse_nul_bytes():
    """A NUL character in a query or form value is a 400: PostgreSQL cannot store or compare
    text holding one, so it would otherwise end as a 500 deep in a query. (A machine's
    endpoint reads no form, and nothing of its body before its caller is checked.)"""
    if request.endpoint in MACHINE_ENDPOINTS:
        return None
    for key, values in (*request.args.lists(), *request.form.lists()):
        if "\x00" in key or any("\x00" in value for value in values):
            abort(400)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    # One URL serves a page or its fragment: caches must key on HX-Request (and on a history
    # restore, which gets the full page: webapp/htmx.py).
    response.vary.add("HX-Request")
    response.vary.add("HX-History-Restore-Request")
    if request.endpoint != "static":
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_security(app: Flask) -> None:
    app.before_request(_enforce_sign_in)
    app.before_request(_refuse_nul_bytes)
    app.after_request(_security_headers)
