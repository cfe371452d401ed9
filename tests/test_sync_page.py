"""The Sync page: failed updates first, explained, retried (one or many) or closed as fixed in
Seller Center; sync health on the Stores page and in the banner."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from sqlalchemy import select

from simulator import control
from tests.conftest import csrf_from


def _orders(app, count: int):
    """`count` acknowledged orders without a buyer cancel request: (id, po, {line: qty})."""
    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        rows = db.session.scalars(select(Order).where(Order.intent_to_cancel.is_(False))
                                  .order_by(Order.id).limit(count)).unique().all()
        return [(o.id, o.purchase_order_id, {x.line_number: x.quantity for x in o.lines})
                for o in rows]


def _ship(app, order_id: int, lines: dict, number: str) -> int:
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order

    with app.app_context():
        shipment = ship_order(order_id, [PackageInput(number, "Standard", lines, "UPS")],
                              utcnow(), by=None, actor="test", confirm_warnings=True)
        return shipment.task_id


def _run(app, task_id: int) -> str:
    from webapp.services.sync.engine import process_task

    with app.app_context():
        return process_task(task_id).state


def _task(app, task_id: int):
    from webapp.extensions import db
    from webapp.models import SyncTask

    with app.app_context():
        task = db.session.get(SyncTask, task_id)
        db.session.expunge(task)
        return task


def _status(app, order_id: int) -> str:
    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        return db.session.get(Order, order_id).status


@pytest.fixture
def overshipped(app, shop):
    """An order the buyer canceled at Walmart (not yet re-imported) that we then shipped:
    Walmart refuses the shipment as over-shipped, and reading it back shows why (the lines
    are cancelled). Returns (order_id, po, task_id)."""
    _store_id, seller = shop
    [(order_id, po, lines)] = _orders(app, 1)
    control.buyer_cancel(seller.sim.conn, seller.seller_id, po)
    task_id = _ship(app, order_id, lines, "1Z999AA10123456784")
    assert _run(app, task_id) == "error"
    return order_id, po, task_id


def test_a_failed_update_is_listed_first_explained_with_what_was_sent(
        app, signed_in, client, overshipped, worker):
    order_id, po, task_id = overshipped
    worker()  # the other orders' stock pushes etc. settle: synced tasks to list after it
    signed_in("operator")
    page = client.get("/sync/").text
    rows = re.findall(r'<tr id="task-(\d+)"', page)
    assert rows[0] == str(task_id) and len(rows) > 1
    first = page[page.index(f'id="task-{task_id}"'):page.index(f'id="task-{rows[1]}"')]
    assert "Walmart cancelled these lines before the shipment reached it" in first
    assert "Fixed in Seller Center" in first and "What to do:" in first
    assert "INVALID_REQUEST_CONTENT" in first and "OverShipped" in htmllib.unescape(first)
    assert "1Z999AA10123456784" in first and "UPS" in first  # what was sent, in words
    assert f'href="/orders/{order_id}"' in first and ">Retry</button>" in first
    assert "Attempts" in page and re.search(r'class="num">1</td>', first)
    # the error card counts it, and the banner on every page points here
    assert re.search(r'<span class="count">1</span><span class="label">Error</span>', page)
    orders_page = client.get("/orders/").text
    assert "1 update to Walmart failed and needs you" in orders_page
    assert 'href="/sync/?state=error"' in orders_page


def test_filters_by_state_kind_and_store(app, signed_in, client, overshipped):
    _order_id, _po, task_id = overshipped
    signed_in("viewer")
    errors = client.get("/sync/?state=error").text
    assert re.findall(r'<tr id="task-(\d+)"', errors) == [str(task_id)]
    acks = client.get("/sync/?kind=acknowledge").text
    assert f'id="task-{task_id}"' not in acks and "Acknowledge" in acks
    assert "No update matches these filters." in client.get("/sync/?store=999999").text
    assert f'id="task-{task_id}"' in client.get(f"/sync/?q={overshipped[1]}").text
    # viewers see everything but no action
    assert ">Retry</button>" not in errors and "Close as fixed" not in errors


def test_retry_selected_sends_each_again_and_they_sync(app, signed_in, client, shop, worker):
    """Walmart rejects three shipments; the cause is fixed; Retry selected sends all three,
    each reaches Walmart once."""
    _store_id, seller = shop
    control.set_faults(seller.sim.conn, "shipping", reject_rate=1.0)
    tasks = [_ship(app, order_id, lines, f"1ZRETRY{n:011d}")
             for n, (order_id, _po, lines) in enumerate(_orders(app, 3))]
    assert [_run(app, t) for t in tasks] == ["error"] * 3
    control.clear_faults(seller.sim.conn)
    signed_in("operator")
    page = client.get("/sync/?state=error").text
    assert "Walmart refused the content of the update" in page
    response = client.post("/sync/retry", data={
        "csrf_token": csrf_from(page), "task": [str(t) for t in tasks] + ["999999", "x"],
        "next": "/sync/?state=error"})
    assert response.status_code == 303 and response.location.endswith("/sync/?state=error")
    assert "Sent 3 updates again to Walmart." in client.get("/sync/").text
    worker()
    assert {_task(app, t).state for t in tasks} == {"synced"}
    calls = [r for r in seller.requests() if r["endpoint"] == "shipping" and r["status"] == 200]
    assert len(calls) == 3
    # nothing selected, or nothing failed any more: a clear message, nothing sent
    response = client.post("/sync/retry", data={"csrf_token": csrf_from(page)},
                           follow_redirects=True)
    assert "Select the failed updates to retry." in response.text
    response = client.post("/sync/retry", data={"csrf_token": csrf_from(page),
                                                 "task": [str(tasks[0])]}, follow_redirects=True)
    assert "None of the selected updates is failed any more" in response.text


def test_fixed_in_seller_center_needs_a_note_and_the_order_follows(
        app, signed_in, client, overshipped):
    from webapp.extensions import db
    from webapp.models import AuditEvent

    order_id, po, task_id = overshipped
    assert _status(app, order_id) == "Error"
    email = signed_in("operator")
    token = csrf_from(client.get("/sync/").text)
    response = client.post(f"/sync/tasks/{task_id}/resolve",
                           data={"csrf_token": token, "note": "   "}, follow_redirects=True)
    assert "Say what was done in Seller Center" in response.text
    assert _task(app, task_id).state == "error" and _status(app, order_id) == "Error"
    response = client.post(f"/sync/tasks/{task_id}/resolve",
                           data={"csrf_token": token, "note": "x" * 501}, follow_redirects=True)
    assert _task(app, task_id).state == "error"
    note = "Buyer canceled; <b>nothing</b> to ship, checked in Seller Center"
    response = client.post(f"/sync/tasks/{task_id}/resolve",
                           data={"csrf_token": token, "note": note}, follow_redirects=True)
    assert "Marked as fixed in Seller Center." in response.text
    task = _task(app, task_id)
    assert task.state == "resolved" and task.resolution_note == note and task.resolved_at
    assert _status(app, order_id) != "Error"
    page = client.get("/sync/?state=resolved").text
    assert f"Fixed in Seller Center by {email}" in page
    assert "&lt;b&gt;nothing&lt;/b&gt;" in page and "<b>nothing</b>" not in page
    assert "failed and need" not in client.get("/").text  # the banner is gone
    # a resolved task can be neither resolved again nor retried
    response = client.post(f"/sync/tasks/{task_id}/retry", data={"csrf_token": token},
                           follow_redirects=True)
    assert "Only a failed update can be retried; this one is resolved." in response.text
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "sync.resolve")).one()
        assert event.actor == email and event.details["note"] == note


def test_an_earlier_failure_is_not_hidden_by_a_later_success(app, shop):
    """Part of an order fails, the rest ships fine: the order stays in Error until the failed
    part is retried or resolved."""
    from webapp.extensions import db
    from webapp.models import Order

    _store_id, seller = shop
    with app.app_context():
        order = next(o for o in db.session.scalars(select(Order).order_by(Order.id)).unique()
                     if not o.intent_to_cancel and sum(x.quantity for x in o.lines) >= 2)
        order_id, line = order.id, order.lines[0]
        first = {line.line_number: 1}
        rest = {x.line_number: x.quantity - (1 if x is line else 0) for x in order.lines}
        rest = {k: v for k, v in rest.items() if v}
    control.set_faults(seller.sim.conn, "shipping", next={"reject": 1})
    failed = _ship(app, order_id, first, "1ZFIRST000000001")
    assert _run(app, failed) == "error"
    later = _ship(app, order_id, rest, "1ZSECOND00000002")
    assert _run(app, later) == "synced"
    assert _status(app, order_id) == "Error"


def test_stores_page_shows_sync_health(app, signed_in, client, overshipped):
    from datetime import timedelta

    from sqlalchemy import update

    from webapp.extensions import db
    from webapp.models import SyncTask
    from webapp.models.base import utcnow
    from webapp.services.sync.engine import sweep

    [_first, (order_id, _po, lines)] = _orders(app, 2)
    pending = _ship(app, order_id, lines, "1ZWAITING0000001")  # not sent yet
    with app.app_context():  # … and waiting for more than 10 minutes
        db.session.execute(update(SyncTask).where(SyncTask.id == pending).values(
            created_at=utcnow() - timedelta(minutes=11),
            next_attempt_at=utcnow() + timedelta(minutes=5)))
        db.session.commit()
        sweep()
    signed_in("viewer")
    page = client.get("/stores/").text
    assert "Stuck over 10 min" in page and "Errors (24 h)" in page
    assert re.search(r">\s*1 stuck</a>", page)
    assert re.search(r">1 · 1 open</a>", page)
    assert "Last successful import" in page


EXPLAINED = [
    ("ship", "INVALID_REQUEST_CONTENT.GMP_ORDER_API", "data",
     "INVALID_REQUEST_CONTENT :: Failed when called shipConfirm API for 123. Qty OverShipped : "
     "Some or All Line(s)/Qty cannot be Shipped", "More units shipped"),
    ("ship", "INVALID_REQUEST_CONTENT.GMP_ORDER_API", "data",
     "Unable to process this request. The Line: 4 of PO: 123 is in SHIPPED status",
     "already shipped"),
    ("ship", "INVALID_REQUEST_CONTENT", "methodCode",
     "Method code is not supported in line number 1", "shipping method"),
    ("ship", "INVALID_REQUEST_CONTENT", "carrier", "Carrier name 'Pony' is not supported",
     "carrier"),
    ("ship", "INVALID_REQUEST_CONTENT.GMP_ORDER_API", "data",
     "Walmart cancelled line 1 (2 units, CUSTOMER_REQUESTED_SELLER_TO_CANCEL) before this "
     "shipment reached it. Walmart said: … Qty OverShipped …", "cancelled these lines"),
    ("ship", "INVALID_REQUEST_CONTENT", "trackingURL",
     "trackingURL is required when otherCarrier is used", "tracking URL is missing"),
    ("ship", "INVALID_REQUEST_CONTENT", "intentToCancelOverride",
     "The Line: 1 of PO: 1 has a buyer request to cancel", "buyer asked to cancel"),
    ("cancel", "INVALID_REQUEST_CONTENT.GMP_ORDER_API", "cancellationReason",
     "Invalid cancellationReason 'CUSTOMER_CHANGED_MIND'", "cancellation reason"),
    ("cancel", "INVALID_REQUEST_CONTENT", "data",
     "Unable to process this request. The Line: 1 of PO: 1 cannot cancel 1 unit(s): quantity "
     "is in SHIPPED status", "cannot be canceled"),
    ("refund", "INVALID_REQUEST_CONTENT", "data",
     "Requested quantity is not available. Please check if there is refundable quantity.",
     "will not refund"),
    ("acknowledge", "UNAUTHORIZED.GMP_GATEWAY_API", None, "Unauthorized token", "credentials"),
    ("inventory", "RATE_LIMITED", None, "Walmart's rate limit was reached", "rate limit"),
    ("ship", "HTTP_503", None, "Gave up after 15 attempts: 503 Service Unavailable",
     "did not answer properly"),
    ("ship", "SYSTEM_ERROR.GMP_ORDER_API", None, "Unexpected error", "did not answer properly"),
    ("ship", "CONTENT_NOT_FOUND.GMP_ORDER_API", None, "No order found", "cannot find"),
    ("ship", "INVALID_REQUEST_CONTENT", "data",
     "Unable to process this request. The Line: 1 of PO: 1 is not acknowledged",
     "not acknowledged"),
    ("ship", "SOMETHING_NEW", None, "A reason nobody has seen", "Walmart refused the update"),
]


@pytest.mark.parametrize(("kind", "code", "field", "message", "title"), EXPLAINED)
def test_each_walmart_error_gets_a_plain_explanation(kind, code, field, message, title):
    from webapp.models import SyncTask
    from webapp.services.sync.explain import explain

    task = SyncTask(kind=kind, target="1", last_error_code=code, last_error_field=field,
                    last_error_message=message)
    found = explain(task)
    assert title.lower() in found.title.lower(), found
    assert found.fix
    assert explain(SyncTask(kind="ship", target="1")) is None


def test_what_was_sent_is_summarised_without_secrets(app, shop, overshipped):
    from webapp.extensions import db
    from webapp.models import SyncTask
    from webapp.services.sync.explain import summary

    _order_id, _po, task_id = overshipped
    secret = shop[1].client_secret
    with app.app_context():
        task = db.session.get(SyncTask, task_id)
        lines = summary(task)
        assert lines and all("1Z999AA10123456784" in x for x in lines)
        assert secret not in str(task.payload) and secret not in " ".join(lines)
