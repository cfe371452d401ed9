"""Read-only stores: imported and shown, nothing sent to Walmart.

A seller tries Orderdeck beside the tool they use today by adding their store read-only: the
import reads everything, and nothing is ever sent — no acknowledgement, shipment, cancellation,
refund or stock push. Every action that would send something is refused with the message below
(services call `refuse_if_read_only` before changing anything; the outbox refuses too, as the
last line of defence, and the sync engine sends nothing for a read-only store's tasks).

Switching to read-write is an explicit, confirmed step: each waiting order is read back from
Walmart and acknowledged only if lines are still in Created there (the other tool may have
acknowledged it), and no stock is pushed until someone changes it (the other tool may own it).
"""

from __future__ import annotations

from sqlalchemy import exists, select

from webapp.extensions import db
from webapp.models import Order, OrderLine, Store, SyncTask, TaskKind, TaskState, User
from webapp.models.base import utcnow
from webapp.services import audit
from webapp.services.errors import StoreReadOnly
from webapp.services.orders import status as order_status
from webapp.services.sync import outbox
from webapp.services.unit_of_work import action

# The sync engine parks a read-only store's pending tasks under this code (sending nothing).
PARKED = "READ_ONLY"
PARK_SECONDS = 3600  # the sweeper re-offers them hourly; switching to read-write wakes them
READ_BACK_NOTE = ("Queued when the store was switched to read-write: Walmart is read back "
                  "first, and only lines still in Created there are acknowledged.")


def refuse_if_read_only(store: Store | None) -> None:
    """Refuse an action that would send something to Walmart for a read-only store."""
    if store is not None and store.read_only:
        raise StoreReadOnly(store.name)


@action
def set_read_only(store: Store, *, by: User | None) -> Store:
    """Stop sending anything for this store. Tasks already pending wait (the sync engine sends
    nothing for a read-only store) until it is switched back."""
    if store.read_only:
        return store
    store.read_only = True
    audit.record("store.read_only", user=by, store_id=store.id, subject=store.name)
    db.session.commit()
    return store


def waiting_orders(store: Store) -> list[Order]:
    """Orders imported while read-only that Walmart may still hold in Created: a line neither
    acknowledged, shipped nor canceled in our last view, and no acknowledgement on its way."""
    open_unacknowledged = exists().where(
        OrderLine.order_id == Order.id, OrderLine.acknowledged.is_(False),
        OrderLine.quantity > OrderLine.shipped_qty + OrderLine.canceled_qty)
    acknowledging = exists().where(SyncTask.order_id == Order.id,
                                   SyncTask.kind == TaskKind.ACKNOWLEDGE,
                                   SyncTask.state == TaskState.PENDING)
    return list(db.session.scalars(select(Order).where(
        Order.store_id == store.id, open_unacknowledged, ~acknowledging).order_by(Order.id)))


@action
def set_read_write(store: Store, *, by: User | None) -> int:
    """Start sending for this store; returns how many waiting orders are read back (and
    acknowledged where Walmart still shows lines in Created)."""
    if not store.read_only:
        return 0
    store.read_only = False
    orders = waiting_orders(store)
    for order in orders:
        task = outbox.add_task(store.id, TaskKind.ACKNOWLEDGE, order.purchase_order_id,
                               order=order, urgent=False)
        # Read back before sending: the other tool may have acknowledged it meanwhile.
        task.ambiguous, task.note = True, READ_BACK_NOTE
        order_status.refresh(order)
        order.updated_at = utcnow()
    waiting = db.session.scalars(select(SyncTask).where(
        SyncTask.store_id == store.id, SyncTask.state == TaskState.PENDING,
        SyncTask.last_error_code == PARKED)).all()
    for task in waiting:  # held back while read-only: due now
        task.next_attempt_at, task.last_error_code, task.last_error_message = utcnow(), None, None
    outbox.start(waiting)
    audit.record("store.read_write", user=by, store_id=store.id, subject=store.name,
                 read_back=len(orders))
    db.session.commit()
    return len(orders)
