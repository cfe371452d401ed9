"""The client and the simulator against each other over real HTTP: auth, headers, reading orders."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest

from webapp.walmart import AuthenticationError
from webapp.walmart.client import forget_tokens


def _raw(url: str, headers: dict, method: str = "GET", data: bytes | None = None):
    request = urllib.request.Request(url, headers=headers, method=method, data=data)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"null"), response.headers
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body), exc.headers
        except ValueError:
            return exc.code, body.decode(), exc.headers


def _token(sim, seller) -> str:
    import base64

    basic = base64.b64encode(f"{seller.client_id}:{seller.client_secret}".encode()).decode()
    status, body, _ = _raw(f"{sim.url}/v3/token", {
        "Authorization": f"Basic {basic}", "WM_QOS.CORRELATION_ID": str(uuid.uuid4()),
        "WM_SVC.NAME": "Walmart Marketplace", "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded"}, "POST",
        b"grant_type=client_credentials")
    assert status == 200 and body["token_type"] == "Bearer" and body["expires_in"] == 900
    return body["access_token"]


def _headers(token: str | None) -> dict:
    headers = {"WM_QOS.CORRELATION_ID": str(uuid.uuid4()), "WM_SVC.NAME": "Walmart Marketplace",
               "Accept": "application/json"}
    if token:
        headers["WM_SEC.ACCESS_TOKEN"] = token
    return headers


def test_simulator_refuses_a_request_without_the_access_token(sim):
    """Walmart's underscore headers reach the simulator, so a missing token really is refused."""
    seller = sim.seller(seed_orders=1)
    status, body, _ = _raw(f"{sim.url}/v3/orders/released", _headers(None))
    assert status == 401
    assert body["errors"]["error"][0]["code"] == "UNAUTHORIZED.GMP_GATEWAY_API"
    status, body, _ = _raw(f"{sim.url}/v3/orders/released", _headers(_token(sim, seller)))
    assert status == 200 and body["list"]["elements"]["order"]


@pytest.mark.parametrize("drop, status, code", [
    ("WM_QOS.CORRELATION_ID", 400, "INVALID_REQUEST_HEADER.GMP_ORDER_API"),
    ("WM_SVC.NAME", 400, "INVALID_REQUEST_HEADER.GMP_ORDER_API"),
    ("Accept", 406, "INVALID_ACCEPT_TYPE.GMP_ORDER_API"),
])
def test_simulator_requires_walmarts_headers(sim, drop, status, code):
    """A call missing a required Walmart header is refused with Walmart's error."""
    seller = sim.seller(seed_orders=1)
    headers = _headers(_token(sim, seller))
    headers.pop(drop)
    got, body, _ = _raw(f"{sim.url}/v3/orders/released", headers)
    assert got == status and body["errors"]["error"][0]["code"] == code


def test_client_sends_walmarts_headers_with_a_fresh_correlation_id(sim):
    """Every call carries the token, WM_SVC.NAME and its own correlation id."""
    seller = sim.seller(seed_orders=3)
    client = seller.client()
    page = client.released_orders()
    client.get_order(page.orders[0].purchase_order_id)
    calls = seller.requests()
    assert [c["status"] for c in calls] == [200, 200]
    assert len({c["correlation_id"] for c in calls}) == 2


def test_token_is_cached_and_refreshed_once_after_a_401(sim):
    """One token serves many calls; when Walmart forgets it, the client re-authenticates once."""
    seller = sim.seller(seed_orders=2)
    forget_tokens()
    client = seller.client()
    client.released_orders()
    client.released_orders()
    tokens = sim.conn.execute("SELECT count(*) FROM tokens WHERE seller_id = ?",
                              (seller.seller_id,)).fetchone()[0]
    assert tokens == 1
    mark = sim.conn.execute("SELECT max(id) FROM requests").fetchone()[0]
    sim.conn.execute("DELETE FROM tokens WHERE seller_id = ?", (seller.seller_id,))
    assert client.released_orders().orders  # 401, new token, same call again
    calls = [(r["endpoint"], r["status"]) for r in sim.conn.execute(
        "SELECT endpoint, status FROM requests WHERE id > ? ORDER BY id", (mark,))]
    assert calls == [("released", 401), ("token", 200), ("released", 200)]


