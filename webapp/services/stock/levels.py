"""Stock per store, SKU and ship node, and pushing the available quantity to Walmart."""

from __future__ import annotations

import csv
import io

from sqlalchemy import bindparam, case, func, select, tuple_, update

from webapp.extensions import db
from webapp.models import SkuStock, Store, SyncTask, TaskKind, TaskState, User
from webapp.numbers import MAX_QUANTITY, digits, whole
from webapp.services import audit
from webapp.services.errors import ActionRefused
from webapp.services.stock import ship_nodes
from webapp.services.stores.mode import refuse_if_read_only
from webapp.services.sync import outbox
from webapp.services.unit_of_work import action

MAX_SKU = 100  # the column's size


def get_or_create(store_id: int, sku: str, node: str = "") -> SkuStock:
    """The SKU's stock row at a ship node ("" = the default node); a SKU seen there for the
    first time starts untracked."""
    stock = db.session.scalar(select(SkuStock).where(
        SkuStock.store_id == store_id, SkuStock.sku == sku, SkuStock.ship_node == node))
    if stock is None:
        stock = SkuStock(store_id=store_id, sku=sku, ship_node=node, on_hand=None, reserved=0)
        db.session.add(stock)
    return stock


def _read_only(store_id: int) -> bool:
    store = db.session.get(Store, store_id)
    return bool(store and store.read_only)


# An inventory task's target is the SKU; the stock row's ship node rides in its payload as
# "shipNode" (absent = the default node "").
TASK_NODE = func.coalesce(SyncTask.payload["shipNode"].as_string(), "")


def task_node(task: SyncTask) -> str:
    """The ship node of an inventory task's stock row ("" = the store's default node)."""
    return (task.payload or {}).get("shipNode") or ""


def request_push(stock: SkuStock) -> SyncTask | None:
    """Ask for the SKU's available quantity at its node to reach Walmart.

    At most one push per SKU and node waits to be sent: it reads the quantity when it is sent,
    so twenty quick changes send one or two updates. A push already being sent does not count
    as waiting (the change may come after its read): the new one goes after it.
    """
    if not stock.tracked or _read_only(stock.store_id):  # a read-only store pushes nothing
        return None
    # Read through ix_sync_tasks_pending: the SKU's pending pushes, never its history.
    waiting = db.session.scalar(select(SyncTask.id).where(
        SyncTask.store_id == stock.store_id, SyncTask.kind == TaskKind.INVENTORY,
        SyncTask.target == stock.sku, TASK_NODE == stock.ship_node,
        SyncTask.state == TaskState.PENDING, SyncTask.lease_until.is_(None)).limit(1))
    if waiting is not None:
        return None
    return outbox.add_task(stock.store_id, TaskKind.INVENTORY, stock.sku,
                           payload={"shipNode": stock.ship_node} if stock.ship_node else None)


def _floor0(expression):
    return case((expression < 0, 0), else_=expression)


def adjust(store_id: int, sku: str, reserved: int = 0, on_hand: int = 0,
           node: str = "") -> SkuStock:
    """Add to reserved and on hand at a node in SQL (never below 0), so concurrent changes
    from an import and a person never overwrite each other; push when available may have
    changed."""
    stock = get_or_create(store_id, sku, node)
    db.session.flush()
    values = {}
    if reserved:
        values["reserved"] = _floor0(SkuStock.reserved + reserved)
    if on_hand:
        values["on_hand"] = case((SkuStock.on_hand.is_(None), None),
                                 else_=_floor0(SkuStock.on_hand + on_hand))
    if values:
        db.session.execute(update(SkuStock).where(SkuStock.id == stock.id).values(**values)
                           .execution_options(synchronize_session=False))
        db.session.refresh(stock, ["reserved", "on_hand"])
    if reserved != on_hand:  # shipping lowers both alike: available stays the same
        request_push(stock)
    return stock


def change_reserved(store_id: int, sku: str, delta: int, node: str = "") -> SkuStock:
    """Reserve (positive) or release (negative) units at a node; a tracked SKU's change is
    pushed."""
    return adjust(store_id, sku, reserved=delta, node=node)


