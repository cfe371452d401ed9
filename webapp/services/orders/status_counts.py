"""Orders per status and store, kept by the database as orders are written.

Counting a million orders by status reads a million index entries (a tenth of a second) after
every write, and orders are written all day (each update that settles, each import page). So
triggers on `orders` (migration d5f9c1b7a345) add a +1 row for an order's (store, status) when
it is inserted or moves to it, and a -1 row when it leaves or is deleted, to
`order_status_deltas`: every write path is counted (the importer inserts orders in bulk through
Core, which ORM events would miss), and since each writer only inserts rows, concurrent writers
never wait on (or deadlock over) a shared counter row. The sweeper folds the rows into one per
(store, status) every minute, so a count reads a few dozen rows.
"""

from __future__ import annotations

from sqlalchemy import func, insert, select

from webapp.extensions import db
from webapp.models import OrderStatus, OrderStatusDelta


def per_status(store_id: int | None = None) -> dict[str, int]:
    """Orders per status, of one store or all: exact as of this transaction."""
    query = select(OrderStatusDelta.status, func.sum(OrderStatusDelta.delta)).group_by(
        OrderStatusDelta.status)
    if store_id:
        query = query.where(OrderStatusDelta.store_id == store_id)
    counts = {status: 0 for status in OrderStatus}
    counts.update({status: int(n) for status, n in db.session.execute(query) if status in counts})
    return counts


def fold() -> int:
    """Replace the rows by one per (store, status) with their sum (zeros dropped); returns how
    many rows were folded away. One transaction: DELETE … RETURNING takes exactly the rows this
    transaction can see, so a row committed meanwhile by another writer stays for next time;
    a reader sees the rows before or after, never half."""
    table = OrderStatusDelta.__table__
    removed = db.session.execute(table.delete().returning(
        table.c.store_id, table.c.status, table.c.delta)).all()
    sums: dict[tuple[int, str], int] = {}
    for store_id, status, delta in removed:
        sums[(store_id, status)] = sums.get((store_id, status), 0) + delta
    kept = [{"store_id": s, "status": st, "delta": n} for (s, st), n in sums.items() if n]
    if kept:
        db.session.execute(insert(table), kept)
    db.session.commit()
    return len(removed) - len(kept)
