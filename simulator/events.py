"""Walmart's order notifications (walmart-api.md §12): events made when orders change, kept
as deliveries, and sent to each ACTIVE subscriber's eventUrl with its BASIC_AUTH header.

An event is drawn up inside the transaction that changed the order (so an order rolled back
sends nothing) and sent afterwards by a dispatcher: a thread in each server process
(`start_dispatcher`, from simulator.wsgi) or `python -m simulator deliver-events`. Deliveries
are claimed with one conditional UPDATE, so several processes never send one twice — unless
the `duplicate` fault asks for it.

Faults (set like the others: `python -m simulator faults events …`): `lost` (never sent),
`duplicate` (the same event, same eventId, sent twice), `delay` (held `delay_seconds`),
`reorder` (held `reorder_seconds`, so the events made after it arrive first: out of order) and
`wrong_password` (sent with a password the subscriber did not set, on every attempt).
Walmart retries a delivery that is not answered 200; the simulator does so MAX_ATTEMPTS times,
after RETRY_AFTER seconds (Walmart's own schedule is not published).
"""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

from simulator import gateway
from simulator.db import connect, now_ms, transaction

log = logging.getLogger(__name__)

ORDER_UPDATES = "ORDER_UPDATES"
SUB_EVENTS = ("PO_CREATED", "PO_LINE_AUTOCANCELLED", "INTENT_TO_CANCEL", "FRAUD_CANCEL")
# The older separate events (deprecated 2026-12-15) still deliver their flat payload.
LEGACY = ("PO_CREATED", "PO_LINE_AUTOCANCELLED", "INTENT_TO_CANCEL")
MAX_ATTEMPTS = 5
RETRY_AFTER = (1, 3, 10, 30)  # seconds before the 2nd, 3rd … attempt
SEND_TIMEOUT = 10
CLAIM_SECONDS = 60  # a claimed delivery whose sender died is sent again after this


def iso(ms: int) -> str:
    """Walmart's event times are ISO strings (walmart-api.md §7), milliseconds and Z."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _line_status(line: dict) -> str:
    if line["created"]:
        return "Created"
    if line["acknowledged"]:
        return "Acknowledged"
    if any(s["qty"] > s["delivered"] for s in line["shipments"]):
        return "Shipped"
    if line["shipments"]:
        return "Delivered"
    return "Cancelled"


def _order_block(order: dict, partner_id: str, lines: list[str] | None) -> dict:
    """The order as an event describes it: ids, dates and lines (a light copy, never the
    whole order a GET returns)."""
    info = order["shippingInfo"]
    return {
        "partnerId": partner_id, "purchaseOrderId": order["purchaseOrderId"],
        "customerOrderId": order["customerOrderId"], "orderDate": iso(order["orderDate"]),
        "estimatedDeliveryDate": iso(info["estimatedDeliveryDate"]),
        "estimatedShipDate": iso(info["estimatedShipDate"]),
        "orderLines": [{
            "lineNumber": line["lineNumber"], "sku": line["sku"],
            "productName": line["productName"],
            "quantity": {"unitOfMeasure": "EACH", "measurementValue": str(line["qty"])},
            "status": _line_status(line), "statusDate": iso(line["statusDate"]),
            "shippingMethod": info.get("methodCode", "Standard").upper()}
            for line in order["lines"] if lines is None or line["lineNumber"] in lines],
        "shipNodeType": "SellerFulfilled",
    }


def body_for(subscription: sqlite3.Row, event_id: str, sub_event: str, order: dict,
             partner_id: str, at_ms: int, lines: list[str] | None) -> dict:
    """ORDER_UPDATES: source + payload.subEventType + payload.order; a legacy subscription
    gets the old flat payload under its own eventType."""
    block = _order_block(order, partner_id, lines)
    if subscription["event_type"] == ORDER_UPDATES:
        payload = {"subEventType": sub_event, "partnerId": partner_id, "order": block}
    else:
        payload = block
    return {"source": {"eventType": subscription["event_type"], "eventTime": iso(at_ms),
                       "eventId": event_id},
            "payload": payload}


def emit(conn: sqlite3.Connection, seller_id: str, sub_event: str, order: dict,
         lines: list[str] | None = None) -> int:
    """Draw up the event for every ACTIVE subscriber of the seller that wants it (inside the
    caller's transaction); returns the deliveries made (a lost one counts none)."""
    wanted = (ORDER_UPDATES, sub_event) if sub_event in LEGACY else (ORDER_UPDATES,)
    subscribers = conn.execute(
        f"SELECT * FROM subscriptions WHERE seller_id = ? AND status = 'ACTIVE' AND "
        f"event_type IN ({', '.join('?' * len(wanted))})", (seller_id, *wanted)).fetchall()
    if not subscribers:
        return 0
    partner = conn.execute("SELECT partner_id FROM sellers WHERE seller_id = ?",
                           (seller_id,)).fetchone()
    partner_id = partner["partner_id"] if partner else ""
    at = now_ms(conn)
    made = 0
    for subscription in subscribers:
        event_id = str(uuid.uuid4())
        body = json.dumps(body_for(subscription, event_id, sub_event, order, partner_id, at,
                                   lines))
        fault, config = gateway.draw_event_fault(conn)
        now = time.time()
        due = now
        if fault == "delay":
            due = now + float(config.get("delay_seconds", 5))
        elif fault == "reorder":
            due = now + float(config.get("reorder_seconds", 2))
        copies = 2 if fault == "duplicate" else 1
        for _ in range(copies):
            conn.execute(
                "INSERT INTO deliveries (seller_id, subscription_id, event_id, event_type, po, "
                "body, state, due, wrong_password, fault, created) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (seller_id, subscription["subscription_id"], event_id, sub_event,
                 order["purchaseOrderId"], body, "lost" if fault == "lost" else "pending", due,
                 int(fault == "wrong_password"), fault, now))
            made += fault != "lost"
    return made


