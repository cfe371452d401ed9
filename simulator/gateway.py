"""What Walmart's API gateway does before a handler runs: faults, headers, token, throttling."""

from __future__ import annotations

import base64
import json
import math
import random
import secrets
import sqlite3
import time
from contextlib import nullcontext
from email.utils import formatdate

from flask import request

from simulator.data import RATE_LIMITS
from simulator.db import get_setting, transaction
from simulator.errors import WalmartFault

TOKEN_SECONDS = 900
# How X-Next-Replenishment-Time is written: Walmart's format is unconfirmed (walmart-api.md §6.3),
# integrators report several; a fault setting picks one per endpoint.
REPLENISH_FORMATS = ("epoch_ms", "http_date")
FAULT_KINDS = ("down", "error", "timeout", "timeout_after", "malformed", "throttle", "reject")
# What integrators met while paging Walmart's order searches (walmart-api.md §11): a page
# served again in place of the next one, a nextCursor pointing at the page just read, a page
# one order short of what totalCount promised. They strike pages read through nextCursor.
PAGING_FAULTS = ("replay_page", "repeat_cursor", "short_count")
# What can befall an order notification on its way to the subscriber (simulator.events).
EVENT_FAULTS = ("lost", "duplicate", "delay", "reorder", "wrong_password")


def header(name: str) -> str | None:
    """A Walmart header. Servers map `_` and `-` alike, so `WM_SEC.ACCESS_TOKEN` arrives as
    `Wm-Sec.Access-Token` in werkzeug's view; look it up under that spelling."""
    return request.headers.get(name.replace("_", "-"))


LOGGED_HEADERS = ("WM_SEC.ACCESS_TOKEN", "WM_QOS.CORRELATION_ID", "WM_SVC.NAME",
                  "WM_CONSUMER.CHANNEL.TYPE", "Accept", "Content-Type", "Authorization")
SECRET_HEADERS = {"WM_SEC.ACCESS_TOKEN", "Authorization"}


def received_headers() -> str:
    """The Walmart-relevant headers of this request, for the log (secrets masked)."""
    seen = {}
    for name in LOGGED_HEADERS:
        value = header(name)
        if value is not None:
            seen[name] = "***" if name in SECRET_HEADERS else value
    return json.dumps(seen)


def check_headers(body_expected: bool, typed: bool = False) -> None:
    """Walmart's header rules; `typed`: a call without a body that still needs
    `Content-Type: application/json` (acknowledge, below)."""
    for name in ("WM_QOS.CORRELATION_ID", "WM_SVC.NAME"):
        if not (header(name) or "").strip():
            raise WalmartFault(400, "INVALID_REQUEST_HEADER", f"Missing header {name}",
                               field=name)
    accept = request.headers.get("Accept", "")
    if "application/json" not in accept:
        raise WalmartFault(406, "INVALID_ACCEPT_TYPE",
                           f"Accept must be application/json, not {accept!r}", field="Accept")
    if typed and request.mimetype != "application/json":
        # Walmart's gateway fails an acknowledge without it with a 500, body or not
        # (walmartlabs/partnerapi_sdk_dotnet issue 11 and PR 16; walmart-api.md §11).
        raise WalmartFault(500, "SYSTEM_ERROR", "System encountered some internal error.",
                           service="GMP_GATEWAY_API")
    if body_expected and not request.mimetype == "application/json":
        raise WalmartFault(415, "UNSUPPORTED_MEDIA_TYPE",
                           f"Content-Type must be application/json, not {request.mimetype!r}",
                           field="Content-Type")


def seller_for_token(conn: sqlite3.Connection) -> str:
    token = (header("WM_SEC.ACCESS_TOKEN") or "").strip()
    row = conn.execute("SELECT seller_id, expires FROM tokens WHERE token = ?",
                       (token,)).fetchone() if token else None
    if row is None or row["expires"] < time.time():
        raise WalmartFault(401, "UNAUTHORIZED", "Unauthorized token or incorrect authorization "
                           "header.", field="WM_SEC.ACCESS_TOKEN", service="GMP_GATEWAY_API")
    return row["seller_id"]


