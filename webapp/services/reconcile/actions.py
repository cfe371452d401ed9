"""What a person does with a difference the reconciliation found.

Adopt Walmart's state: a job reads Walmart again (the finding may be stale) under the
reconciliation's buckets and makes Orderdeck's record what Walmart shows — the line's
quantities and tracking numbers, a return's refunded units, a SKU's available stock — then
compares again, which closes the finding. It sends nothing to Walmart.

Send ours again: an update through the sync engine, marked to read Walmart back before it
sends (so nothing is sent twice): the shipment's packages Walmart lacks, the cancellation, the
acknowledgement, the SKU's stock. Refused for a read-only store, and where there is nothing of
ours to send (Walmart shows more done than we do) or Walmart takes no such update.

Viewers do neither (the views need an operator)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from jobs.queue import enqueue_reconcile, enqueue_reconcile_adopt  # the enqueue adapter
from webapp.extensions import db
from webapp.models import (
    Cancellation,
    OrderLine,
    Return,
    Shipment,
    ShipmentLine,
    ShipmentPackage,
    SkuStock,
    Store,
    SyncTask,
    TaskKind,
    TaskState,
    User,
    WalmartDifference,
)
from webapp.models.base import utcnow
from webapp.services import audit
from webapp.services.errors import ActionRefused
from webapp.services.orders import storing
from webapp.services.orders.walmart_shipments import _key
from webapp.services.reconcile import compare, findings, run
from webapp.services.reconcile.findings import SOURCE, explain
from webapp.services.reconcile.run import ORDER_BUCKET, RETURNS_BUCKET, STOCK_BUCKET
from webapp.services.returns import importer as returns_importer
from webapp.services.returns import status as return_status
from webapp.services.returns.linking import link_order
from webapp.services.stock import levels as stock_levels
from webapp.services.stock import ship_nodes
from webapp.services.stores.mode import refuse_if_read_only
from webapp.services.stores.walmart_access import client_for
from webapp.services.sync import outbox, rate_limit
from webapp.services.unit_of_work import action
from webapp.walmart import RateLimited, WalmartError, payloads
from webapp.walmart.enums import CANCELLATION_CODES

log = logging.getLogger(__name__)
ADOPTING, SENDING = "adopt", "send"
ADOPT_TRIES = 3


@action
def reconcile_now(store_id: int | None, *, by: User | None,
                  days: int | None = None) -> list:
    """"Reconcile now": a pass of the store (every store when None), unless one is going;
    returns [(run, started)]. Reading Walmart sends nothing: read-only stores reconcile too."""
    ids = [store_id] if store_id is not None else list(db.session.scalars(
        select(Store.id).order_by(Store.id)))
    if store_id is not None and db.session.get(Store, store_id) is None:
        raise ActionRefused("There is no such store.")
    started = []
    for sid in ids:
        found, new = run.start(sid, "person" if by else "cli", days)
        if new:
            audit.record("reconcile.run", user=by, store_id=sid, days=found.days)
        started.append((found, new))
    db.session.commit()
    for found, new in started:
        if new:
            enqueue_reconcile(found.id)
    return started


def _open(finding_id: int) -> WalmartDifference:
    d = db.session.get(WalmartDifference, finding_id)
    if d is None or d.source != SOURCE:
        raise ActionRefused("There is no such difference.")
    if d.resolved_at is not None:
        raise ActionRefused("Orderdeck and Walmart agree on this already: nothing to do.")
    if d.action == ADOPTING and not d.action_error:
        raise ActionRefused("Walmart's state is being adopted already.")
    return d


def _subject(d: WalmartDifference) -> str:
    return d.order.number if d.order else d.sku or ""


def _claim(d: WalmartDifference) -> None:
    """Take the difference for this action, or refuse: two people (or a double click) acting
    on it at once both read it open, and only the first to move its action time on wins —
    the other would queue a second read or a second update."""
    read_at = WalmartDifference.action_at
    moved = db.session.execute(
        update(WalmartDifference).where(
            WalmartDifference.id == d.id,
            read_at.is_(None) if d.action_at is None else read_at == d.action_at)
        .values(action_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if not moved:
        db.session.rollback()
        raise ActionRefused("Someone acted on this difference just now: the page shows what "
                            "is on its way.")


def _mark(d: WalmartDifference, what: str, by: User | None, task_id: int | None = None
          ) -> None:
    d.action, d.action_at, d.action_by_id = what, utcnow(), by.id if by else None
    d.action_task_id, d.action_error = task_id, None


@action
def adopt(finding_id: int, *, by: User | None) -> WalmartDifference:
    """Adopt Walmart's state for this difference: a job reads Walmart again and applies it.
    Nothing is sent to Walmart, so a read-only store may adopt too."""
    d = _open(finding_id)
    if explain(d).adopt is None:
        raise ActionRefused("There is nothing of Walmart's to adopt for this.")
    _claim(d)
    _mark(d, ADOPTING, by)
    audit.record("reconcile.adopt", user=by, store_id=d.store_id, subject=_subject(d),
                 kind=d.kind, ours=d.ours, walmart=d.walmart)
    db.session.commit()
    enqueue_reconcile_adopt(d.id)
    return d


@action
def send_again(finding_id: int, *, by: User | None) -> WalmartDifference:
    """Send Orderdeck's state to Walmart again, through the sync engine (read back first)."""
    d = _open(finding_id)
    store = db.session.get(Store, d.store_id)
    refuse_if_read_only(store)
    why = explain(d)
    if why.send is None:
        raise ActionRefused(why.why_no_send or "There is nothing of ours to send for this.")
    _claim(d)
    task = _SENDERS[d.kind](d)
    if task is not None:
        task.ambiguous = True  # the engine reads Walmart back before it sends
    db.session.flush()  # (the task's id)
    _mark(d, SENDING, by, task.id if task is not None else None)
    audit.record("reconcile.send", user=by, store_id=d.store_id, subject=_subject(d),
                 kind=d.kind, ours=d.ours, walmart=d.walmart,
                 task=task.id if task is not None else None)
    db.session.commit()
    return d


