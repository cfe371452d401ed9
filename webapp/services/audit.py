"""Recording who did what (append-only)."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from webapp.extensions import db
from webapp.models import AuditEvent, User


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