def seller_or_none(conn: sqlite3.Connection) -> str | None:
    """The token's seller, for the request log, without refusing anything."""
    try:
        return seller_for_token(conn)
    except WalmartFault:
        return None


def forbidden(conn: sqlite3.Connection, seller_id: str) -> dict:
    """What the seller's credentials may not do (set by `control.forbid`): {"token": bool,
    "endpoints": [...]} — "*" among the endpoints stands for every business call."""
    return get_setting(conn, f"forbidden:{seller_id}", {}) or {}


def check_permission(conn: sqlite3.Connection, seller_id: str, endpoint: str) -> None:
    """A valid token whose credentials lack this API's permission: 403 (walmart-api.md §6.2)."""
    endpoints = forbidden(conn, seller_id).get("endpoints") or []
    if endpoint in endpoints or "*" in endpoints:
        raise WalmartFault(403, "FORBIDDEN", f"The credentials have no access to the {endpoint} "
                           "API", field="WM_SEC.ACCESS_TOKEN", service="GMP_GATEWAY_API")


def _bad_request() -> WalmartFault:
    """Walmart answers unknown client credentials with a bare 400 Bad Request, not 401 and
    not an OAuth error body (walmart-api.md §1.2, §11)."""
    return WalmartFault(400, "BAD_REQUEST", "Bad Request", bare=True)


def issue_token(conn: sqlite3.Connection) -> dict:
    """POST /v3/token: Basic client id/secret and grant_type=client_credentials."""
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Basic "):  # no Basic header at all: the gateway's 401
        raise WalmartFault(401, "UNAUTHORIZED", "Unauthorized token or incorrect authorization "
                           "header. Please verify correct format: \"Authorization: Basic "
                           "Base64Encode(clientId:clientSecret)\"", field="Authorization",
                           service="GMP_GATEWAY_API")
    try:
        client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        client_id, secret = "", ""
    seller = conn.execute("SELECT seller_id FROM sellers WHERE client_id = ? AND "
                          "client_secret = ?", (client_id, secret)).fetchone()
    if seller is None:
        raise _bad_request()
    if forbidden(conn, seller["seller_id"]).get("token"):
        raise WalmartFault(403, "FORBIDDEN", "The credentials have no access to the API",
                           field="Authorization", service="GMP_GATEWAY_API")
    if request.mimetype != "application/x-www-form-urlencoded":
        raise WalmartFault(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be "
                           "application/x-www-form-urlencoded", field="Content-Type",
                           service="GMP_GATEWAY_API")
    if request.form.get("grant_type") != "client_credentials":
        raise WalmartFault(400, "INVALID_REQUEST_PARAM", "grant_type must be client_credentials",
                           field="grant_type", service="GMP_GATEWAY_API")
    token = secrets.token_urlsafe(32)
    with transaction(conn):
        conn.execute("INSERT INTO tokens (token, seller_id, expires) VALUES (?, ?, ?)",
                     (token, seller["seller_id"], time.time() + TOKEN_SECONDS))
        conn.execute("DELETE FROM tokens WHERE expires < ?", (time.time() - 3600,))
    return {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_SECONDS}


def fault_setting(conn: sqlite3.Connection, endpoint: str, name: str, default):
    """One setting of the endpoint's fault config (else of '*'), e.g. replenish_format."""
    for key in (endpoint, "*"):
        row = conn.execute("SELECT config FROM faults WHERE endpoint = ?", (key,)).fetchone()
        if row is not None and name in (config := json.loads(row["config"])):
            return config[name]
    return default


def replenish_header(conn: sqlite3.Connection, endpoint: str, at: float) -> str:
    """X-Next-Replenishment-Time for the moment `at` (epoch seconds), in the endpoint's format:
    epoch ms, or an HTTP date (RFC 7231, whole seconds rounded up)."""
    if fault_setting(conn, endpoint, "replenish_format", "epoch_ms") == "http_date":
        return formatdate(math.ceil(at), usegmt=True)
    return str(int(at * 1000))