def sending(shown: list[WalmartDifference]) -> bool:
    """Any of these differences has an update of ours on its way (the page polls)."""
    ids = [d.action_task_id for d in shown if d.action == SENDING and d.action_task_id]
    return bool(ids) and db.session.scalar(select(SyncTask.id).where(
        SyncTask.id.in_(ids), SyncTask.state == TaskState.PENDING).limit(1)) is not None


def _line(d: WalmartDifference) -> OrderLine:
    line = d.order_line
    if line is None:
        raise ActionRefused("This line is not in Orderdeck's order: there is nothing to send.")
    return line


def _send_shipment(d: WalmartDifference):
    """Our packages of the line whose tracking numbers Walmart does not show on it."""
    line = _line(d)
    order = d.order
    at_walmart = {_key(n) for n in (d.detail or {}).get("walmart_numbers", [])}
    rows = db.session.execute(
        select(ShipmentPackage, ShipmentLine.quantity, Shipment)
        .join(ShipmentLine, ShipmentLine.package_id == ShipmentPackage.id)
        .join(Shipment, Shipment.id == ShipmentPackage.shipment_id)
        .where(ShipmentLine.order_line_id == line.id).order_by(ShipmentPackage.id)).all()
    missing = (d.detail or {}).get("ours", 0) - (d.detail or {}).get("walmart", 0)
    packages, override = [], False
    for package, quantity, shipment in rows:
        if _key(package.tracking_number) in at_walmart or missing <= 0:
            continue
        take = min(quantity, missing)
        missing -= take
        override = override or shipment.intent_to_cancel_override or line.intent_to_cancel
        packages.append(payloads.Package(
            tracking_number=package.tracking_number, method_code=package.method_code,
            ship_time=shipment.ship_time, lines=((line.line_number, take),),
            carrier=package.carrier, other_carrier=package.other_carrier,
            tracking_url=package.tracking_url))
    if not packages:
        raise ActionRefused("Orderdeck has no shipment of this line to send again (no "
                            "tracking number recorded): ship it from the order page.")
    try:
        body = payloads.shipment(packages, order.number or order.purchase_order_id,
                                 intent_to_cancel_override=override)
    except payloads.PayloadError as exc:
        raise ActionRefused(f"Orderdeck's shipment cannot be sent as it is: {exc}.") from exc
    return outbox.add_task(order.store_id, TaskKind.SHIP, order.purchase_order_id,
                           order=order, payload=body)


