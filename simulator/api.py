"""Walmart's /v3 endpoints as the simulator serves them."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps

from flask import Blueprint, Response, current_app, jsonify, request

from simulator import gateway, listing, orders, returns, rules, webhooks
from simulator.data import AUTO_CANCEL_AFTER_MS
from simulator.db import connect, log_request, now_ms, transaction
from simulator.errors import WalmartFault, bad_content

bp = Blueprint("walmart", __name__)


def _conn():
    return connect(current_app.config["SIM_DB"])


def _fault_response(conn, endpoint: str, kind: str, hang: float) -> Response | None:
    if kind == "down":  # the gateway itself is unreachable: a bare status, no JSON
        # `down` may be the gateway's (or a proxy's) own text instead of `true`.
        text = gateway.fault_setting(conn, endpoint, "down", True)
        return Response(text if isinstance(text, str) else "Service Unavailable", status=503,
                        mimetype="text/plain")
    if kind == "error":
        return WalmartFault(500, "SYSTEM_ERROR", "System encountered some internal error.",
                            service="GMP_ORDER_API").response()
    if kind == "throttle":
        wait = float(gateway.fault_setting(conn, endpoint, "replenish_seconds", 1))
        refill = gateway.replenish_header(conn, endpoint, time.time() + wait)
        return WalmartFault(429, "REQUEST_THRESHOLD_VIOLATED", "Too Many Requests",
                            service="GMP_GATEWAY_API",
                            headers={"X-Current-Token-Count": "0",
                                     "X-Next-Replenishment-Time": refill}).response()
    if kind == "reject":  # a data error, as Walmart gives for content it refuses
        return WalmartFault(400, "INVALID_REQUEST_CONTENT", "Simulated rejection: Walmart "
                            "refused this request's content.").response()
    if kind == "timeout":
        time.sleep(hang)
        return WalmartFault(504, "DOWNSTREAM_SYSTEM_TIME_OUT", "Timed out").response()
    return None


def _auto_cancel(conn) -> None:
    """Apply Walmart's auto-cancel (ship-by + 4 days) before answering, when anything is due."""
    due = now_ms(conn) - AUTO_CANCEL_AFTER_MS
    if conn.execute("SELECT 1 FROM orders WHERE open_units > 0 AND esd_ms < ? LIMIT 1",
                    (due,)).fetchone():
        with transaction(conn):
            orders.auto_cancel_due(conn, now_ms(conn))


def walmart_endpoint(endpoint: str, body: bool = False, typed: bool = False) -> Callable:
    """Gateway behaviour around a handler: faults, headers, token, rate limit, log.
    `typed`: no body, yet `Content-Type: application/json` is required (gateway.check_headers)."""
    def decorator(handler: Callable) -> Callable:
        @wraps(handler)
        def wrapped(**kwargs):
            conn = _conn()
            seller_id, headers = None, {}
            kind, hang = gateway.draw_fault(conn, endpoint)
            try:
                response = _fault_response(conn, endpoint, kind, hang) if kind else None
                if response is None:
                    gateway.check_headers(body, typed)
                    seller_id = gateway.seller_for_token(conn)
                    gateway.check_permission(conn, seller_id, endpoint)
                    headers = gateway.take_token(conn, seller_id, endpoint)
                    _auto_cancel(conn)
                    payload = None
                    if body:
                        payload = request.get_json(silent=True)
                        if payload is None:
                            raise WalmartFault(400, "MALFORMED_REQUEST_CONTENT",
                                               "Request body is not valid JSON")
                    result = handler(conn, seller_id, payload, **kwargs) if body else \
                        handler(conn, seller_id, **kwargs)
                    response = result if isinstance(result, Response) else jsonify(result)
            except WalmartFault as fault:
                response = fault.response()
            for name, value in headers.items():
                response.headers.setdefault(name, value)
            if kind == "malformed" and response.status_code == 200:
                response = Response('{"list": {"meta": {"totalCount": 1,', status=200,
                                    mimetype="application/json")
            log_request(conn, seller_id=seller_id or gateway.seller_or_none(conn),
                        method=request.method,
                        path=request.full_path.rstrip("?"), endpoint=endpoint,
                        status=response.status_code,
                        correlation_id=gateway.header("WM_QOS.CORRELATION_ID"),
                        body=request.get_data(as_text=True)[:4000] or None,
                        response=response.get_data(as_text=True)[:4000]
                        if response.status_code != 200 else None,
                        headers=gateway.received_headers())
            if kind == "timeout_after":  # Walmart did it, but the answer never arrives in time
                time.sleep(hang)
            return response
        return wrapped
    return decorator


@bp.post("/v3/token")
def token():
    conn = _conn()
    try:
        gateway.check_headers(body_expected=False)
        result = jsonify(gateway.issue_token(conn))
    except WalmartFault as fault:
        result = fault.response()
    log_request(conn, seller_id=None, method="POST", path="/v3/token", endpoint="token",
                status=result.status_code,
                correlation_id=gateway.header("WM_QOS.CORRELATION_ID"), body=None,
                response=None, headers=gateway.received_headers())
    return result


@bp.get("/v3/orders/released")
@walmart_endpoint("released")
def released(conn, seller_id):
    return listing.order_page(conn, seller_id, released=True)


