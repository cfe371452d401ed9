"""Recording who did what (append-only: this module adds events; nothing updates or deletes
them), and reading them back for the Audit log page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import has_request_context, request
from sqlalchemy import or_, select

from webapp.extensions import db
from webapp.models import AuditEvent, Order, User
from webapp.numbers import row_id


def record(action: str, *, user: User | None = None, actor: str | None = None,
           store_id: int | None = None, subject: str | None = None,
           **details: Any) -> AuditEvent:
    """Add an audit event to the current transaction; the caller's commit saves it."""
    event = AuditEvent(
        action=action,
        user_id=user.id if user else None,
        actor=actor or (user.email if user else "system"),
        store_id=store_id,
        subject=subject,
        details=details,
        remote_addr=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event


# What the Audit log calls each action.
ACTION_LABELS = {
    "auth.login": "Signed in", "auth.login_failed": "Failed sign-in", "auth.logout": "Signed out",
    "order.ship": "Shipped", "order.tracking_correction": "Corrected tracking",
    "order.ship_correction": "Corrected refused shipment",
    "order.cancel_correction": "Corrected refused cancellation",
    "order.cancel": "Canceled", "return.refund": "Refunded", "sync.retry": "Retried update",
    "sync.send_now": "Sent update now",
    "sync.resolve": "Fixed in Seller Center",
    "reconcile.run": "Started a reconciliation", "reconcile.adopt": "Adopted Walmart's state",
    "reconcile.send": "Sent ours again to Walmart", "stock.set": "Set stock",
    "stock.import": "Imported stock CSV", "store.create": "Added store",
    "store.update": "Changed store", "store.import": "Started import",
    "store.check": "Tested connection", "store.read_only": "Made store read-only",
    "store.read_write": "Made store read-write",
    "store.events_subscribe": "Subscribed to instant orders",
    "store.events_test": "Tested instant orders", "store.events_pause": "Paused instant orders",
    "store.events_resume": "Resumed instant orders",
    "store.events_unsubscribe": "Stopped instant orders",
    "user.create": "Added user", "user.role": "Changed role", "user.activate": "Reactivated user",
    "user.deactivate": "Deactivated user", "user.password": "Changed password",
}
PAGE_SIZE = 100


@dataclass(frozen=True)
class AuditFilter:
    user_id: int | None = None
    action: str | None = None
    order: str | None = None  # an order number or purchase order id (or any subject)

    @classmethod
    def parse(cls, args) -> AuditFilter:
        user, action = args.get("user", ""), args.get("action", "")
        return cls(user_id=row_id(user),
                   action=action if action in ACTION_LABELS else None,
                   order=args.get("order", "").strip()[:100] or None)

    def args(self, **changes) -> dict:
        values = {"user": self.user_id, "action": self.action, "order": self.order}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}


def events(f: AuditFilter, before: int | None = None) -> tuple[list[AuditEvent], int | None]:
    """Newest first, keyset by id; returns (events, the `before` of the next page)."""
    query = select(AuditEvent)
    if f.user_id:
        query = query.where(AuditEvent.user_id == f.user_id)
    if f.action:
        query = query.where(AuditEvent.action == f.action)
    if f.order:
        numbers = select(Order.number).where(or_(Order.number == f.order,
                                                 Order.purchase_order_id == f.order))
        query = query.where(or_(AuditEvent.subject == f.order,
                                AuditEvent.subject.in_(numbers)))
    if before:
        query = query.where(AuditEvent.id < before)
    rows = db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(PAGE_SIZE + 1)).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return list(rows), rows[-1].id if more else None


@dataclass(frozen=True)
class EventList:
    rows: list[AuditEvent]
    next_before: int | None  # the `before` of the next page; None: this is the last one
    orders: dict[str, int]  # order number → id, to link each event about an order to it
    users: list[User]  # everyone, for the filter


def list_events(f: AuditFilter, before: int | None = None) -> EventList:
    """One page of the Audit log, with what it links to and filters by."""
    rows, next_before = events(f, before)
    subjects = {e.subject for e in rows if e.subject}
    orders = dict(db.session.execute(select(Order.number, Order.id).where(
        Order.number.in_(subjects))).all()) if subjects else {}
    users = list(db.session.scalars(select(User).order_by(User.email)))
    return EventList(rows=rows, next_before=next_before, orders=orders, users=users)
