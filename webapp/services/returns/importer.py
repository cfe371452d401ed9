"""Returns import: Walmart's returns, upserted by RMA and linked to their orders."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from jobs.queue import (
    enqueue_returns_import,  # the enqueue adapter; services never import job tasks
)
from webapp.extensions import db, redis_connection
from webapp.models import (
    Order,
    Refund,
    Return,
    ReturnLine,
    ReturnStatus,
    Store,
    SyncTask,
    TaskKind,
    TaskState,
)
from webapp.models.base import utcnow
from webapp.services.orders.importer import ImportDeferred
from webapp.services.returns import refund_amounts
from webapp.services.returns.linking import link_order
from webapp.services.returns.status import refresh as refresh_return
from webapp.services.stores import health as store_health
from webapp.services.stores.credentials import record_refusal, resume_updates
from webapp.services.stores.walmart_access import client_for
from webapp.services.sync import rate_limit
from webapp.services.sync.task_kinds import KINDS
from webapp.services.text_fit import fit, fit_one
from webapp.walmart import AuthenticationError
from webapp.walmart.schema_returns import ReturnOrder

OVERLAP = timedelta(minutes=10)
FIRST_WINDOW = timedelta(days=90)


def _line_for(store_id: int, po: str | None, number: int | None):
    if not po:
        return None, None
    order = db.session.scalar(select(Order).where(Order.store_id == store_id,
                                                  Order.purchase_order_id == po))
    if order is None or number is None:
        return order, None
    line = next((x for x in order.lines if x.line_number == str(number)), None)
    return order, line


def upsert(store: Store, data: ReturnOrder) -> tuple[Return, bool]:
    """Create or update a return from Walmart's view; link each line to its order line."""
    ret = db.session.scalar(select(Return).where(Return.store_id == store.id,
                                                 Return.rma == data.return_order_id))
    created = ret is None
    if created:
        ret = Return(store_id=store.id, rma=data.return_order_id)
        db.session.add(ret)
    ret.customer_order_id = fit_one(Return, "customer_order_id", data.customer_order_id)
    ret.customer_name = fit_one(Return, "customer_name", data.customer_name) or None
    ret.requested_at, ret.return_by = data.return_order_date, data.return_by_date
    ret.total_refund_amount, ret.currency = data.total_refund_amount, data.currency
    by_number = {x.number: x for x in ret.lines}
    orders: set[Order] = set()
    elsewhere: dict[str, dict[int, refund_amounts.LineAmount]] = {}
    for item in data.lines:
        line = by_number.get(item.return_line_number)
        order, order_line = _line_for(store.id, item.purchase_order_id,
                                      item.purchase_order_line_number)
        if line is None:
            line = ReturnLine(number=item.return_line_number, quantity=item.quantity,
                              refunded_qty=0)
            ret.lines.append(line)
        line.order_id = order.id if order else None
        line.order_line_id = order_line.id if order_line else None
        text = fit(ReturnLine, {"purchase_order_id": item.purchase_order_id, "sku": item.sku,
                                "product_name": item.product_name, "reason": item.reason})
        line.purchase_order_id = text["purchase_order_id"]
        line.purchase_order_line = item.purchase_order_line_number
        line.sku, line.product_name = text["sku"], text["product_name"]
        line.reason, line.quantity = text["reason"], item.quantity
        line.unit_price = item.unit_price or (order_line.unit_price if order_line else 0)
        if item.line_total is not None:  # what Walmart refunds for the whole quantity
            line.tax_total, line.shipping_total = item.tax_total, item.shipping_total
            line.line_total = item.line_total
        line.refund_channel = fit_one(ReturnLine, "refund_channel",
                                      item.refund_channel) or line.refund_channel
        # Walmart's count wins when it is ahead: refunded outside Orderdeck (by Walmart, or
        # by the seller in Seller Center), recorded as such a refund with its figures.
        extra = item.refunded_quantity - (line.refunded_qty or 0)
        if extra > 0:
            who = refund_amounts.channel_label(line.refund_channel)
            elsewhere.setdefault(who, {})[line.number] = refund_amounts.for_units(line, extra)
            line.refunded_qty = item.refunded_quantity
        if order is not None:
            orders.add(order)
    db.session.flush()
    if ret.status == ReturnStatus.ERROR:
        _settle_failed_refunds(ret, data)
    for who, amounts in sorted(elsewhere.items()):
        db.session.add(Refund(
            return_id=ret.id, task=None, amount=refund_amounts.total(list(amounts.values())),
            lines={str(n): a.units for n, a in amounts.items()},
            amounts={str(n): a.as_json() for n, a in amounts.items()},
            restocked=[], expected={}, created_by=who))
    db.session.flush()
    refresh_return(ret)
    for order in orders:
        link_order(order)
    return ret, created