@bp.get("/v3/orders")
@walmart_endpoint("orders")
def all_orders(conn, seller_id):
    return listing.order_page(conn, seller_id, released=False)


def _order_or_404(conn, seller_id: str, po: str) -> dict:
    order = orders.load(conn, seller_id, po)
    if order is None:
        raise WalmartFault(404, "CONTENT_NOT_FOUND", f"Failed when called getAnOrder. "
                           f"Order not found for purchaseOrderId {po}", severity="INFO")
    return order


@bp.get("/v3/orders/<po>")
@walmart_endpoint("order")
def one_order(conn, seller_id, po):
    return {"order": orders.render(_order_or_404(conn, seller_id, po))}


def _act(conn, seller_id: str, po: str, apply: Callable) -> dict:
    with transaction(conn):
        order = orders.load(conn, seller_id, po)
        if order is None:
            raise bad_content(f"Invalid purchaseOrderId {po}", field="purchaseOrderId")
        now = now_ms(conn)
        apply(order, now)
        orders.save(conn, seller_id, order, now)
    return {"order": orders.render(order)}


@bp.post("/v3/orders/<po>/acknowledge")
@walmart_endpoint("acknowledge", typed=True)
def acknowledge(conn, seller_id, po):
    return _act(conn, seller_id, po, rules.acknowledge)


@bp.post("/v3/orders/<po>/shipping")
@walmart_endpoint("shipping", body=True)
def shipping(conn, seller_id, payload, po):
    return _act(conn, seller_id, po, lambda order, now: rules.ship(order, payload, now))


@bp.post("/v3/orders/<po>/cancel")
@walmart_endpoint("cancel", body=True)
def cancel(conn, seller_id, payload, po):
    return _act(conn, seller_id, po, lambda order, now: rules.cancel(order, payload, now))


@bp.post("/v3/orders/<po>/refund")
@walmart_endpoint("refund", body=True)
def refund(conn, seller_id, payload, po):
    return _act(conn, seller_id, po, lambda order, now: rules.refund(order, payload, now))


@bp.get("/v3/returns")
@walmart_endpoint("returns")
def list_returns(conn, seller_id):
    return listing.return_page(conn, seller_id)


@bp.post("/v3/returns/<rma>/refund")
@walmart_endpoint("return_refund", body=True)
def refund_return(conn, seller_id, payload, rma):
    return returns.refund(conn, seller_id, rma, payload)


def _sku() -> str:
    sku = listing.raw_arg("sku") or ""  # `+` is a plus, not a space (walmart-api.md §5.1)
    if not sku:
        raise WalmartFault(400, "MISSING_REQUEST_PARAM", "sku is required", field="sku",
                           service="GMP_INVENTORY_API")
    return sku


@bp.put("/v3/inventory")
@walmart_endpoint("inventory")
def inventory(conn, seller_id):
    sku = _sku()
    gateway.check_headers(body_expected=True)
    payload = request.get_json(silent=True)
    return returns.put_inventory(conn, seller_id, sku, payload, request.args.get("shipNode"))


# Reading and updating a SKU's inventory are two limits of 200 a minute each at Walmart
# (walmart-api.md §6.3): reads take from their own bucket, never from the updates'.
@bp.get("/v3/inventory")
@walmart_endpoint("inventory_get")
def inventory_level(conn, seller_id):
    return returns.get_inventory(conn, seller_id, _sku(), request.args.get("shipNode"))


@bp.get("/v3/webhooks/eventTypes")
@walmart_endpoint("webhooks")
def event_types(conn, seller_id):
    return webhooks.event_types()


@bp.post("/v3/webhooks/subscriptions")
@walmart_endpoint("webhooks", body=True)
def create_subscriptions(conn, seller_id, payload):
    with transaction(conn):
        return webhooks.create(conn, seller_id, payload)


@bp.get("/v3/webhooks/subscriptions")
@walmart_endpoint("webhooks")
def subscriptions(conn, seller_id):
    return webhooks.listing(conn, seller_id, request.args)


@bp.patch("/v3/webhooks/subscriptions/<subscription_id>")
@walmart_endpoint("webhooks", body=True)
def update_subscription(conn, seller_id, payload, subscription_id):
    with transaction(conn):
        return webhooks.update(conn, seller_id, subscription_id, payload)


@bp.delete("/v3/webhooks/subscriptions/<subscription_id>")
@walmart_endpoint("webhooks")
def delete_subscription(conn, seller_id, subscription_id):
    with transaction(conn):
        return webhooks.delete(conn, seller_id, subscription_id)


@bp.post("/v3/webhooks/test")
@walmart_endpoint("webhooks", body=True)
def test_notification(conn, seller_id, payload):
    return webhooks.test(conn, seller_id, payload)


@bp.errorhandler(WalmartFault)
def _fault(fault: WalmartFault):
    return fault.response()


@bp.app_errorhandler(404)
def _not_found(_exc):
    return WalmartFault(404, "URI_NOT_FOUND", f"No such resource {request.path}",
                        field="uri", service="GMP_GATEWAY_API").response()


@bp.app_errorhandler(405)
def _not_allowed(_exc):
    return WalmartFault(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed here",
                        field="method", service="GMP_GATEWAY_API").response()