def _send_cancellation(d: WalmartDifference):
    line = _line(d)
    order = d.order
    units = (d.detail or {}).get("ours", 0) - (d.detail or {}).get("walmart", 0)
    reason = line.cancellation_reason
    if reason not in CANCELLATION_CODES:
        reason = db.session.scalar(select(Cancellation.reason).where(
            Cancellation.order_id == order.id).order_by(Cancellation.id.desc()).limit(1))
    if reason not in CANCELLATION_CODES or units <= 0:
        raise ActionRefused("Orderdeck has no cancellation reason for these units: cancel them "
                            "from the order page.")
    body = payloads.cancellation([(line.line_number, units)], reason)
    return outbox.add_task(order.store_id, TaskKind.CANCEL, order.purchase_order_id,
                           order=order, payload=body)


def _send_acknowledgement(d: WalmartDifference):
    order = d.order
    return outbox.add_task(order.store_id, TaskKind.ACKNOWLEDGE, order.purchase_order_id,
                           order=order)


def _send_stock(d: WalmartDifference):
    held = findings.stock_row(d)
    if held is None or not held.tracked:
        raise ActionRefused("This SKU's stock is not tracked here any more: nothing to send.")
    task = stock_levels.request_push(held)
    if task is None:  # one is waiting already: it reads the quantity when it is sent
        return None
    return task


_SENDERS = {"shipped": _send_shipment, "canceled": _send_cancellation,
            "acknowledged": _send_acknowledgement, compare.STOCK: _send_stock}


# -- the adopt job ---------------------------------------------------------------------------

def run_adopt(finding_id: int, attempt: int = 1) -> datetime | None:
    """Read Walmart again and adopt its state for the finding (the job); returns when to try
    again (a bucket empty, or Walmart failing), None when done or given up."""
    d = db.session.get(WalmartDifference, finding_id)
    if d is None or d.resolved_at is not None or d.action != ADOPTING or d.action_error:
        return None
    store = db.session.get(Store, d.store_id)
    try:
        client = client_for(store)
        if d.kind == compare.STOCK:
            _adopt_stock(d, store, client)
        elif d.kind == compare.REFUNDED:
            _adopt_refund(d, store, client)
        else:
            _adopt_order(d, store, client)
    except _Later as later:
        db.session.rollback()
        return later.at
    except RateLimited as exc:
        db.session.rollback()
        return exc.retry_at
    except (WalmartError, ActionRefused) as exc:
        db.session.rollback()
        d = db.session.get(WalmartDifference, finding_id)
        if attempt < ADOPT_TRIES and not isinstance(exc, ActionRefused):
            return utcnow() + timedelta(seconds=5 * attempt)
        d.action_error = f"Walmart could not be read to adopt its state: {exc}" \
            if isinstance(exc, WalmartError) else str(exc)
        db.session.commit()
        return None
    d = db.session.get(WalmartDifference, finding_id)
    if d.resolved_at is None:  # Walmart changed again meanwhile: the new difference shows
        d.action_error = "Walmart's state was adopted, but it still differs: see what it " \
                         "shows now."
    db.session.commit()
    return None


class _Later(Exception):
    def __init__(self, at: datetime) -> None:
        super().__init__("later")
        self.at = at


def _take(store: Store, bucket: str) -> None:
    took = rate_limit.take(store, bucket, urgent=True)  # a person is waiting
    if not took.allowed:
        raise _Later(utcnow() + timedelta(seconds=took.wait_seconds))


def _adopt_order(d: WalmartDifference, store: Store, client) -> None:
    order = d.order
    _take(store, ORDER_BUCKET)
    data = client.get_order(order.purchase_order_id)
    theirs = data.line((d.detail or {}).get("line") or "")
    line = d.order_line
    if line is not None and theirs is not None:
        node = ship_nodes.stock_node(store, order.ship_node)
        was_open = line.open_qty
        if d.kind in ("shipped", "tracking"):
            _forget_shipments(line, compare.walmart_numbers(theirs))
        if d.kind == "shipped":
            line.shipped_qty = compare.walmart_shipped(theirs)
        elif d.kind == "canceled":
            line.canceled_qty = theirs.quantity_in("Cancelled")
        elif d.kind == "ordered":
            line.quantity = theirs.quantity
        if line.open_qty != was_open:  # units open again (or no more): stock follows
            stock_levels.change_reserved(store.id, line.sku, line.open_qty - was_open, node)
        db.session.flush()
    storing.upsert(store, data)  # Walmart's view (and its shipments) stored as an import would
    findings.compare_order(order, data)