def reserve_many(store_id: int, deltas: dict[tuple[str, str], int]) -> None:
    """change_reserved() for an import page's (SKU, node) pairs in a few statements: their
    rows read, the missing ones inserted, every node's changes applied; tracked rows get their
    push."""
    changes = {key: delta for key, delta in deltas.items() if delta}
    if not changes:
        return
    rows = {(row.sku, row.ship_node): row for row in db.session.scalars(select(SkuStock).where(
        SkuStock.store_id == store_id,
        tuple_(SkuStock.sku, SkuStock.ship_node).in_(list(changes))))}
    if missing := sorted(set(changes) - set(rows)):
        db.session.execute(SkuStock.__table__.insert(), [
            {"store_id": store_id, "sku": sku, "ship_node": node, "on_hand": None, "reserved": 0}
            for sku, node in missing])
    for node in sorted({node for _sku, node in changes}):  # one statement per node (few)
        at_node = {sku: delta for (sku, n), delta in changes.items() if n == node}
        db.session.execute(update(SkuStock).where(
            SkuStock.store_id == store_id, SkuStock.ship_node == node,
            SkuStock.sku.in_(at_node))
            .values(reserved=_floor0(SkuStock.reserved +
                                     case(at_node, value=SkuStock.sku, else_=0)))
            .execution_options(synchronize_session=False))
    for key in sorted(rows):
        db.session.expire(rows[key], ["reserved"])
        request_push(rows[key])  # (a SKU seen for the first time is untracked)


def _quantity(value) -> int:
    text = str(value).strip()
    amount = whole(text, MAX_QUANTITY)
    if amount is None:
        shown = text if len(text) <= 20 else text[:20] + "…"  # the message rides in a cookie
        raise ActionRefused(f"On hand must be a whole number from 0 to {MAX_QUANTITY:,}, "
                            f"not {shown!r}.", field="on_hand")
    return amount


def _sku(value) -> str:
    sku = (value or "").strip()
    if not sku:
        raise ActionRefused("Give the SKU.", field="sku")
    if len(sku) > MAX_SKU or not sku.isprintable():
        raise ActionRefused(f"A SKU is at most {MAX_SKU} printable characters.", field="sku")
    return sku


@action
def set_on_hand(store_id: int, sku: str, quantity, *, by: User | None,
                actor: str | None = None, node: str | None = None) -> SkuStock:
    """Set what is on the shelf at a ship node (none named: the default node); the SKU
    becomes tracked there and its available quantity is pushed."""
    refuse_if_read_only(db.session.get(Store, store_id))
    sku = _sku(sku)
    at = ship_nodes.stock_choice(db.session.get(Store, store_id), node)
    amount = _quantity(quantity)
    stock = get_or_create(store_id, sku, at)
    old, stock.on_hand = stock.on_hand, amount
    request_push(stock)
    audit.record("stock.set", user=by, actor=actor, store_id=store_id, subject=sku, old=old,
                 new=stock.on_hand, **({"ship_node": at} if at else {}))
    db.session.commit()
    return stock


@action
def start_tracking(store_id: int, sku: str, quantity, *, by: User | None,
                   node: str | None = None) -> SkuStock:
    """Start counting an untracked SKU's stock at a node (a return's "Start tracking this
    SKU"): on hand becomes `quantity` and is pushed. Refused when someone tracks it already,
    so a page left open never overwrites a count kept since."""
    store = db.session.get(Store, store_id)
    refuse_if_read_only(store)
    sku = _sku(sku)
    at = ship_nodes.stock_choice(store, node)
    amount = _quantity(quantity)
    stock = get_or_create(store_id, sku, at)
    db.session.flush()
    started = db.session.execute(
        update(SkuStock).where(SkuStock.id == stock.id, SkuStock.on_hand.is_(None))
        .values(on_hand=amount).execution_options(synchronize_session=False)).rowcount == 1
    if not started:
        db.session.rollback()
        raise ActionRefused(f"{sku} is tracked already: its on-hand count stands (change it "
                            "on the Stock page).", field="on_hand")
    db.session.refresh(stock, ["on_hand"])
    request_push(stock)
    audit.record("stock.set", user=by, store_id=store_id, subject=sku, old=None,
                 new=amount, **({"ship_node": at} if at else {}))
    db.session.commit()
    return stock


