"""Receive orders instantly: a store's subscription to Walmart's order notifications.

Each action talks to Walmart's Notifications API at once (an admin waits for the answer, as
with Test connection) and records what Walmart said on the store:

- `subscribe` makes a new random password (stored encrypted like the client secret, never
  shown), then creates the ORDER_UPDATES subscription — or updates the one Walmart already has
  for this store's address — ACTIVE, with BASIC_AUTH and the store's endpoint
  (ORDERDECK_PUBLIC_URL + /walmart/events/<store id>; https for Walmart's environments, since
  the password travels with every notification; plain http only for the simulator);
- `test` asks Walmart to send a test notification now, which must reach the endpoint;
- `pause` / `resume` set the subscription INACTIVE / ACTIVE;
- `unsubscribe` deletes it, and forgets the password (the endpoint refuses everything after).

All are refused for a read-only store (they send something to Walmart) and audited. The
scheduled import goes on whatever happens here: it is the reconciling poll.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Environment, Store, User, WalmartEvent
from webapp.models.base import utcnow
from webapp.secrets_box import SecretUnreadable, decrypt, encrypt
from webapp.services import audit
from webapp.services.errors import ActionRefused, StoreReadOnly
from webapp.services.orders.events import USER_NAME
from webapp.services.stores.mode import refuse_if_read_only
from webapp.services.stores.walmart_access import client_for
from webapp.services.unit_of_work import action
from webapp.walmart import DataError, WalmartError
from webapp.walmart.client_notifications import ORDER_UPDATES, subscription_record

ACTIVE, INACTIVE = "ACTIVE", "INACTIVE"


@dataclass(frozen=True)
class Instant:
    """What the store page shows of the subscription."""
    status: str | None                 # ACTIVE, INACTIVE; None: not subscribed
    url: str | None                    # where Walmart sends (or would send) notifications
    last_event_at: datetime | None
    tested_at: datetime | None
    error: str | None                  # Walmart's last refusal
    blocked: str | None                # why subscribing is refused now (read-only, the URL)


def state(store: Store) -> Instant:
    """The store's subscription as its page shows it."""
    blocked, url = None, store.events_url
    if store.read_only:
        blocked = StoreReadOnly(store.name).args[0]
    try:
        url = url or event_url(store)
    except ActionRefused as exc:
        blocked = blocked or str(exc)
    last = db.session.scalar(select(func.max(WalmartEvent.received_at)).where(
        WalmartEvent.store_id == store.id))
    return Instant(store.events_status, url, last, store.events_tested_at, store.events_error,
                   blocked)


def new_password(store: Store) -> str:
    """A fresh random password for the store's notifications, stored encrypted (the caller
    commits); returns it in plain, for Walmart only."""
    password = secrets.token_urlsafe(32)
    store.events_password_encrypted = encrypt(password)
    return password


def _password(store: Store) -> str:
    try:
        return decrypt(store.events_password_encrypted or "")
    except SecretUnreadable as exc:
        raise ActionRefused("The notifications password cannot be read with this "
                            "ORDERDECK_ENCRYPTION_KEY: subscribe again.") from exc


def event_url(store: Store) -> str:
    """The address Walmart sends this store's notifications to; refused with a reason when
    ORDERDECK_PUBLIC_URL is unset or not https for a sandbox or production store."""
    public = (current_app.config.get("PUBLIC_URL") or "").strip().rstrip("/")
    if not public:
        raise ActionRefused("Set ORDERDECK_PUBLIC_URL to the address Walmart can reach "
                            "Orderdeck at (https://…) to receive orders instantly.")
    parts = urlsplit(public)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
            or parts.fragment or parts.username or parts.password:
        raise ActionRefused(f"ORDERDECK_PUBLIC_URL must look like https://host[:port], not "
                            f"{public!r}.")
    if parts.scheme != "https" and store.environment != Environment.SIMULATOR:
        raise ActionRefused("Walmart sends the notifications' password with every one of them: "
                            "ORDERDECK_PUBLIC_URL must be https for a Walmart store (plain "
                            "http is only for the built-in simulator).")
    # The route's own path (built from the URL map: there may be no request under way).
    path = current_app.url_map.bind("").build("walmart_events.receive", {"store_id": store.id})
    return public + path


def _record(store: Store, status: str = ACTIVE) -> dict:
    return subscription_record(store.events_url or event_url(store), USER_NAME,
                               _password(store), status)


def _refused(store: Store, what: str, exc: WalmartError) -> ActionRefused:
    """Walmart's refusal, kept on the store (Stores shows it) and said to the person."""
    db.session.rollback()
    store.events_error = f"{what}: {exc}"[:2000]
    db.session.commit()
    return ActionRefused(f"Walmart refused to {what}: {exc}")