def test_wrong_credentials_raise_an_authentication_error(sim):
    """A wrong client secret is reported as such (Walmart's 400 on the token), not retried
    forever, and marked as credentials Walmart refused."""
    from webapp.walmart import WalmartClient

    seller = sim.seller()
    with pytest.raises(AuthenticationError, match="client id/secret") as caught:
        WalmartClient(sim.url, seller.client_id, "wrong").released_orders()
    assert (caught.value.status, caught.value.problem, caught.value.on_token) == (
        400, "refused", True)


def _token_call(sim, authorization: str | None):
    headers = {"WM_QOS.CORRELATION_ID": str(uuid.uuid4()), "WM_SVC.NAME": "Walmart Marketplace",
               "Accept": "application/json",
               "Content-Type": "application/x-www-form-urlencoded"}
    if authorization:
        headers["Authorization"] = authorization
    return _raw(f"{sim.url}/v3/token", headers, "POST", b"grant_type=client_credentials")


def test_simulator_answers_unknown_credentials_with_a_bare_400(sim):
    """As Walmart does: client credentials it does not know get a bare 400 Bad Request (no
    401, no OAuth error body); a request without Basic auth at all gets the gateway's 401."""
    import base64

    seller = sim.seller()
    wrong = base64.b64encode(f"{seller.client_id}:wrong".encode()).decode()
    assert _token_call(sim, f"Basic {wrong}")[:2] == (400, "Bad Request")
    status, body, _ = _token_call(sim, None)
    assert status == 401 and body["errors"]["error"][0]["code"] == "UNAUTHORIZED.GMP_GATEWAY_API"


def test_simulator_can_make_credentials_lack_a_permission(sim):
    """`control.forbid`: the token itself (403), or one business call (403 FORBIDDEN with a
    valid token, the other calls still answered); `control.allow` lifts it."""
    from simulator import control
    from webapp.walmart import WalmartClient

    seller = sim.seller(seed_orders=2)
    control.forbid(sim.conn, seller.seller_id, endpoints=["released"])
    client = seller.client()
    with pytest.raises(AuthenticationError) as caught:
        client.released_orders()
    assert (caught.value.status, caught.value.problem, caught.value.on_token) == (
        403, "forbidden", False)
    assert caught.value.code == "FORBIDDEN.GMP_GATEWAY_API"
    assert client.orders(limit=5).orders  # another call the key may make
    control.forbid(sim.conn, seller.seller_id, token=True)
    forget_tokens()  # the next call asks for a token
    with pytest.raises(AuthenticationError) as caught:
        WalmartClient(sim.url, seller.client_id, seller.client_secret).orders(limit=5)
    assert (caught.value.status, caught.value.on_token) == (403, True)
    control.allow(sim.conn, seller.seller_id)
    assert WalmartClient(sim.url, seller.client_id, seller.client_secret).released_orders()


def test_a_refused_token_request_drops_the_cached_token(sim):
    """After Walmart refuses the credentials, the client asks for a token again on the next
    call instead of reusing one cached before the secret changed."""
    from simulator import control

    seller = sim.seller(seed_orders=1)
    forget_tokens()
    client = seller.client()
    client.released_orders()
    control.set_client_secret(sim.conn, seller.seller_id, "regenerated")
    with pytest.raises(AuthenticationError):
        client._token(refresh=True)
    mark = sim.conn.execute("SELECT max(id) FROM requests").fetchone()[0]
    with pytest.raises(AuthenticationError):
        client.released_orders()
    calls = [(r["endpoint"], r["status"]) for r in sim.conn.execute(
        "SELECT endpoint, status FROM requests WHERE id > ? ORDER BY id", (mark,))]
    assert calls == [("token", 400)]