# -- sending ------------------------------------------------------------------------------

def auth_header(auth: dict | None, wrong: bool = False) -> tuple[str, str] | None:
    """BASIC_AUTH: the header named authHeaderName carries Base64 `userName:password` (the
    docs' words; whether Walmart writes "Basic " before it is not said, so neither do we)."""
    if not auth or auth.get("authMethod") != "BASIC_AUTH":
        return None
    password = "not-the-password" if wrong else auth.get("password", "")
    value = base64.b64encode(f"{auth.get('userName', '')}:{password}".encode()).decode()
    return auth.get("authHeaderName") or "Authorization", value


def post(url: str, body: str, auth: dict | None, headers: dict | None,
         wrong_password: bool = False) -> tuple[int | None, str | None]:
    """POST one notification; (HTTP status, error text). Plain http is allowed: the simulator
    delivers to whatever address it was given."""
    all_headers = {"Content-Type": "application/json", "Accept": "application/json",
                   **(headers or {})}
    if (named := auth_header(auth, wrong_password)) is not None:
        all_headers[named[0]] = named[1]
    request = urllib.request.Request(url, data=body.encode(), headers=all_headers,
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=SEND_TIMEOUT) as response:
            return response.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except (OSError, ValueError) as exc:  # refused, timed out, a URL it cannot use
        return None, f"{type(exc).__name__}: {exc}"[:300]


_DUE = ("(state = 'pending' AND due <= :now) OR (state = 'sending' AND claimed_until < :now)")


def _claim(conn: sqlite3.Connection) -> sqlite3.Row | None:
    now = time.time()
    # A plain read first: an idle dispatcher must not take the file's write lock ten times a
    # second from every server process (the API's own writes would queue behind it).
    if conn.execute(f"SELECT 1 FROM deliveries WHERE {_DUE} LIMIT 1",
                    {"now": now}).fetchone() is None:
        return None
    with transaction(conn):
        return conn.execute(
            "UPDATE deliveries SET state = 'sending', claimed_until = :until WHERE id = ("
            f"SELECT id FROM deliveries WHERE {_DUE} ORDER BY due, id LIMIT 1) RETURNING *",
            {"until": now + CLAIM_SECONDS, "now": now}).fetchone()


def _send(conn: sqlite3.Connection, delivery: sqlite3.Row) -> bool:
    subscription = conn.execute("SELECT * FROM subscriptions WHERE subscription_id = ?",
                                (delivery["subscription_id"],)).fetchone()
    if subscription is None:  # deleted meanwhile: nothing is sent any more
        status, error = None, "subscription deleted"
        attempts = MAX_ATTEMPTS
    else:
        status, error = post(subscription["event_url"], delivery["body"],
                             json.loads(subscription["auth"] or "null"),
                             json.loads(subscription["headers"] or "null"),
                             bool(delivery["wrong_password"]))
        attempts = delivery["attempts"] + 1
    ok = status == 200  # Walmart expects a 200 and retries anything else (§12)
    if ok:
        state, due = "delivered", delivery["due"]
    elif attempts < MAX_ATTEMPTS:
        state = "pending"
        due = time.time() + RETRY_AFTER[min(attempts, len(RETRY_AFTER)) - 1]
    else:
        state, due = "failed", delivery["due"]
    with transaction(conn):
        conn.execute("UPDATE deliveries SET state = ?, due = ?, attempts = ?, last_status = ?, "
                     "last_error = ?, sent = ?, claimed_until = NULL WHERE id = ?",
                     (state, due, attempts, status, error, time.time(), delivery["id"]))
    return ok


def deliver_due(conn: sqlite3.Connection, limit: int = 100) -> int:
    """Send the deliveries that are due, oldest due first; returns how many were tried."""
    tried = 0
    while tried < limit and (delivery := _claim(conn)) is not None:
        _send(conn, delivery)
        tried += 1
    return tried


def start_dispatcher(db_path: str | Path, interval: float = 0.1) -> threading.Thread:
    """A daemon thread of this server process that sends due deliveries (each process has
    one; the claim keeps them from sending one delivery twice)."""
    def run() -> None:
        conn = connect(db_path)
        while True:
            try:
                if not deliver_due(conn):
                    time.sleep(interval)
            except sqlite3.Error:  # a busy file: the next round tries again
                log.exception("event delivery")
                time.sleep(1)

    thread = threading.Thread(target=run, name="event-dispatcher", daemon=True)
    thread.start()
    return thread
