"""Walmart's order notifications: the one route open without sign-in and CSRF.

Walmart is the caller, not a person: it proves itself with the store's BASIC_AUTH password
(services/orders/events.py checks it in constant time); anything else gets 401 before the body
is read. Answers are plain text, never a page.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from webapp.extensions import csrf
from webapp.services.orders import events
from webapp.walmart.client_notifications import AUTH_HEADER

bp = Blueprint("walmart_events", __name__)


def _plain(text: str, status: int, **headers: str) -> Response:
    return Response(text, status=status, mimetype="text/plain", headers=headers)


@bp.post("/walmart/events/<int:store_id>")
@csrf.exempt  # Walmart holds no session: the password is the proof
def receive(store_id: int):
    """Store a notification for this store, then answer 200 (its job reads the order)."""
    if not events.authenticated(store_id, request.headers.get(AUTH_HEADER)):
        return _plain("Unauthorized", 401, **{"WWW-Authenticate": 'Basic realm="orderdeck"'})
    body = _body(events.BODY_LIMIT)
    if body is None:
        return _plain("Too large", 413)
    try:
        events.receive(store_id, body)
    except events.BadEvent as exc:
        return _plain(f"Not a notification: {exc}", 400)
    return _plain("OK", 200)


def _body(limit: int) -> bytes | None:
    """The body, or None when it is over `limit` bytes: refused on its Content-Length before
    reading, and a body sent without one (chunked) is read no further than limit + 1 bytes
    (werkzeug's own limit would cut such a body short silently, not refuse it)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    stream, chunks, size = request.stream, [], 0
    try:
        while size <= limit and (chunk := stream.read(limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
    except RequestEntityTooLarge:  # (over the app's own MAX_CONTENT_LENGTH)
        return None
    return None if size > limit else b"".join(chunks)
