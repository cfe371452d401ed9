"""Recording prints: who printed which orders, when, and what (slips or a pick list).

Recording is the one write a viewer may make (webapp/security.py): it changes nothing at
Walmart and nothing a sync reads — a print record, and each slipped order's `printed_at`,
which the Orders page's "Not yet printed" filter reads. `updated_at` (Last Update) is left
alone: printing is not a change of the order.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update

from webapp.extensions import db
from webapp.models import Order, PrintedOrder, PrintKind, PrintRecord, User
from webapp.models.base import utcnow
from webapp.services.errors import ActionRefused
from webapp.services.printing.documents import Document
from webapp.services.unit_of_work import action

HISTORY_PAGE = 50


@action
def record_print(document: Document, *, by: User | None, actor: str | None = None,
                 package_id: int | None = None) -> PrintRecord:
    """Record the print of a document's orders (those left out are not printed); packing
    slips mark each order printed now (printing one again is a new record)."""
    if not document.order_ids:
        reasons = "; ".join(f"{x.customer_order_id or x.number}: {x.reason}"
                            for x in document.left_out[:5])
        raise ActionRefused(f"Nothing to print — {reasons}." if reasons else
                            "Nothing to print.")
    now = utcnow()
    record = PrintRecord(kind=document.kind, user_id=by.id if by else None,
                         actor=actor or (by.email if by else "system"), created_at=now,
                         order_count=len(document.order_ids), package_id=package_id)
    record.orders = [PrintedOrder(order_id=order_id, position=n)
                     for n, order_id in enumerate(document.order_ids)]
    db.session.add(record)
    if document.kind == PrintKind.SLIPS:
        db.session.execute(update(Order).where(Order.id.in_(document.order_ids))
                           .values(printed_at=now).execution_options(synchronize_session=False))
    db.session.commit()
    return record


def order_ids_of(record: PrintRecord) -> list[int]:
    return [x.order_id for x in record.orders]


@dataclass(slots=True)
class OrderPrints:
    """An order's prints, for its page: how many, and the latest few."""
    count: int
    latest: list[PrintRecord]


def prints_of(order_id: int, limit: int = 3) -> OrderPrints:
    where = PrintedOrder.order_id == order_id
    count = db.session.scalar(select(func.count()).select_from(PrintedOrder).where(where))
    latest = list(db.session.scalars(
        select(PrintRecord).join(PrintedOrder).where(where)
        .order_by(PrintedOrder.record_id.desc()).limit(limit))) if count else []
    return OrderPrints(count or 0, latest)


def history(before: int | None = None) -> tuple[list[PrintRecord], int | None]:
    """The latest prints, newest first, a page at a time: (records, the cursor of the next)."""
    query = select(PrintRecord).order_by(PrintRecord.id.desc()).limit(HISTORY_PAGE + 1)
    if before:
        query = query.where(PrintRecord.id < before)
    records = list(db.session.scalars(query))
    more = len(records) > HISTORY_PAGE
    records = records[:HISTORY_PAGE]
    return records, (records[-1].id if more and records else None)