def test_released_orders_page_with_next_cursor(sim):
    """250 released orders come as 200 + 50, following nextCursor appended to the path."""
    seller = sim.seller(seed_orders=250)
    client = seller.client()
    pages = list(client.iter_pages(released=True))
    assert [len(p.orders) for p in pages] == [200, 50]
    assert pages[0].total_count == 250 and pages[0].next_cursor.startswith("?")
    ids = [o.purchase_order_id for p in pages for o in p.orders]
    assert len(set(ids)) == 250
    second = seller.requests()[1]["path"]
    assert second.startswith("/v3/orders/released?") and "hasMoreElements=true" in second


def test_nothing_released_is_walmarts_404_and_an_empty_page(sim):
    """Walmart answers an empty search with 404 CONTENT_NOT_FOUND; the client returns no orders."""
    seller = sim.seller()
    page = seller.client().released_orders()
    assert page.orders == () and page.next_cursor is None
    status, body, _ = _raw(f"{sim.url}/v3/orders/released", _headers(_token(sim, seller)))
    error = body["errors"]["error"][0]
    assert (status, error["code"], error["severity"]) == (
        404, "CONTENT_NOT_FOUND.GMP_ORDER_API", "INFO")


def test_order_json_has_walmarts_types(sim):
    """Timestamps are epoch-ms integers, quantities strings, money numbers, nulls explicit."""
    seller = sim.seller(seed_orders=1)
    status, body, _ = _raw(f"{sim.url}/v3/orders/released", _headers(_token(sim, seller)))
    order = body["list"]["elements"]["order"][0]
    line = order["orderLines"]["orderLine"][0]
    assert isinstance(order["orderDate"], int) and order["orderDate"] > 10**12
    assert isinstance(order["shippingInfo"]["estimatedShipDate"], int)
    assert isinstance(line["orderLineQuantity"]["amount"], str)
    assert isinstance(line["charges"]["charge"][0]["chargeAmount"]["amount"], float | int)
    assert "refund" in line and line["refund"] is None
    parsed = seller.client().get_order(order["purchaseOrderId"])
    assert parsed.lines[0].quantity == int(line["orderLineQuantity"]["amount"])
    assert parsed.lines[0].statuses[0].status == "Created"


def test_all_orders_filters_by_modification_window_and_status(sim):
    """GET /v3/orders honours lastModifiedStartDate and the per-line status filter."""
    from datetime import UTC, datetime, timedelta

    seller = sim.seller(seed_orders=5)
    client = seller.client()
    orders = client.orders().orders
    client.acknowledge(orders[0].purchase_order_id)
    acknowledged = client.orders(status="Acknowledged").orders
    assert [o.purchase_order_id for o in acknowledged] == [orders[0].purchase_order_id]
    later = client.orders(lastModifiedStartDate=datetime.now(UTC) + timedelta(hours=1))
    assert later.orders == ()


def test_unknown_order_is_a_data_error_with_walmarts_code(sim):
    """Reading a PO Walmart does not know raises a DataError carrying code and description."""
    from webapp.walmart import DataError

    seller = sim.seller()
    with pytest.raises(DataError) as caught:
        seller.client().get_order("999999999999999")
    assert caught.value.status == 404 and caught.value.code == "CONTENT_NOT_FOUND.GMP_ORDER_API"


def test_generated_orders_are_deterministic(tmp_path):
    """The same seed produces the same orders, with nulls, multi-line and multi-quantity lines."""
    from simulator import generator

    first = generator.make_orders(7, 50, 1_800_000_000_000)
    second = generator.make_orders(7, 50, 1_800_000_000_000)
    assert first == second
    assert any(len(o["lines"]) > 1 for o in first)
    assert any(line["qty"] > 1 for o in first for line in o["lines"])
    assert any(o["shippingInfo"]["postalAddress"]["address2"] is None for o in first)
    assert generator.make_orders(8, 50, 1_800_000_000_000) != first
