"""The Returns list: returns matching a filter, most urgent first, with the status counts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.models import (
    Order,
    Refund,
    Return,
    ReturnLine,
    ReturnStatus,
    Store,
    SyncTask,
    TaskState,
)
from webapp.services.orders.dashboard import AWAITING_REFUND
from webapp.services.stores import lookup as store_lookup

PAGE = 200


@dataclass(frozen=True)
class ReturnFilter:
    status: ReturnStatus | None = None
    awaiting: bool = False  # Received, or a refund that failed (Home's "Awaiting refund")
    q: str = ""  # an RMA, customer order id, SKU, purchase order or order number; a name


@dataclass(frozen=True)
class ReturnList:
    rows: list[Return]
    counts: dict[str, int]  # returns per status, whatever the filter
    awaiting_count: int
    stores: list[Store]
    in_flight: bool  # a refund of a shown return is on its way to Walmart


def list_returns(f: ReturnFilter) -> ReturnList:
    """Returns matching `f`, the one to send back soonest first (at most PAGE)."""
    query = select(Return).options(selectinload(Return.lines).selectinload(ReturnLine.order))
    if f.status:
        query = query.where(Return.status == f.status)
    elif f.awaiting:
        query = query.where(Return.status.in_(AWAITING_REFUND))
    if f.q:
        q = f.q
        lines = select(ReturnLine.return_id).outerjoin(Order, ReturnLine.order_id == Order.id) \
            .where(or_(ReturnLine.sku == q, ReturnLine.purchase_order_id == q, Order.number == q))
        query = query.where(or_(Return.rma == q, Return.customer_order_id == q,
                                Return.customer_name.ilike(f"%{q}%"), Return.id.in_(lines)))
    rows = db.session.scalars(query.order_by(Return.return_by.asc(), Return.id).limit(PAGE)) \
        .unique().all()
    counts = dict(db.session.execute(select(Return.status, func.count(Return.id))
                                     .group_by(Return.status)).all())
    stores = store_lookup.by_name()
    in_flight = bool(rows) and db.session.scalar(
        select(Refund.id).join(SyncTask, Refund.task_id == SyncTask.id)
        .where(Refund.return_id.in_([r.id for r in rows]),
               SyncTask.state == TaskState.PENDING).limit(1)) is not None
    return ReturnList(rows=list(rows), counts=counts,
                      awaiting_count=sum(counts.get(s, 0) for s in AWAITING_REFUND),
                      stores=list(stores), in_flight=in_flight)


def get_return(return_id: int) -> Return | None:
    """A return with its lines and their orders (the return's page)."""
    return db.session.scalar(select(Return).where(Return.id == return_id).options(
        selectinload(Return.lines).selectinload(ReturnLine.order)))


def refunds_of(return_id: int) -> list[Refund]:
    """A return's refunds, oldest first, with their sync tasks."""
    return list(db.session.scalars(select(Refund).where(Refund.return_id == return_id)
                                   .order_by(Refund.id).options(selectinload(Refund.task))))
