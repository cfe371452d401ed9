"""The Audit log page: who did what, when, on which order; filters; append-only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from


def _ship_one(app, shop):
    from webapp.extensions import db
    from webapp.models import Order, User
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order

    with app.app_context():
        order = db.session.scalars(select(Order).where(Order.intent_to_cancel.is_(False))
                                   .order_by(Order.id)).first()
        user = db.session.scalars(select(User).order_by(User.id.desc())).first()
        ship_order(order.id, [PackageInput("1Z999AA10123456784", "Standard",
                                           {x.line_number: x.quantity for x in order.lines},
                                           "UPS")], utcnow(), by=user)
        return order.number, order.purchase_order_id


def test_audit_log_lists_actions_with_who_what_and_order(app, signed_in, client, auth, shop):
    auth.login("nobody@example.com", "wrong password")  # a failed sign-in is recorded too
    email = signed_in("operator")
    number, po = _ship_one(app, shop)
    page = client.get("/audit/").text
    assert "Audit log" in page and "Shipped" in page and "Signed in" in page
    assert "Failed sign-in" in page and "nobody@example.com" in page
    assert email in page and 'href="/orders/' in page and number in page
    # filters: by action, by user, by order (our number or Walmart's)
    shipped = client.get("/audit/?action=order.ship").text
    assert number in shipped and "Signed in</td>" not in shipped
    by_po = client.get(f"/audit/?order={po}").text
    assert "Shipped</td>" in by_po and "Failed sign-in</td>" not in by_po
    assert "No entry matches these filters." in client.get("/audit/?order=nope").text
    from webapp.extensions import db
    from webapp.models import User
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == email))
    mine = client.get(f"/audit/?user={user_id}").text
    assert "nobody@example.com" not in mine and "Shipped</td>" in mine
    # operators do not see addresses; admins do
    assert "<th>From</th>" not in page


def test_admins_see_where_from_and_viewers_cannot_open_it(signed_in, client, auth):
    signed_in("admin")
    assert "<th>From</th>" in client.get("/audit/").text
    auth.logout()
    signed_in("viewer")
    assert client.get("/audit/").status_code == 403


def test_retry_and_resolve_are_audited(app, signed_in, client, shop):
    from simulator import control
    from webapp.extensions import db
    from webapp.models import AuditEvent, Order
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order
    from webapp.services.sync.engine import process_task

    _store_id, seller = shop
    control.set_faults(seller.sim.conn, "shipping", reject_rate=1.0)
    with app.app_context():
        order = db.session.scalars(select(Order).where(Order.intent_to_cancel.is_(False))
                                   .order_by(Order.id)).first()
        number = order.number
        task_id = ship_order(order.id, [PackageInput("1Z999AA10123456784", "Standard",
                                                     {order.lines[0].line_number: 1}, "UPS")],
                             utcnow(), by=None, actor="test").task_id
        assert process_task(task_id).state == "error"
    signed_in("operator")
    token = csrf_from(client.get("/sync/").text)
    client.post(f"/sync/tasks/{task_id}/retry", data={"csrf_token": token})
    with app.app_context():
        assert process_task(task_id).state == "error"
    client.post(f"/sync/tasks/{task_id}/resolve", data={"csrf_token": token, "note": "done"})
    page = client.get(f"/audit/?order={number}").text
    assert "Retried update" in page and "Fixed in Seller Center" in page and "done" in page
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("sync.%")).order_by(AuditEvent.id)).all()
    assert actions == ["sync.retry", "sync.resolve"]


def test_audit_events_cannot_be_changed_or_deleted(app, make_user):
    from webapp.extensions import db
    from webapp.models import AuditEvent
    from webapp.models.audit import AuditImmutable

    make_user()
    with app.app_context():
        event = db.session.scalars(select(AuditEvent)).first()
        event.actor = "someone else"
        with pytest.raises(AuditImmutable):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.scalars(select(AuditEvent)).first())
        with pytest.raises(AuditImmutable):
            db.session.commit()
        db.session.rollback()
        assert db.session.scalars(select(AuditEvent)).first().actor != "someone else"


def test_no_code_path_updates_or_deletes_audit_events():
    """Append-only in the code too: no module outside the model issues an UPDATE or DELETE
    on audit events (bulk statements bypass the ORM guard)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    offenders = []
    for path in [*root.glob("webapp/**/*.py"), *root.glob("jobs/**/*.py")]:
        text = path.read_text()
        for needle in ("update(AuditEvent", "delete(AuditEvent", "audit_events SET",
                       "FROM audit_events", "query(AuditEvent).delete",
                       "query(AuditEvent).update"):
            if needle in text:
                offenders.append(f"{path.relative_to(root)}: {needle}")
    assert offenders == []


def test_audit_details_read_as_words_never_json(app, signed_in, client, shop):
    """What an entry holds reads as a person writes it: tracking numbers joined, units per
    line as "line 1 × 2", a cancellation reason in words, yes/no — no brackets or braces."""
    from webapp.extensions import db
    from webapp.services import audit

    signed_in("admin")
    number, _po = _ship_one(app, shop)
    with app.app_context():
        audit.record("return.refund", actor="test", subject="RMA1", amount="14.03",
                     lines={"1": 1, "2": 3}, restocked=[1, 2])
        audit.record("order.cancel", actor="test", subject=number,
                     was_reason="SELLER_CANCEL_PRICING_ERROR", read_only=True)
        db.session.commit()
    page = client.get("/audit/").text
    assert "1Z999AA10123456784" in page and '[&#34;1Z999AA10123456784' not in page
    assert "line 1 × 1, line 2 × 3" in page and "1, 2" in page
    assert "Pricing error" in page and "SELLER_CANCEL_PRICING_ERROR" not in page
    assert ">read only:</span> yes" in page
    details = page.split('class="details"')[1:]
    assert details and not any(c in d.split("</td>")[0] for d in details for c in "[]{}")


def test_every_action_recorded_has_words_on_the_audit_log():
    """Each action the code records (`audit.record("…")`, either of a conditional's two) has
    its label, so the Audit log never shows a code such as store.events_subscribe and each
    can be filtered on."""
    import re
    from pathlib import Path

    from webapp.services.audit import ACTION_LABELS

    root = Path(__file__).resolve().parent.parent / "webapp"
    recorded = set()
    for path in root.rglob("*.py"):
        for call in re.findall(r"audit\.record\(([^,]+),", path.read_text()):
            recorded |= set(re.findall(r'"([a-z_]+\.[a-z_]+)"', call))
    assert len(recorded) > 25
    assert sorted(recorded - set(ACTION_LABELS)) == []
