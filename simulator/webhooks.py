"""Walmart's Notifications API (walmart-api.md §12): event types, subscriptions, the test call.

Shapes follow Walmart's published models (create and update answer `{"event": [...]}`, the
list `{"events": [...]}`, delete `{subscriptionId, message}`, test `{message}`). Only
BASIC_AUTH (or no authDetails) is taken: the simulator cannot play HMAC or OAUTH, whose
details Walmart does not fully publish, so it refuses them rather than pretend.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from urllib.parse import urlsplit

from simulator import events
from simulator.errors import WalmartFault, bad_content

EVENT_TYPES = [
    {"eventType": events.ORDER_UPDATES, "eventVersion": "V1", "resourceName": "ORDER",
     "description": "Order lifecycle updates: payload.subEventType is one of "
                    + ", ".join(events.SUB_EVENTS)},
    {"eventType": "PO_CREATED", "eventVersion": "V1", "resourceName": "ORDER",
     "description": "A purchase order was created (deprecated: use ORDER_UPDATES)"},
    {"eventType": "PO_LINE_AUTOCANCELLED", "eventVersion": "V1", "resourceName": "ORDER",
     "description": "An order line was auto-cancelled (deprecated: use ORDER_UPDATES)"},
    {"eventType": "INTENT_TO_CANCEL", "eventVersion": "V1", "resourceName": "ORDER",
     "description": "The buyer asked to cancel (deprecated: use ORDER_UPDATES)"},
]
KNOWN = {(e["eventType"], e["eventVersion"], e["resourceName"]) for e in EVENT_TYPES}
STATUSES = ("ACTIVE", "INACTIVE")
SERVICE = "GMP_NOTIFICATION_API"


def _bad(description: str, field: str) -> WalmartFault:
    fault = bad_content(description, field)
    fault.service = SERVICE
    return fault


def _url(value, field: str = "eventUrl") -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad(f"{field} must be an http(s) URL", field)
    return value


def _auth(value) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("authMethod") != "BASIC_AUTH":
        raise _bad("authDetails.authMethod: the simulator supports BASIC_AUTH only",
                   "authDetails.authMethod")
    for name in ("userName", "password", "authHeaderName"):
        if not isinstance(value.get(name), str) or not value[name]:
            raise _bad(f"authDetails.{name} is required for BASIC_AUTH", f"authDetails.{name}")
    return {k: value[k] for k in ("authMethod", "userName", "password", "authHeaderName")}


def _headers(value) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _bad("headers must be an object of strings", "headers")
    return value


def _event_kind(record: dict) -> tuple[str, str, str]:
    kind = (record.get("eventType"), record.get("eventVersion"), record.get("resourceName"))
    if kind not in KNOWN:
        raise _bad(f"Unknown event {kind[0]!r} version {kind[1]!r} resource {kind[2]!r}; "
                   "see GET /v3/webhooks/eventTypes", "eventType")
    return kind  # type: ignore[return-value]


def render(row: sqlite3.Row, partner_id: str) -> dict:
    auth = json.loads(row["auth"] or "null")
    if auth:  # a password is never read back
        auth = {**auth, "password": "********"}
    return {"eventType": row["event_type"], "subscriptionId": row["subscription_id"],
            "partnerId": partner_id, "eventVersion": row["event_version"],
            "resourceName": row["resource_name"], "status": row["status"],
            "eventUrl": row["event_url"], "authDetails": auth,
            "headers": json.loads(row["headers"] or "null")}


def _partner(conn: sqlite3.Connection, seller_id: str) -> str:
    row = conn.execute("SELECT partner_id FROM sellers WHERE seller_id = ?",
                       (seller_id,)).fetchone()
    return row["partner_id"] if row else ""


def _row(conn: sqlite3.Connection, seller_id: str, subscription_id: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM subscriptions WHERE subscription_id = ? AND "
                       "seller_id = ?", (subscription_id, seller_id)).fetchone()
    if row is None:
        raise WalmartFault(404, "CONTENT_NOT_FOUND", f"No subscription {subscription_id}",
                           field="subscriptionId", service=SERVICE, severity="INFO")
    return row


def event_types() -> dict:
    return {"eventTypes": EVENT_TYPES}


def create(conn: sqlite3.Connection, seller_id: str, body: dict) -> dict:
    """POST /v3/webhooks/subscriptions: one subscription per record of `events`."""
    records = body.get("events") if isinstance(body, dict) else None
    if not isinstance(records, list) or not records:
        raise _bad("events: at least one subscription is required", "events")
    made = []
    for record in records:
        if not isinstance(record, dict):
            raise _bad("each event must be an object", "events")
        kind = _event_kind(record)
        status = record.get("status")
        if status not in STATUSES:
            raise _bad("status must be ACTIVE or INACTIVE", "status")
        made.append((str(uuid.uuid4()), *kind, _url(record.get("eventUrl")), status,
                     _auth(record.get("authDetails")), _headers(record.get("headers"))))
    for sid, event_type, version, resource, url, status, auth, headers in made:
        conn.execute("INSERT INTO subscriptions (subscription_id, seller_id, event_type, "
                     "event_version, resource_name, event_url, status, auth, headers, created) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (sid, seller_id, event_type, version, resource, url, status,
                      json.dumps(auth), json.dumps(headers), time.time()))
    partner = _partner(conn, seller_id)
    return {"event": [render(_row(conn, seller_id, sid), partner) for sid, *_ in made]}


def listing(conn: sqlite3.Connection, seller_id: str, args) -> dict:
    """GET /v3/webhooks/subscriptions[?subscriptionId=&eventType=&resourceName=&status=]."""
    where, values = ["seller_id = ?"], [seller_id]
    for arg, column in (("subscriptionId", "subscription_id"), ("eventType", "event_type"),
                        ("resourceName", "resource_name"), ("status", "status")):
        if args.get(arg):
            where.append(f"{column} = ?")
            values.append(args[arg])
    rows = conn.execute(f"SELECT * FROM subscriptions WHERE {' AND '.join(where)} "
                        "ORDER BY created", values).fetchall()
    partner = _partner(conn, seller_id)
    return {"events": [render(row, partner) for row in rows]}


def update(conn: sqlite3.Connection, seller_id: str, subscription_id: str, body: dict) -> dict:
    """PATCH /v3/webhooks/subscriptions/{id}: version, URL, headers, authDetails, status."""
    row = _row(conn, seller_id, subscription_id)
    if not isinstance(body, dict):
        raise _bad("the body must be an object", "data")
    changes: dict = {}
    if "eventVersion" in body:
        if (row["event_type"], body["eventVersion"], row["resource_name"]) not in KNOWN:
            raise _bad(f"Unknown eventVersion {body['eventVersion']!r}", "eventVersion")
        changes["event_version"] = body["eventVersion"]
    if "eventUrl" in body:
        changes["event_url"] = _url(body["eventUrl"])
    if "status" in body:
        if body["status"] not in STATUSES:
            raise _bad("status must be ACTIVE or INACTIVE", "status")
        changes["status"] = body["status"]
    if "authDetails" in body:
        changes["auth"] = json.dumps(_auth(body["authDetails"]))
    if "headers" in body:
        changes["headers"] = json.dumps(_headers(body["headers"]))
    if changes:
        conn.execute(f"UPDATE subscriptions SET {', '.join(f'{k} = ?' for k in changes)} "
                     "WHERE subscription_id = ?", (*changes.values(), subscription_id))
    return {"event": [render(_row(conn, seller_id, subscription_id), _partner(conn, seller_id))]}


def delete(conn: sqlite3.Connection, seller_id: str, subscription_id: str) -> dict:
    """DELETE /v3/webhooks/subscriptions/{id}: gone for good (pending deliveries stop)."""
    _row(conn, seller_id, subscription_id)
    conn.execute("DELETE FROM subscriptions WHERE subscription_id = ?", (subscription_id,))
    return {"subscriptionId": subscription_id, "message": "Subscription deleted successfully"}


def test(conn: sqlite3.Connection, seller_id: str, body: dict) -> dict:
    """POST /v3/webhooks/test: a light test event POSTed to eventUrl with the given auth and
    headers, now; the subscriber's 200 is confirmed, anything else refused (400). Its payload
    names no purchase order: it only proves the address and the password."""
    if not isinstance(body, dict):
        raise _bad("the body must be an object", "data")
    event_type, _version, _resource = _event_kind(body)
    url = _url(body.get("eventUrl"))
    payload = {"source": {"eventType": event_type, "eventTime": events.iso(int(time.time()
                                                                              * 1000)),
                          "eventId": str(uuid.uuid4())},
               "payload": {"test": True, "partnerId": _partner(conn, seller_id),
                           "message": "Test notification from Walmart"}}
    status, error = events.post(url, json.dumps(payload), _auth(body.get("authDetails")),
                                _headers(body.get("headers")))
    if status != 200:
        raise _bad(f"Test notification failed: the eventUrl answered "
                   f"{status if status is not None else error}", "eventUrl")
    return {"message": "Test notification sent successfully to the eventUrl"}
