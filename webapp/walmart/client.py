"""The one module that talks HTTP to Walmart (the only other `import requests` is the
notification webhook in jobs/notify.py)."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from webapp.walmart import schema
from webapp.walmart.client_notifications import Notifications
from webapp.walmart.client_returns import MAX_LIMIT, ReturnsAndInventory
from webapp.walmart.errors import (
    AuthenticationError,
    DataError,
    MalformedResponse,
    RateLimited,
    TransientError,
)
from webapp.walmart.responses import (
    body_excerpt,
    error_details,
    is_content_not_found,
    parse_replenish_time,
)

SERVICE_NAME = "Walmart Marketplace"
TOKEN_MARGIN = 120  # refresh this many seconds before Walmart's 900 s expiry


@dataclass
class RateInfo:
    """What Walmart's throttling headers said on the last call."""
    token_count: int | None = None
    replenish_at: datetime | None = None


@dataclass
class _Token:
    value: str
    expires: float  # time.monotonic()


_tokens: dict[tuple[str, str], _Token] = {}
_sessions: dict[tuple[str, str], requests.Session] = {}
_lock = threading.Lock()


def forget_tokens() -> None:
    """Drop every cached token (tests; a changed secret)."""
    with _lock:
        _tokens.clear()


def _walmart_time(moment: datetime) -> str:
    """Whole seconds in UTC: Walmart's documented query format."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _query(params: dict[str, Any]) -> str:
    """A query string as Walmart reads it: every reserved character percent-encoded and a
    space as `%20`, never `+`, which Walmart takes for a plus (walmart-api.md §5.1, §11)."""
    return urlencode({k: v for k, v in params.items() if v is not None},
                     quote_via=quote, safe="")


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection failed before the request could leave."""
    seen, cause = set(), exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, NewConnectionError | ConnectTimeoutError):
            return True
        cause = cause.__cause__ or cause.__context__ or (
            cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None)
    return False