def _settle_failed_refunds(ret: Return, data: ReturnOrder) -> None:
    """A refund of ours Walmart refused, which Walmart's return now shows done (refunded in
    Seller Center, or by Walmart itself): settled as the read-back of a Retry would settle
    it, so the return stops reading Error and waiting on Home for a refund already made."""
    refund_kind = KINDS[TaskKind.REFUND]
    failed = db.session.scalars(select(SyncTask).join(Refund, Refund.task_id == SyncTask.id)
                                .where(Refund.return_id == ret.id,
                                       SyncTask.state == TaskState.ERROR)).all()
    settled = []
    for task in failed:
        if not refund_kind.applied(task, data):
            continue
        # Only while it is still failed (as Retry and Fixed in Seller Center move it): a
        # person acting on it at this moment wins, and this import leaves it to them.
        moved = db.session.execute(
            update(SyncTask).where(SyncTask.id == task.id,
                                   SyncTask.state == TaskState.ERROR)
            .values(state=TaskState.SYNCED, synced_at=utcnow(), ambiguous=False,
                    last_error_code=None, last_error_field=None, last_error_message=None,
                    note=f"Synced by read-back: {refund_kind.read_back_note} (found by the "
                         "returns import).")
            .execution_options(synchronize_session=False))
        if moved.rowcount == 1:
            db.session.refresh(task)
            settled.append(task)
    if settled:
        db.session.flush()
        store_health.forget_banner()


def import_returns(store_id: int) -> int:
    """One returns pass (every page since the watermark); returns how many were read."""
    lock = redis_connection().lock(f"orderdeck:returns-lock:{store_id}", timeout=600,
                                   blocking=False)
    if not lock.acquire():
        return 0
    try:
        store = db.session.get(Store, store_id)
        client = client_for(store)
        started = utcnow()
        since = (store.returns_watermark or started - FIRST_WINDOW) - OVERLAP
        seen = 0
        took = rate_limit.take(store, "returns")
        if not took.allowed:
            raise ImportDeferred(took.wait_seconds)
        # Both bounds: Walmart refuses a lone start date. The end is rounded up a second, as
        # the query carries whole seconds and nothing changed this second may be left out.
        until = started + timedelta(seconds=1)
        try:
            for page in client.iter_return_pages(returnLastModifiedStartDate=since,
                                                 returnLastModifiedEndDate=until):
                for data in page.returns:
                    with db.session.begin_nested():
                        upsert(store, data)
                    seen += 1
                db.session.commit()
        except AuthenticationError as exc:  # the store shows it; its updates wait
            db.session.rollback()
            record_refusal(store, exc)
            raise
        store.returns_watermark, store.last_returns_import_at = started, utcnow()
        db.session.commit()
        if store.credentials_problem:  # Walmart took the credentials: paused updates resume
            resume_updates(store.id)
        return seen
    finally:
        try:
            lock.release()
        except Exception:  # expired: nothing to undo
            pass





def request_returns_import() -> int:
    """Queue a returns pass of every store whose import is on (a person's Import now); a store
    with import switched off is left alone, as the schedule leaves it. Returns how many."""
    ids = db.session.scalars(select(Store.id).where(Store.import_enabled.is_(True))
                             .order_by(Store.id)).all()
    for store_id in ids:
        enqueue_returns_import(store_id)
    return len(ids)