def _forget_shipments(line: OrderLine, walmart_numbers: set[str]) -> None:
    """Our shipment lines of `line` under tracking numbers Walmart does not show on it (the
    import then records Walmart's own); packages and shipments left empty go too."""
    rows = db.session.execute(
        select(ShipmentLine.id, ShipmentPackage.id, ShipmentPackage.tracking_number,
               ShipmentPackage.shipment_id)
        .join(ShipmentPackage, ShipmentPackage.id == ShipmentLine.package_id)
        .where(ShipmentLine.order_line_id == line.id)).all()
    gone = [row for row in rows if _key(row[2]) not in walmart_numbers]
    if not gone:
        return
    db.session.execute(delete(ShipmentLine).where(ShipmentLine.id.in_([r[0] for r in gone])))
    for package_id in {r[1] for r in gone}:
        if db.session.scalar(select(ShipmentLine.id).where(
                ShipmentLine.package_id == package_id).limit(1)) is None:
            db.session.execute(delete(ShipmentPackage).where(ShipmentPackage.id == package_id))
    for shipment_id in {r[3] for r in gone}:
        if db.session.scalar(select(ShipmentPackage.id).where(
                ShipmentPackage.shipment_id == shipment_id).limit(1)) is None:
            db.session.execute(delete(Shipment).where(Shipment.id == shipment_id))
    db.session.expire_all()


def _adopt_refund(d: WalmartDifference, store: Store, client) -> None:
    rmas = (d.detail or {}).get("rmas") or []
    read = []
    for rma in rmas:
        _take(store, RETURNS_BUCKET)
        read.extend(client.returns(returnOrderId=rma).returns)
    line = d.order_line
    for data in read:
        ours = db.session.scalar(select(Return).where(Return.store_id == store.id,
                                                      Return.rma == data.return_order_id))
        if ours is not None:  # Walmart's count, lower or higher, becomes ours
            counts = {x.return_line_number: x.refunded_quantity for x in data.lines}
            for x in ours.lines:
                if x.number in counts and counts[x.number] < x.refunded_qty:
                    x.refunded_qty = counts[x.number]
            db.session.flush()
        ret, _created = returns_importer.upsert(store, data)
        return_status.refresh(ret)
    order = d.order
    link_order(order)
    total = sum(x.refunded_quantity for data in read for x in data.lines
                if x.purchase_order_id == order.purchase_order_id
                and str(x.purchase_order_line_number) == (d.detail or {}).get("line"))
    db.session.flush()
    db.session.refresh(line)
    found = compare.refunded(line, line.refunded_qty, total, rmas, (d.detail or {}).get("line"))
    findings.settle(store.id, [d], [found] if found else [], order_id=order.id)
    findings.refresh_flag(order)


def _adopt_stock(d: WalmartDifference, store: Store, client) -> None:
    held: SkuStock | None = findings.stock_row(d)
    if held is None or not held.tracked:
        raise ActionRefused("This SKU's stock is not tracked here any more.")
    _take(store, STOCK_BUCKET)
    level = client.inventory_level(held.sku, ship_nodes.push_node(store, held.ship_node))
    amount = level.amount if level is not None else 0
    old = held.on_hand
    held.on_hand = amount + (held.reserved or 0)
    held.pushed_quantity, held.pushed_at = (level.amount if level is not None else None,
                                            utcnow())
    audit.record("stock.set", actor="reconciliation", store_id=store.id, subject=held.sku,
                 old=old, new=held.on_hand, **({"ship_node": held.ship_node}
                                               if held.ship_node else {}))
    found = compare.stock(held, level)
    findings.settle(store.id, [d], [found] if found else [], sku=held.sku,
                    ship_node=held.ship_node)