class WalmartClient(ReturnsAndInventory, Notifications):
    """Walmart Marketplace API for one seller account (store)."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, *,
                 connect_timeout: float = 5.0, read_timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self.timeout = (connect_timeout, read_timeout)
        self.rate = RateInfo()
        self.authenticated = False  # Walmart gave this client a token (fresh or cached)
        self._key = (self.base_url, client_id)
        with _lock:
            self.session = _sessions.setdefault(self._key, requests.Session())

    def __repr__(self) -> str:  # never show the secret
        return f"<WalmartClient {self.base_url} {self.client_id}>"

    # -- authentication -------------------------------------------------------------------
    def _token(self, refresh: bool = False) -> str:
        with _lock:
            cached = _tokens.get(self._key)
        if cached and not refresh and cached.expires > time.monotonic():
            self.authenticated = True
            return cached.value
        response = self._send("POST", "/v3/token", auth=(self.client_id, self._secret),
                              data={"grant_type": "client_credentials"},
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        # The token request's shape never varies, only the credentials do: Walmart answers
        # credentials it does not know with a bare 400 (not 401), and 403 when they lack a
        # permission. Either way the credentials are the problem, not this request.
        if response.status_code in (400, 401, 403):
            with _lock:  # a token cached before the secret changed must not be used again
                _tokens.pop(self._key, None)
            code, _field, description, info = error_details(response, raw_text=False)
            raise AuthenticationError(
                f"Walmart refused the client id/secret ({response.status_code}"
                f"{', ' + code if code else ''}): {description or info or 'check credentials'}",
                status=response.status_code, code=code, on_token=True,
                detail=None if description or info else body_excerpt(response))
        body = self._json(self._check(response))
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise MalformedResponse("Walmart's token answer lacks access_token",
                                    field="access_token")
        lifetime = int(body.get("expires_in") or 900)
        with _lock:
            _tokens[self._key] = _Token(token, time.monotonic() + max(lifetime - TOKEN_MARGIN,
                                                                       lifetime / 2))
        self.authenticated = True
        return token

    def check_token(self) -> None:
        """Ask Walmart for a new token now (Test connection): a cached one proves nothing."""
        self._token(refresh=True)

    # -- transport ------------------------------------------------------------------------
    def _send(self, method: str, path: str, *, headers: dict | None = None,
              **kwargs: Any) -> requests.Response:
        all_headers = {"WM_QOS.CORRELATION_ID": str(uuid.uuid4()), "WM_SVC.NAME": SERVICE_NAME,
                       "Accept": "application/json", **(headers or {})}
        try:
            response = self.session.request(method, self.base_url + path, headers=all_headers,
                                            timeout=self.timeout, allow_redirects=False,
                                            **kwargs)
        except requests.ConnectTimeout as exc:
            raise TransientError("Walmart did not accept the connection",
                                 detail=str(exc)) from exc
        except requests.Timeout as exc:
            raise TransientError(f"Walmart did not answer in {self.timeout[1]:g} s",
                                 ambiguous=method != "GET") from exc
        except requests.ConnectionError as exc:
            raise TransientError("connection to Walmart failed", detail=str(exc),
                                 ambiguous=method != "GET" and not _never_sent(exc)) from exc
        except requests.RequestException as exc:
            raise TransientError("request to Walmart failed", detail=str(exc),
                                 ambiguous=method != "GET") from exc
        self._note_rate(response)
        return response

    def _note_rate(self, response: requests.Response) -> None:
        count = response.headers.get("X-Current-Token-Count")
        try:
            self.rate.token_count = int(float(count)) if count is not None else None
        except ValueError:
            self.rate.token_count = None
        self.rate.replenish_at = parse_replenish_time(response.headers)

    def _check(self, response: requests.Response, method: str = "GET") -> requests.Response:
        status = response.status_code
        if 200 <= status < 300:
            return response
        if status == 429:
            raise RateLimited("Walmart's rate limit for this call is used up",
                              retry_at=self.rate.replenish_at or datetime.fromtimestamp(
                                  time.time() + 5, UTC), token_count=self.rate.token_count)
        if status >= 500:
            # A gateway's or proxy's own page is not Walmart's message: admins only (detail).
            code, _field, description, _info = error_details(response, raw_text=False)
            raise TransientError(f"Walmart answered {status}"
                                 f"{' ' + code if code else ''}: {description or 'server error'}",
                                 status=status, ambiguous=method != "GET",
                                 detail=None if description else body_excerpt(response))
        if status in (401, 403):
            code, _field, description, info = error_details(response, raw_text=False)
            raise AuthenticationError(f"Walmart refused the token ({status}"
                                      f"{', ' + code if code else ''}): "
                                      f"{description or info or 'unauthorized'}",
                                      status=status, code=code,
                                      detail=None if description or info else body_excerpt(
                                          response))
        code, field, description, info = error_details(response)
        raise DataError(status=status, code=code, field=field, description=description, info=info)

    @staticmethod
    def _json(response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise MalformedResponse(f"Walmart answered {response.status_code} with a body that "
                                    "is not JSON", detail=body_excerpt(response)) from exc

    def _call(self, method: str, path: str, *, json_body: Any = None,
              params: dict | None = None, empty_ok: bool = False) -> Any:
        """One business call; a 401 refreshes the token once and retries."""
        if params:  # built here, not by requests' `params=`, which writes a space as `+`
            path = f"{path}?{_query(params)}"
        kwargs: dict[str, Any] = {}
        headers = {}
        if method in ("POST", "PUT", "PATCH"):
            # Every write says JSON, body or not: Walmart's gateway answers an acknowledge
            # without it with a 500 (walmart-api.md §11).
            headers["Content-Type"] = "application/json"
        if json_body is not None:
            kwargs["json"] = json_body
        for attempt in (1, 2):
            headers["WM_SEC.ACCESS_TOKEN"] = self._token(refresh=attempt == 2)
            response = self._send(method, path, headers=headers, **kwargs)
            if response.status_code != 401 or attempt == 2:
                break
        if empty_ok and response.status_code == 404 and is_content_not_found(response):
            return None
        return self._json(self._check(response, method))

    # -- orders ---------------------------------------------------------------------------
    @staticmethod
    def _filters(filters: dict[str, Any]) -> dict[str, str]:
        params = {}
        for key, value in filters.items():
            if value is None:
                continue
            if isinstance(value, datetime):
                value = _walmart_time(value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            params[key] = str(value)
        if "limit" in params:
            params["limit"] = str(min(int(params["limit"]), MAX_LIMIT))
        return params

    def _order_page(self, path: str, params: dict | None) -> schema.OrderPage:
        body = self._call("GET", path, params=params, empty_ok=True)
        if body is None:  # Walmart's 404 CONTENT_NOT_FOUND: no orders match
            return schema.OrderPage(orders=(), next_cursor=None, total_count=0)
        return schema.parse_order_list(body)

    def released_orders(self, **filters: Any) -> schema.OrderPage:
        """GET /v3/orders/released — created orders not yet acknowledged (first page)."""
        filters.setdefault("limit", MAX_LIMIT)
        return self._order_page("/v3/orders/released", self._filters(filters))

    def orders(self, **filters: Any) -> schema.OrderPage:
        """GET /v3/orders with Walmart's filters (createdStartDate, lastModifiedStartDate, …)."""
        filters.setdefault("limit", MAX_LIMIT)
        return self._order_page("/v3/orders", self._filters(filters))

    def next_page(self, cursor: str, *, released: bool = False) -> schema.OrderPage:
        """The page after one that returned `cursor`: the cursor appended to the same path."""
        path = "/v3/orders/released" if released else "/v3/orders"
        return self._order_page(path + (cursor if cursor.startswith("?") else "?" + cursor),
                                None)

    def iter_pages(self, *, released: bool = False, **filters: Any):
        """Every page of a search, following nextCursor; a cursor already followed ends it
        (Walmart has been seen to repeat one: never loop)."""
        page = self.released_orders(**filters) if released else self.orders(**filters)
        yield page
        followed = set()
        while page.next_cursor and page.next_cursor not in followed:
            followed.add(page.next_cursor)
            page = self.next_page(page.next_cursor, released=released)
            yield page

    def get_order(self, purchase_order_id: str) -> schema.PurchaseOrder:
        return schema.parse_single_order(
            self._call("GET", f"/v3/orders/{quote(purchase_order_id, safe='')}"))

    def _action(self, purchase_order_id: str, action: str, body: Any) -> schema.PurchaseOrder:
        path = f"/v3/orders/{quote(purchase_order_id, safe='')}/{action}"
        return schema.parse_single_order(self._call("POST", path, json_body=body))

    def acknowledge(self, purchase_order_id: str) -> schema.PurchaseOrder:
        """Acknowledge the whole order (no body, as in Walmart's spec, but typed as JSON)."""
        path = f"/v3/orders/{quote(purchase_order_id, safe='')}/acknowledge"
        return schema.parse_single_order(self._call("POST", path))

    def ship(self, purchase_order_id: str, body: dict) -> schema.PurchaseOrder:
        """Body from payloads.shipment(); never re-send after an ambiguous failure unread."""
        return self._action(purchase_order_id, "shipping", body)

    def cancel(self, purchase_order_id: str, body: dict) -> schema.PurchaseOrder:
        return self._action(purchase_order_id, "cancel", body)