def rate_scale(conn: sqlite3.Connection, seller_id: str) -> float:
    """What multiplies Walmart's limits for this seller: its own scale when one is set
    (`rate-scale --seller`, e.g. make run's demo seller), else the simulator's (1: Walmart's)."""
    own = get_setting(conn, f"rate_scale:{seller_id}")
    return float(own if own is not None else get_setting(conn, "rate_scale", 1.0))


def take_token(conn: sqlite3.Connection, seller_id: str, endpoint: str) -> dict[str, str]:
    """One call from the seller's bucket for `endpoint`; 429 when it is empty."""
    per_minute = RATE_LIMITS[endpoint] * rate_scale(conn, seller_id)
    rate = per_minute / 60.0
    now = time.time()
    with transaction(conn):
        row = conn.execute("SELECT tokens, updated FROM buckets WHERE seller_id = ? AND "
                           "endpoint = ?", (seller_id, endpoint)).fetchone()
        tokens = per_minute if row is None else min(
            per_minute, row["tokens"] + (now - row["updated"]) * rate)
        allowed = tokens >= 1
        if allowed:
            tokens -= 1
        conn.execute("INSERT INTO buckets (seller_id, endpoint, tokens, updated) VALUES "
                     "(?, ?, ?, ?) ON CONFLICT (seller_id, endpoint) DO UPDATE SET "
                     "tokens = excluded.tokens, updated = excluded.updated",
                     (seller_id, endpoint, tokens, now))
    refill = now + max(0.0, 1 - tokens) / rate if rate else 0.0
    headers = {"X-Current-Token-Count": str(math.floor(tokens)),
               "X-Next-Replenishment-Time": replenish_header(conn, endpoint, refill)}
    if not allowed:
        raise WalmartFault(429, "REQUEST_THRESHOLD_VIOLATED", "Too Many Requests",
                           field="data", service="GMP_GATEWAY_API", headers=headers)
    return headers


def _draw(conn: sqlite3.Connection, endpoint: str, kinds: tuple[str, ...],
          rated: tuple[str, ...], down: bool = False) -> tuple[str | None, dict]:
    """(kind, its settings): the endpoint's own settings before those of '*'; a queued kind
    (`next`) first, else one drawn by its rate; `down` (when asked) before anything. Inside
    the caller's transaction when there is one (an event drawn while an order is saved)."""
    with nullcontext() if conn.in_transaction else transaction(conn):
        for key in (endpoint, "*"):
            row = conn.execute("SELECT config FROM faults WHERE endpoint = ?", (key,)).fetchone()
            if row is None:
                continue
            config = json.loads(row["config"])
            if down and config.get("down"):
                return "down", config
            queued = config.get("next", {})
            for kind in kinds:
                if queued.get(kind, 0) > 0:
                    queued[kind] -= 1
                    conn.execute("UPDATE faults SET config = ? WHERE endpoint = ?",
                                 (json.dumps(config), key))
                    return kind, config
            for kind in rated:
                if random.random() < float(config.get(f"{kind}_rate", 0)):
                    return kind, config
    return None, {}


def draw_fault(conn: sqlite3.Connection, endpoint: str) -> tuple[str | None, float]:
    """The fault to inject on this call, if any, and how long a hang lasts."""
    kind, config = _draw(conn, endpoint, FAULT_KINDS, FAULT_KINDS[1:], down=True)
    return kind, float(config.get("hang_seconds", 40)) if kind else 0.0


def draw_paging_fault(conn: sqlite3.Connection, endpoint: str) -> str | None:
    """The paging fault for this page of a search (read through nextCursor), if any."""
    return _draw(conn, endpoint, PAGING_FAULTS, PAGING_FAULTS)[0]


def draw_event_fault(conn: sqlite3.Connection) -> tuple[str | None, dict]:
    """The fault for one notification (endpoint `events`), if any, and its settings."""
    return _draw(conn, "events", EVENT_FAULTS, EVENT_FAULTS)
