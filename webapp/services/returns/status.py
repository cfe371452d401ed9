"""A return's status: Received › Refunded, or Error when our refund failed."""

from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Refund, Return, ReturnStatus, TaskState
from webapp.services.returns.refund_amounts import refunded_total


def refresh(ret: Return) -> None:
    refunds = db.session.scalars(select(Refund).where(Refund.return_id == ret.id)
                                 .order_by(Refund.id.desc())).all() if ret.id else []
    tasks = [r.task for r in refunds if r.task is not None]  # none: made outside Orderdeck
    failed = next((t for t in tasks if t.state == TaskState.ERROR), None)
    if failed is not None:  # until retried successfully or resolved in Seller Center
        ret.status = ReturnStatus.ERROR
        ret.status_details = f"Walmart refused the refund: {failed.last_error_message}"
        return
    everything = all(x.refundable == 0 for x in ret.lines) and ret.lines
    ret.status = ReturnStatus.REFUNDED if everything else ReturnStatus.RECEIVED
    parts = []
    if any(t.state == TaskState.PENDING for t in tasks):
        parts.append("Sending refund to Walmart…")
    # The same figures the refunds show: price, tax and shipping, as Walmart refunds them.
    if done := refunded_total(refunds):
        parts.append(f"Refunded ${done:,.2f}")
    if any(r.task is None and r.created_by == "Walmart" for r in refunds) or any(
            (x.refund_channel or "").startswith("WALMART") for x in ret.lines):
        parts.append("Refunded by Walmart")
    ret.status_details = "; ".join(parts) or None
