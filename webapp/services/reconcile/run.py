"""A reconciliation pass of one store, in slices.

A pass reads, under its own rate-limit buckets (rate_limit: reconcile_order, reconcile_returns,
reconcile_inventory — never a shipment's, a stock push's or an import's), every open order and
every order changed in the last N days (GET /v3/orders/{po}), the returns changed in those days
(GET /v3/returns, and by RMA those of ours changed since that the search did not bring back),
and every tracked SKU's stock (GET /v3/inventory). Each slice (one job) works for at most
RECONCILE_SLICE_SECONDS, or until a bucket is empty, then says when to go on: the pass is
spread over time and never holds a worker waiting. The run row keeps its phase and keyset
cursor, so progress shows and a lost job resumes where it stopped.

A read that fails (Walmart's 5xx, a timeout, an answer that is not what Walmart sends) is
counted, kept aside and read again in later rounds; its order is not compared meanwhile, so a
fault never makes a difference, and never closes one. Walmart's 429 waits for its refill and
reads the same order again. Refused credentials end the pass (the store shows them)."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from webapp.extensions import db, redis_connection
from webapp.models import (
    Order,
    ReconcileRun,
    Return,
    ReturnLine,
    SkuStock,
    Store,
    SyncTask,
    TaskKind,
    TaskState,
)
from webapp.models.base import utcnow
from webapp.services.orders.dashboard import may_have_open_units
from webapp.services.reconcile import compare, findings
from webapp.services.stock import ship_nodes
from webapp.services.stock.levels import TASK_NODE
from webapp.services.stores.credentials import record_refusal
from webapp.services.stores.walmart_access import client_for
from webapp.services.sync import rate_limit
from webapp.walmart import AuthenticationError, DataError, RateLimited, WalmartError
from webapp.walmart.client import WalmartClient

log = logging.getLogger(__name__)
BATCH = 50
PHASES = ("orders", "returns", "stock", "retry", "done")
PHASE_LABELS = {"orders": "Reading orders", "returns": "Reading returns",
                "stock": "Reading stock", "retry": "Reading again what failed",
                "done": "Finished", "failed": "Stopped"}
ORDER_BUCKET, RETURNS_BUCKET, STOCK_BUCKET = \
    "reconcile_order", "reconcile_returns", "reconcile_inventory"


class Wait(Exception):
    """A bucket is empty (ours, or Walmart's 429): go on at `at`."""

    def __init__(self, at: datetime) -> None:
        super().__init__(f"waiting until {at:%H:%M:%S}")
        self.at = at


def _since(run: ReconcileRun) -> datetime:
    return run.started_at - timedelta(days=run.days)


def order_scope(store_id: int, since: datetime):
    """Every open order, and every order changed since `since`, of the store."""
    return (Order.store_id == store_id) & or_(may_have_open_units(), Order.updated_at >= since)


def stock_scope(store_id: int):
    """Tracked SKUs (at each ship node) that something was pushed for."""
    return (SkuStock.store_id == store_id) & SkuStock.on_hand.is_not(None) & \
        SkuStock.pushed_quantity.is_not(None)


def latest(store_id: int) -> ReconcileRun | None:
    return db.session.scalar(select(ReconcileRun).where(ReconcileRun.store_id == store_id)
                             .order_by(ReconcileRun.started_at.desc(), ReconcileRun.id.desc())
                             .limit(1))


def start(store_id: int, trigger: str = "schedule", days: int | None = None) -> tuple[
        ReconcileRun, bool]:
    """A new pass of the store, unless one is going: (the run, whether it is new). The
    caller commits, then has the job run it."""
    going = latest(store_id)
    if going is not None and going.running:
        return going, False
    days = int(days or current_app.config["RECONCILE_DAYS"])
    now = utcnow()
    run = ReconcileRun(store_id=store_id, trigger=trigger, days=days, started_at=now,
                       phase="orders", cursor=0, retry={}, next_at=now)
    since = now - timedelta(days=days)
    run.orders_total = db.session.scalar(select(func.count(Order.id)).where(
        order_scope(store_id, since))) or 0
    run.stock_total = db.session.scalar(select(func.count(SkuStock.id)).where(
        stock_scope(store_id))) or 0
    for name in ("checked", "skipped", "reads", "failed_reads", "retry_rounds", "unread",
                 "found"):
        setattr(run, name, 0)
    db.session.add(run)
    db.session.flush()
    return run, True


def _take(store: Store, bucket: str, urgent: bool = False) -> None:
    took = rate_limit.take(store, bucket, urgent)
    if not took.allowed:
        raise Wait(utcnow() + timedelta(seconds=max(took.wait_seconds, 0.05)))


def _failed(run: ReconcileRun, what: str, item, exc: Exception) -> None:
    run.failed_reads += 1
    retry = dict(run.retry or {})
    if what == "returns":
        retry["returns"] = True
    else:
        retry[what] = sorted({*retry.get(what, []), item})
    run.retry = retry
    log.info("reconcile run %s: reading %s %s failed (%s); read again later", run.id, what,
             item, " ".join(str(exc).split())[:200])


def _last_word(run: ReconcileRun, exc: DataError) -> bool:
    """Walmart's "no such order" (404 CONTENT_NOT_FOUND) in the pass's last round of reads:
    an answer, not a fault, and a difference of its own. Earlier, it is read again like any
    failed read (a 404 from a gateway or a moment's lag must never make a difference)."""
    last_round = run.phase == "retry" and \
        run.retry_rounds + 1 >= current_app.config["RECONCILE_RETRY_ROUNDS"]
    return last_round and exc.status == 404 and (exc.code or "").startswith("CONTENT_NOT_FOUND")


def _blocked_orders(order_ids: list[int]) -> set[int]:
    """Orders with an update on its way or failed: their record is ahead of Walmart's on
    purpose (or the Sync page already shows why not): not compared."""
    return set(db.session.scalars(select(SyncTask.order_id).where(
        SyncTask.order_id.in_(order_ids),
        SyncTask.state.in_([TaskState.PENDING, TaskState.ERROR]))))


def _read_orders(run: ReconcileRun, store: Store, client: WalmartClient, ids: list[int],
                 deadline: float, done: list[int]) -> list[int]:
    """Read and compare these orders (in id order), adding each one done to `done` (also
    returned). Raises Wait when a bucket is empty: `done` then says how far it got."""
    orders = {o.id: o for o in db.session.scalars(
        select(Order).where(Order.id.in_(ids)).options(selectinload(Order.lines)))}
    blocked = _blocked_orders(ids)
    for order_id in ids:
        if time.monotonic() > deadline:
            break
        order = orders.get(order_id)
        if order is None or order.import_error or order_id in blocked or order.in_flight:
            run.skipped += 1
            done.append(order_id)
            continue
        _take(store, ORDER_BUCKET)
        try:
            data = client.get_order(order.purchase_order_id)
        except RateLimited as exc:
            raise Wait(exc.retry_at) from exc
        except AuthenticationError:
            raise
        except DataError as exc:
            if _last_word(run, exc):
                run.reads += 1
                run.checked += 1
                findings.order_missing(order, exc.code or "CONTENT_NOT_FOUND")
            else:
                _failed(run, "orders", order_id, exc)
            done.append(order_id)
            continue
        except WalmartError as exc:
            _failed(run, "orders", order_id, exc)
            done.append(order_id)
            continue
        run.reads += 1
        # Our record as it is now, not as the batch found it: a person's update queued, or an
        # import stored, while Walmart was being read must not make a difference.
        order = db.session.scalars(select(Order).where(Order.id == order_id)
                                   .options(selectinload(Order.lines))
                                   .execution_options(populate_existing=True)).first()
        if order is None or _blocked_orders([order_id]) or order.in_flight:
            run.skipped += 1
        else:
            findings.compare_order(order, data)
            run.checked += 1
        done.append(order_id)
    return done


def _in_batches(run: ReconcileRun, column, scope, read, next_phase: str,
                deadline: float) -> None:
    """Read the rows in `scope` after the pass's cursor, BATCH at a time, with `read(ids,
    done)`; the cursor moves past each row read (committed per batch, so a slice cut short
    goes on from there), and the pass moves to `next_phase` once none is left."""
    while time.monotonic() < deadline:
        ids = list(db.session.scalars(select(column).where(scope, column > run.cursor)
                                      .order_by(column).limit(BATCH)))
        if not ids:
            run.phase, run.cursor = next_phase, 0
            return
        done: list[int] = []
        try:
            read(ids, done)
        finally:
            if done:
                run.cursor = done[-1]
        db.session.commit()
        if len(done) < len(ids):
            return  # out of time (or a bucket ran dry)


def _orders_phase(run: ReconcileRun, store: Store, client: WalmartClient,
                  deadline: float) -> None:
    _in_batches(run, Order.id, order_scope(store.id, _since(run)),
                lambda ids, done: _read_orders(run, store, client, ids, deadline, done),
                "returns", deadline)


def _refunds_compared(store: Store, read: list) -> None:
    """Compare, per order line, the refunded units of the returns read with ours over the
    same returns; settle those lines' refund findings."""
    walmart: dict[tuple[str, str], int] = {}
    rmas: dict[tuple[str, str], set[str]] = {}
    for ret in read:
        for item in ret.lines:
            if not item.purchase_order_id or item.purchase_order_line_number is None:
                continue
            key = (item.purchase_order_id, str(item.purchase_order_line_number))
            walmart[key] = walmart.get(key, 0) + item.refunded_quantity
            rmas.setdefault(key, set()).add(ret.return_order_id)
    if not walmart:
        return
    orders = {o.purchase_order_id: o for o in db.session.scalars(
        select(Order).where(Order.store_id == store.id,
                            Order.purchase_order_id.in_({po for po, _n in walmart}))
        .options(selectinload(Order.lines)))}
    read_rmas = [r.return_order_id for r in read]
    ours: dict[int, int] = {}
    for line_id, refunded in db.session.execute(
            select(ReturnLine.order_line_id, ReturnLine.refunded_qty).join(Return).where(
                Return.store_id == store.id, Return.rma.in_(read_rmas),
                ReturnLine.order_line_id.is_not(None))):
        ours[line_id] = ours.get(line_id, 0) + (refunded or 0)
    by_order: dict[int, list] = {}
    for (po, number), theirs in walmart.items():
        order = orders.get(po)
        if order is None:
            continue  # an order never imported: nothing of ours to compare
        line = next((x for x in order.lines if x.line_number == number), None)
        if line is None:
            continue
        found = compare.refunded(line, ours.get(line.id, 0), theirs, list(rmas[(po, number)]),
                                 number)
        by_order.setdefault(order.id, []).append((line.id, found))
    for order_id, compared in by_order.items():
        lines = {line_id for line_id, _f in compared}
        existing = [d for d in findings.open_of_order(order_id, [compare.REFUNDED])
                    if d.order_line_id in lines]
        order = db.session.get(Order, order_id)
        findings.settle(store.id, existing, [f for _l, f in compared if f], order_id=order_id)
        findings.refresh_flag(order)


def _read_returns(run: ReconcileRun, store: Store, client: WalmartClient) -> bool:
    """One search of the returns changed in the pass's days (every page), then by RMA those
    of ours changed since that it did not bring back; then the refunds compared. Any failure
    leaves every refund uncompared this time (False: read again in a retry round)."""
    since = _since(run)
    read = []
    try:
        for page in _pages(store, client, since, run.started_at + timedelta(seconds=1)):
            read.extend(page.returns)
            run.reads += 1
        seen = {r.return_order_id for r in read}
        ours = db.session.scalars(select(Return.rma).where(
            Return.store_id == store.id, Return.updated_at >= since)).all()
        for rma in sorted(set(ours) - seen):
            _take(store, RETURNS_BUCKET)
            page = client.returns(returnOrderId=rma)
            run.reads += 1
            read.extend(page.returns)
    except RateLimited as exc:
        raise Wait(exc.retry_at) from exc
    except AuthenticationError:
        raise
    except WalmartError as exc:
        _failed(run, "returns", None, exc)
        return False
    _refunds_compared(store, read)
    return True


def _returns_phase(run: ReconcileRun, store: Store, client: WalmartClient) -> None:
    _read_returns(run, store, client)
    run.phase, run.cursor = "stock", 0


def _pages(store: Store, client: WalmartClient, since: datetime, until: datetime):
    _take(store, RETURNS_BUCKET)
    page = client.returns(returnLastModifiedStartDate=since, returnLastModifiedEndDate=until)
    yield page
    followed = set()
    while page.next_cursor and page.next_cursor not in followed:
        followed.add(page.next_cursor)
        _take(store, RETURNS_BUCKET)
        page = client.next_returns(page.next_cursor)
        yield page


def _pushing(store_id: int, held: SkuStock) -> bool:
    return db.session.scalar(select(SyncTask.id).where(
        SyncTask.store_id == store_id, SyncTask.kind == TaskKind.INVENTORY,
        SyncTask.target == held.sku, TASK_NODE == held.ship_node,
        SyncTask.state == TaskState.PENDING).limit(1)) is not None


def _read_stock(run: ReconcileRun, store: Store, client: WalmartClient, ids: list[int],
                deadline: float, done: list[int]) -> list[int]:
    """As _read_orders, for tracked SKUs' stock rows."""
    for stock_id in ids:
        if time.monotonic() > deadline:
            break
        held = db.session.get(SkuStock, stock_id)
        if held is None or not held.tracked or held.pushed_quantity is None or \
                _pushing(store.id, held):
            run.skipped += 1
            done.append(stock_id)
            continue
        _take(store, STOCK_BUCKET)
        try:
            level = client.inventory_level(held.sku, ship_nodes.push_node(store, held.ship_node))
        except RateLimited as exc:
            raise Wait(exc.retry_at) from exc
        except AuthenticationError:
            raise
        except WalmartError as exc:
            _failed(run, "stock", stock_id, exc)
            done.append(stock_id)
            continue
        run.reads += 1
        db.session.refresh(held)  # as it is now: a push may have been queued meanwhile
        if _pushing(store.id, held) or held.pushed_quantity is None:
            run.skipped += 1
            done.append(stock_id)
            continue
        found = compare.stock(held, level)
        findings.settle(store.id, findings.open_of_stock(store.id, held.sku, held.ship_node),
                        [found] if found else [], sku=held.sku, ship_node=held.ship_node)
        run.checked += 1
        done.append(stock_id)
    return done


def _stock_phase(run: ReconcileRun, store: Store, client: WalmartClient,
                 deadline: float) -> None:
    _in_batches(run, SkuStock.id, stock_scope(store.id),
                lambda ids, done: _read_stock(run, store, client, ids, deadline, done),
                "retry", deadline)


def _retry_phase(run: ReconcileRun, store: Store, client: WalmartClient,
                 deadline: float) -> datetime | None:
    """One round over what failed; None when the pass is over, else when to go on."""
    pending = dict(run.retry or {})
    if not any(pending.values()):
        _finish(run)
        return None
    config = current_app.config
    if run.retry_rounds >= config["RECONCILE_RETRY_ROUNDS"]:
        run.unread = len(pending.get("orders", [])) + len(pending.get("stock", [])) + (
            1 if pending.get("returns") else 0)
        _finish(run, f"{run.unread} read{'s' if run.unread != 1 else ''} still failing after "
                     f"{run.retry_rounds} more tries: not compared this time.")
        return None
    if run.next_at and run.next_at > utcnow():
        return run.next_at  # the pause before the round
    orders, stock = list(pending.get("orders", [])), list(pending.get("stock", []))
    returns = bool(pending.get("returns"))
    run.retry = {}  # what fails again in this round goes back in
    orders_done: list[int] = []
    stock_done: list[int] = []
    try:
        _read_orders(run, store, client, orders, deadline, orders_done)
        if len(orders_done) == len(orders):
            _read_stock(run, store, client, stock, deadline, stock_done)
        if returns and len(orders_done) == len(orders) and len(stock_done) == len(stock):
            returns = False
            _read_returns(run, store, client)  # a failure puts it back in the retry list
    finally:  # interrupted (out of time, a bucket empty): the rest stays to read
        retry = dict(run.retry or {})
        left_orders = [x for x in orders if x not in set(orders_done)]
        left_stock = [x for x in stock if x not in set(stock_done)]
        if left_orders:
            retry["orders"] = sorted({*retry.get("orders", []), *left_orders})
        if left_stock:
            retry["stock"] = sorted({*retry.get("stock", []), *left_stock})
        if returns:
            retry["returns"] = True
        run.retry = {k: v for k, v in retry.items() if v}
    if left_orders or left_stock:
        return utcnow()  # out of time: the next slice goes on at once
    run.retry_rounds += 1
    if not any((run.retry or {}).values()):
        _finish(run)
        return None
    pause = config["RECONCILE_RETRY_SECONDS"] * 2 ** (run.retry_rounds - 1)
    run.next_at = utcnow() + timedelta(seconds=pause)
    return run.next_at


def _finish(run: ReconcileRun, error: str | None = None, failed: bool = False) -> None:
    run.phase = "failed" if failed else "done"
    run.finished_at, run.next_at, run.error = utcnow(), None, error
    run.found = findings.count_open(run.store_id)


def step(run_id: int) -> datetime | None:
    """One slice of the pass; returns when to run the next one (None: the pass is over).
    One slice of a pass at a time (a Redis lock): the job and `flask sync reconcile` may both
    drive the same pass, and the sweeper may queue a slice twice; a second one waits."""
    lock = None
    try:
        lock = redis_connection().lock(f"orderdeck:reconcile-lock:{run_id}",
                                       timeout=int(current_app.config[
                                           "RECONCILE_SLICE_SECONDS"]) + 120, blocking=False)
        if not lock.acquire():
            return utcnow() + timedelta(seconds=5)
    except RedisError:  # no Redis (the command line without it): nothing else can run it
        lock = None
    try:
        return _step(run_id)
    finally:
        if lock is not None:
            try:
                lock.release()
            except RedisError:  # expired, or Redis went away: nothing to undo
                pass


def _step(run_id: int) -> datetime | None:
    run = db.session.get(ReconcileRun, run_id)
    if run is None or not run.running:
        return None
    store = db.session.get(Store, run.store_id)
    deadline = time.monotonic() + current_app.config["RECONCILE_SLICE_SECONDS"]
    try:
        client = client_for(store)
    except Exception as exc:  # an address the store may not use: nothing is read
        _finish(run, str(exc), failed=True)
        db.session.commit()
        return None
    try:
        while time.monotonic() < deadline:
            if run.phase == "orders":
                _orders_phase(run, store, client, deadline)
            elif run.phase == "returns":
                _returns_phase(run, store, client)
            elif run.phase == "stock":
                _stock_phase(run, store, client, deadline)
            elif run.phase == "retry":
                at = _retry_phase(run, store, client, deadline)
                db.session.commit()
                if at is None:
                    return None
                if at > utcnow():
                    return at
            else:
                return None
            db.session.commit()
        run.next_at = utcnow()
        db.session.commit()
        return run.next_at
    except Wait as wait:
        run.next_at = wait.at
        db.session.commit()
        return wait.at
    except AuthenticationError as exc:
        db.session.rollback()
        run = db.session.get(ReconcileRun, run_id)
        record_refusal(db.session.get(Store, run.store_id), exc)
        _finish(run, "Walmart refused the store's credentials: nothing more was compared. "
                     "See the store's page.", failed=True)
        db.session.commit()
        return None


def run_now(run_id: int, *, sleep=time.sleep, timeout: float | None = None) -> ReconcileRun:
    """The whole pass in this process (the CLI): slices one after another, sleeping while a
    bucket refills or a retry round waits (a slice a worker is running meanwhile is waited
    for: one at a time)."""
    started = time.monotonic()
    while True:
        db.session.expire_all()  # (a worker's slice may have moved it on)
        at = step(run_id)
        if at is None:
            break
        if timeout is not None and time.monotonic() - started > timeout:
            break
        wait = (at - utcnow()).total_seconds()
        if wait > 0:
            sleep(min(wait, 60))
    return db.session.get(ReconcileRun, run_id)


def due_runs(now: datetime | None = None) -> list[int]:
    """Passes going whose next slice is overdue (its job lost, e.g. Redis was away): the
    sweeper queues them again."""
    late = (now or utcnow()) - timedelta(minutes=2)
    return list(db.session.scalars(select(ReconcileRun.id).where(
        ReconcileRun.finished_at.is_(None), ReconcileRun.next_at < late)))


def progress(run: ReconcileRun) -> dict:
    """What the page shows of a pass: phase in words, how far, what it found."""
    total = run.orders_total + run.stock_total
    done = run.checked + run.skipped
    return {"label": PHASE_LABELS.get(run.phase, run.phase), "done": min(done, total),
            "total": total, "percent": int(100 * min(done, total) / total) if total else 100}
