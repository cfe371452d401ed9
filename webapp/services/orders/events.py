"""Walmart's order notifications: checked, stored, then handled by reading the order.

A notification (docs/walmart.md "Order notifications") is only a hint that one purchase
order changed. The endpoint (views/walmart_events.py) checks the store's BASIC_AUTH password
in constant time (`authenticated`), and `receive` stores the event — unique per store and
Walmart's eventId, so a repeat adds no row — and commits BEFORE Walmart is answered 200; then a
job (`jobs.imports.handle_walmart_event`) runs `handle`, which reads that purchase order from
Walmart (`GET /v3/orders/{purchaseOrderId}`) and stores it through the import's own code. The
event's own account of the order is never stored or believed. Redis away at arrival: the event
stays stored, and the sweeper (`due_events`) hands it to a job once Redis answers. Events that
cannot be handled are given up after a while: the scheduled import reconciles them anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from jobs.queue import enqueue_walmart_event  # the enqueue adapter; services never import jobs
from webapp.extensions import db
from webapp.models import Store, WalmartEvent
from webapp.models.base import utcnow
from webapp.secrets_box import SecretUnreadable, decrypt
from webapp.services.orders import importer
from webapp.services.stores.walmart_access import client_for
from webapp.services.sync import rate_limit
from webapp.services.unit_of_work import action
from webapp.walmart import DataError, WalmartError

log = logging.getLogger(__name__)

BODY_LIMIT = 64 * 1024   # a notification is a few kilobytes; more is not Walmart
USER_NAME = "orderdeck"  # BASIC_AUTH's userName in every subscription Orderdeck makes
# A purchase order id Orderdeck will ask Walmart about (Walmart's are digits).
PURCHASE_ORDER_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
MAX_ATTEMPTS = 8               # then given up: the scheduled import reconciles
NOT_FOUND_ATTEMPTS = 3         # Walmart may show a new order a moment after announcing it
RETRY_BASE_SECONDS = 5         # 5, 10, 20 … seconds between attempts, at most RETRY_CAP
RETRY_CAP_SECONDS = 300
SWEEP_GRACE = timedelta(seconds=10)  # an event this fresh has its job queued already
KEEP_DAYS = 30                 # handled events are forgotten after this (the dedup window)
_DUMMY = b"orderdeck:" + b"\0" * 43  # compared against when a store has no password


class BadEvent(ValueError):
    """The body is not a notification Orderdeck can store (not a JSON object)."""


@dataclass(frozen=True)
class Parsed:
    event_id: str
    event_type: str | None
    sub_event_type: str | None
    purchase_order_id: str | None


@dataclass(frozen=True)
class Received:
    event_id: int
    duplicate: bool
    queued: bool


@dataclass(frozen=True)
class Handled:
    outcome: str                     # what happened, or "retry"
    attempts: int
    retry_at: datetime | None = None


# -- arrival -------------------------------------------------------------------------------

def _presented(header: str | None) -> bytes | None:
    """`userName:password` from the header: Base64, with or without "Basic " before it
    (Walmart's docs do not say which it sends)."""
    if not header:
        return None
    value = header.strip()
    if value[:6].lower() == "basic ":
        value = value[6:].strip()
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _expected(store_id: int) -> bytes | None:
    store = db.session.get(Store, store_id)
    if store is None or not store.events_password_encrypted:
        return None
    try:
        return f"{USER_NAME}:{decrypt(store.events_password_encrypted)}".encode()
    except SecretUnreadable:
        log.warning("store %s: its notifications password cannot be decrypted (was "
                    "ORDERDECK_ENCRYPTION_KEY changed?); subscribe again", store_id)
        return None


def authenticated(store_id: int, header: str | None) -> bool:
    """The header holds this store's user name and password. Compared in constant time, and
    compared all the same when the store is unknown or has no password, so the answer's time
    says nothing about either."""
    expected = _expected(store_id)
    presented = _presented(header)
    same = hmac.compare_digest(presented or b"", expected or _DUMMY)
    return same and expected is not None and presented is not None


def _text(value, size: int) -> str | None:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = str(value).replace("\x00", "").strip()
    return text[:size] or None


def parse(body: bytes) -> Parsed:
    """What Orderdeck keeps of a notification: its id (Walmart's eventId; a digest of the
    body when it has none, or one that does not fit), its types, and the purchase order to
    read — `payload.order.purchaseOrderId`, or the older events' `payload.purchaseOrderId`."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadEvent("the body is not JSON") from exc
    if not isinstance(doc, dict):
        raise BadEvent("the body is not a JSON object")
    source = doc.get("source") if isinstance(doc.get("source"), dict) else {}
    payload = doc.get("payload") if isinstance(doc.get("payload"), dict) else {}
    order = payload.get("order") if isinstance(payload.get("order"), dict) else {}
    raw_id = source.get("eventId")
    event_id = _text(raw_id, 10_000)
    if event_id is None:  # no id: the body itself identifies a repeat
        event_id = "sha256:" + hashlib.sha256(body).hexdigest()
    elif len(event_id) > 128 or event_id != str(raw_id):  # too long to keep, or not clean
        event_id = "sha256:" + hashlib.sha256(str(raw_id).encode()).hexdigest()
    po = _text(order.get("purchaseOrderId", payload.get("purchaseOrderId")), 1000)
    return Parsed(event_id, _text(source.get("eventType"), 40),
                  _text(payload.get("subEventType"), 40),
                  po if po and PURCHASE_ORDER_ID.fullmatch(po) else None)


def _queue(event: WalmartEvent) -> bool:
    """Hand the event to a job; Redis away: it stays stored for the sweeper."""
    try:
        enqueue_walmart_event(event.id, event.next_attempt_at or event.received_at)
        return True
    except (RedisError, OSError) as exc:
        log.warning("store %s: event %s stored, its job not queued (%s): the sweeper will",
                    event.store_id, event.id, type(exc).__name__)
        return False


@action
def receive(store_id: int, body: bytes) -> Received:
    """Store the notification (once per eventId) and commit, then queue its handling.
    Raises BadEvent for a body that is no notification; nothing is stored then."""
    parsed = parse(body)
    now = utcnow()
    event = WalmartEvent(store_id=store_id, event_id=parsed.event_id,
                         event_type=parsed.event_type, sub_event_type=parsed.sub_event_type,
                         purchase_order_id=parsed.purchase_order_id, received_at=now,
                         next_attempt_at=now)
    duplicate = False
    try:
        with db.session.begin_nested():
            db.session.add(event)
    except IntegrityError:  # Walmart sent it again: the first one stands
        duplicate = True
        event = db.session.scalars(select(WalmartEvent).where(
            WalmartEvent.store_id == store_id, WalmartEvent.event_id == parsed.event_id)).one()
    db.session.commit()
    queued = event.handled_at is None and _queue(event)
    return Received(event.id, duplicate, queued)


# -- handling ------------------------------------------------------------------------------

def _finish(event: WalmartEvent, outcome: str, error: str | None = None) -> Handled:
    event.handled_at, event.outcome, event.next_attempt_at = utcnow(), outcome, None
    event.last_error = error
    db.session.commit()
    return Handled(outcome, event.attempts)


def _later(event: WalmartEvent, error: str | None, wait: float | None = None,
           counted: bool = True) -> Handled:
    """Try again later (back-off), or give up after MAX_ATTEMPTS."""
    if counted:
        event.attempts += 1
    if event.attempts >= MAX_ATTEMPTS:
        return _finish(event, "gave_up", error)
    delay = wait if wait is not None else min(
        RETRY_BASE_SECONDS * 2 ** max(event.attempts - 1, 0), RETRY_CAP_SECONDS)
    event.next_attempt_at, event.last_error = utcnow() + timedelta(seconds=delay), error
    db.session.commit()
    return Handled("retry", event.attempts, event.next_attempt_at)


@action
def handle(event_id: int) -> Handled:
    """Read the event's purchase order from Walmart and store it as the import does (a new
    order is acknowledged — not in a read-only store, which may still read)."""
    event = db.session.get(WalmartEvent, event_id)
    if event is None or event.handled_at is not None:
        return Handled("done", event.attempts if event else 0)
    store = db.session.get(Store, event.store_id)
    if not event.purchase_order_id:  # a test event, or one naming no order we can read
        return _finish(event, "no_order")
    if not store.import_enabled:  # the store's import is off: nothing is read for it
        return _finish(event, "import_off")
    took = rate_limit.take(store, "order")
    if not took.allowed:
        return _later(event, None, wait=took.wait_seconds + 0.5, counted=False)
    read_at = utcnow()
    try:
        data = client_for(store).get_order(event.purchase_order_id)
    except DataError as exc:  # Walmart does not know the order (yet?), or refuses the id
        if exc.status != 404:
            return _finish(event, "refused", str(exc)[:1000])
        if event.attempts + 1 < NOT_FOUND_ATTEMPTS:
            return _later(event, str(exc)[:1000])
        return _finish(event, "not_found", str(exc)[:1000])
    except (WalmartError, SecretUnreadable) as exc:  # Walmart away, credentials refused …
        db.session.rollback()
        return _later(event, str(exc)[:1000])
    try:
        _order, created = importer.store_order(store, data, read_at)
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("store %s: order %s from event %s not stored: %s", store.id,
                    event.purchase_order_id, event.id, type(exc).__name__)
        event = db.session.get(WalmartEvent, event_id)
        return _later(event, f"Orderdeck could not store the order: {type(exc).__name__}")
    return _finish(event, "created" if created else "updated")


# -- the sweeper ---------------------------------------------------------------------------

def queue_due(limit: int = 500) -> int:
    """Events not handled and due (their job never queued: Redis was away; or lost with
    Redis), handed to jobs; returns how many. A job already queued for the same attempt makes
    it a no-op (its job id)."""
    now = utcnow()
    due = db.session.scalars(select(WalmartEvent).where(
        WalmartEvent.handled_at.is_(None),
        or_(WalmartEvent.next_attempt_at.is_(None),
            WalmartEvent.next_attempt_at <= now - SWEEP_GRACE))
        .order_by(WalmartEvent.id).limit(limit)).all()
    queued = sum(_queue(event) for event in due)
    db.session.rollback()  # (read only)
    return queued


def prune(days: int = KEEP_DAYS) -> int:
    """Forget events handled more than `days` ago (Walmart's retries come within hours)."""
    result = db.session.execute(delete(WalmartEvent).where(
        WalmartEvent.handled_at < utcnow() - timedelta(days=days)))
    db.session.commit()
    return result.rowcount or 0