@action
def import_csv(store_id: int, text: str, *, by: User | None) -> int:
    """A CSV of `sku,quantity[,ship_node]` rows: all rows are checked first; then every SKU is
    set (at the node named, else the default node) in a few bulk statements."""
    store, known = db.session.get(Store, store_id), None
    refuse_if_read_only(store)
    reader = csv.reader(io.StringIO(text))
    rows, errors, number = [], [], 0
    try:
        for number, values in enumerate(reader, start=1):
            if not values or not any(v.strip() for v in values):
                continue
            if number == 1 and not digits(values[min(1, len(values) - 1)].strip()):
                continue  # a header
            if len(values) < 2:
                errors.append(f"Row {number}: expected sku,quantity.")
                continue
            try:
                if len(values) > 2 and values[2].strip() and known is None:
                    known = ship_nodes.known_nodes(store)  # read once, when a node is named
                rows.append((_sku(values[0]), _quantity(values[1]), ship_nodes.stock_choice(
                    store, values[2] if len(values) > 2 else None, known)))
            except ActionRefused as exc:
                errors.append(f"Row {number}: {exc}")
    except csv.Error as exc:  # e.g. a field over the csv module's size limit
        raise ActionRefused(f"The CSV cannot be read near row {number + 1}: {exc}.") from exc
    if errors:
        raise ActionRefused(" ".join(errors[:10]) + (" …" if len(errors) > 10 else ""))
    if not rows:
        raise ActionRefused("The file has no sku,quantity rows.")
    count = _write_on_hand(store_id, {(sku, node): quantity for sku, quantity, node in rows})
    audit.record("stock.import", user=by, store_id=store_id, subject=f"{count} SKU(s)")
    db.session.commit()
    return count


CHUNK = 500  # (SKU, node) pairs per IN (...) query: well under SQLite's variable limit


def _write_on_hand(store_id: int, wanted: dict[tuple[str, str], int]) -> int:
    """Set many (SKU, node) rows' on hand in a few bulk statements (a row per pair read, the
    missing ones inserted, the others updated), and queue one push for each pair that has
    none waiting, as request_push() would. A 20,000-row file takes seconds, not minutes: the
    write lock other people's changes wait for is held that long only. A later row of the
    file for the same pair wins, as it would one by one."""
    keys = list(wanted)
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(keys), CHUNK):
        found.update({(sku, node): row_id for row_id, sku, node in db.session.execute(
            select(SkuStock.id, SkuStock.sku, SkuStock.ship_node).where(
                SkuStock.store_id == store_id,
                tuple_(SkuStock.sku, SkuStock.ship_node).in_(keys[start:start + CHUNK])))})
    table = SkuStock.__table__
    if missing := [key for key in keys if key not in found]:
        db.session.execute(table.insert(), [
            {"store_id": store_id, "sku": sku, "ship_node": node, "on_hand": wanted[(sku, node)],
             "reserved": 0} for sku, node in missing])
    if found:  # reserved is left alone: it is the orders' to change, concurrently too
        db.session.execute(table.update().where(table.c.id == bindparam("row_id"))
                           .values(on_hand=bindparam("quantity")),
                           [{"row_id": row_id, "quantity": wanted[key]}
                            for key, row_id in found.items()])
    db.session.expire_all()  # rows loaded before now hold the old quantities
    waiting = set(db.session.execute(select(SyncTask.target, TASK_NODE).where(
        SyncTask.store_id == store_id, SyncTask.kind == TaskKind.INVENTORY,
        SyncTask.state == TaskState.PENDING, SyncTask.lease_until.is_(None))).all())
    # One background batch (the sync job runs them one after another; Walmart's rate limit
    # spaces them anyway), instead of twenty thousand jobs enqueued from this request.
    outbox.add_batch(store_id, TaskKind.INVENTORY, [
        (sku, None, {"shipNode": node} if node else None)
        for sku, node in keys if (sku, node) not in waiting])
    return len(keys)
