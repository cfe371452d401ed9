"""Friendly error pages, also rendered as htmx fragments."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFError
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp.extensions import db
from webapp.htmx import render_page

MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Not allowed", "Your role does not allow this. Ask an admin if you need it."),
    404: ("Not found", "There is nothing at this address."),
    405: ("Not allowed", "This address does not accept that kind of request."),
    413: ("Too large", "The upload is too large (at most 2 MB)."),
    429: ("Too many attempts", "Too many attempts. Wait a few minutes and try again."),
    503: ("Jobs are unavailable", "Background jobs are unavailable: Orderdeck cannot reach "
                                  "Redis, so this could not be started. Nothing was changed. "
                                  "Try again in a few minutes; an admin should check Redis."),
    500: ("Something went wrong", "An unexpected error happened; it has been logged. "
                                  "Try again, and tell an admin if it persists."),
}


def _render(status: int, message: str | None = None):
    title, default = MESSAGES.get(status, (f"Error {status}", "The request failed."))
    return render_page("errors/error.html", "content", status=status,
                       title=title, message=message or default, code=status)


def _http_error(exc: HTTPException):
    if exc.code is None or exc.code < 400:
        return exc
    return _render(exc.code)


def _csrf_error(exc: CSRFError):
    return _render(400, "This form has expired or was not sent from Orderdeck "
                        f"({exc.description}). Reload the page and try again.")


def _server_error(exc: InternalServerError):
    db.session.rollback()  # the page itself queries (the banner): not in a failed transaction
    return _render(500)


def _jobs_unavailable(exc: RedisError):
    """Redis down or hung (see redis_connection: the web's calls fail within a second):
    a page that says so, instead of a 500; what the request had not committed is dropped."""
    db.session.rollback()  # (and so forgets the tasks it had queued)
    return _render(503)


def init_errors(app: Flask) -> None:
    app.register_error_handler(RedisError, _jobs_unavailable)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(InternalServerError, _server_error)
    app.register_error_handler(HTTPException, _http_error)