def _subscribed(store: Store) -> None:
    if not store.events_subscription_id:
        raise ActionRefused(f"{store.name} does not receive orders instantly yet: subscribe "
                            "first.")


def _find(client, url: str) -> str | None:
    """The id of a subscription Walmart already has for this address (one made before our
    record of it was saved, say), if any."""
    for subscription in client.subscriptions(eventType=ORDER_UPDATES):
        if subscription.event_url == url:
            return subscription.subscription_id
    return None


@action
def subscribe(store: Store, *, by: User | None) -> Store:
    """Receive this store's orders instantly: a new password, and an ACTIVE ORDER_UPDATES
    subscription at Walmart pointing at the store's endpoint (created, or updated when Walmart
    already has one for it)."""
    refuse_if_read_only(store)
    url = event_url(store)
    record = subscription_record(url, USER_NAME, new_password(store))
    client = client_for(store)
    try:
        existing = store.events_subscription_id or _find(client, url)
        subscription = None
        if existing:
            try:
                subscription = client.update_subscription(existing, {
                    key: record[key] for key in ("eventUrl", "authDetails", "status")})
            except DataError as exc:
                if exc.status != 404:  # (404: deleted at Walmart meanwhile: make a new one)
                    raise
        if subscription is None:
            subscription = client.create_subscription(record)
    except WalmartError as exc:
        raise _refused(store, "subscribe", exc) from exc
    store.events_subscription_id = subscription.subscription_id
    store.events_status, store.events_url, store.events_error = ACTIVE, url, None
    audit.record("store.events_subscribe", user=by, store_id=store.id, subject=store.name,
                 url=url, subscription=subscription.subscription_id)
    db.session.commit()
    return store


@action
def test(store: Store, *, by: User | None) -> str:
    """Ask Walmart to send this store's endpoint a test notification now; Walmart's
    confirmation (it got a 200 back)."""
    refuse_if_read_only(store)
    _subscribed(store)
    try:
        message = client_for(store).test_notification(_record(store))
    except WalmartError as exc:
        raise _refused(store, "send a test notification", exc) from exc
    store.events_tested_at, store.events_error = utcnow(), None
    audit.record("store.events_test", user=by, store_id=store.id, subject=store.name)
    db.session.commit()
    return message or "Walmart's test notification reached Orderdeck."


def _set_status(store: Store, status: str, by: User | None) -> Store:
    refuse_if_read_only(store)
    _subscribed(store)
    what = "pause the notifications" if status == INACTIVE else "resume the notifications"
    try:
        client_for(store).update_subscription(store.events_subscription_id, {"status": status})
    except DataError as exc:
        if exc.status == 404:  # gone at Walmart: so is our subscription
            _forget(store)
            db.session.commit()
            raise ActionRefused("Walmart no longer has this subscription: subscribe again."
                                ) from exc
        raise _refused(store, what, exc) from exc
    except WalmartError as exc:
        raise _refused(store, what, exc) from exc
    store.events_status, store.events_error = status, None
    audit.record("store.events_pause" if status == INACTIVE else "store.events_resume",
                 user=by, store_id=store.id, subject=store.name)
    db.session.commit()
    return store


@action
def pause(store: Store, *, by: User | None) -> Store:
    """Walmart stops sending notifications (INACTIVE); the scheduled import goes on."""
    return _set_status(store, INACTIVE, by)


@action
def resume(store: Store, *, by: User | None) -> Store:
    """Walmart sends notifications again (ACTIVE)."""
    return _set_status(store, ACTIVE, by)


def _forget(store: Store) -> None:
    store.events_subscription_id = store.events_status = store.events_url = None
    store.events_password_encrypted = store.events_tested_at = store.events_error = None


@action
def unsubscribe(store: Store, *, by: User | None) -> Store:
    """Delete the subscription at Walmart and forget its password: the endpoint refuses
    everything for this store from now on."""
    refuse_if_read_only(store)
    _subscribed(store)
    try:
        client_for(store).delete_subscription(store.events_subscription_id)
    except DataError as exc:
        if exc.status != 404:  # (404: already gone at Walmart)
            raise _refused(store, "delete the subscription", exc) from exc
    except WalmartError as exc:
        raise _refused(store, "delete the subscription", exc) from exc
    subscription = store.events_subscription_id
    _forget(store)
    audit.record("store.events_unsubscribe", user=by, store_id=store.id, subject=store.name,
                 subscription=subscription)
    db.session.commit()
    return store
