"""Order import: every released order, and every order Walmart changed, exactly once."""

from __future__ import annotations

import gc
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from webapp.extensions import db, redis_connection
from webapp.models import ImportRun, Order, Store, TaskKind
from webapp.models.base import utcnow
from webapp.services.orders import import_passes, import_walk
from webapp.services.orders import status as order_status
from webapp.services.orders import storing as order_import
from webapp.services.stores.credentials import record_refusal, resume_updates
from webapp.services.stores.walmart_access import client_for
from webapp.services.sync import outbox, rate_limit
from webapp.walmart import AuthenticationError, DataError, WalmartClient, WalmartError
from webapp.walmart.schema import OrderPage, PurchaseOrder

log = logging.getLogger(__name__)
HORIZON = timedelta(days=180) - timedelta(hours=1)  # Walmart keeps 180 days
FIRST_WINDOW = timedelta(days=30)                   # first refresh: orders changed lately
OVERLAP = timedelta(minutes=10)                     # re-read the edge of the last window
MAX_PER_QUERY = 10000  # orders a search may deliver (Walmart's US Marketplace docs)
LOCK_SECONDS = 900
ANALYZE_AFTER = 1000   # orders a pass creates before PostgreSQL's statistics are looked at


class ImportDeferred(Exception):
    """Our rate-limit bucket is empty: the import is rescheduled, not slept through."""

    def __init__(self, wait_seconds: float) -> None:
        super().__init__(f"rate limit: resume in {wait_seconds:.0f}s")
        self.wait_seconds = wait_seconds


@dataclass
class _Pass:
    """One import pass; an order read twice (released, then changed) counts once."""
    store: Store
    client: WalmartClient
    run: ImportRun
    seen: set = field(default_factory=set)
    created: set = field(default_factory=set)
    failed: set = field(default_factory=set)
    incomplete: list[str] = field(default_factory=list)  # why a walk may have missed orders
    analyzed_at: int = 0  # orders created when the statistics were last looked at

    def count(self) -> None:
        """The run's counts, after every page. `created` and `failed` are parts of `seen`, so
        the updated ones are counted by size, not by a set difference over every order seen
        so far (per page, that made a large import quadratic)."""
        self.run.seen, self.run.created = len(self.seen), len(self.created)
        self.run.failed = len(self.failed)
        self.run.updated = len(self.seen) - len(self.created) - len(self.failed - self.created)


def _take(store: Store, endpoint: str) -> None:
    took = rate_limit.take(store, endpoint)
    if not took.allowed:
        raise ImportDeferred(took.wait_seconds)


def _acknowledge(store: Store, order, data, created: bool) -> None:
    """A new order with lines in Created gets its acknowledgement (a background task) — not
    in a read-only store, which sends nothing (switching to read-write reads it back)."""
    if created and not store.read_only and order_import.needs_acknowledging(data):
        outbox.add_task(store.id, TaskKind.ACKNOWLEDGE, data.purchase_order_id,
                        order=order, urgent=False)
        order_status.refresh(order)  # Status details: acknowledging


def store_order(store: Store, data: PurchaseOrder, read_at: datetime) -> tuple[Order, bool]:
    """One order as Walmart showed it at `read_at`, stored in its own savepoint and, when new,
    acknowledged, as an import page's orders are; tried again once when another writer (an
    import pass, another notification) stored it first. Returns (order, created); the caller
    commits."""
    try:
        with db.session.begin_nested():
            order, created = order_import.upsert(store, data, read_at)
            _acknowledge(store, order, data, created)
    except IntegrityError:
        with db.session.begin_nested():
            order, created = order_import.upsert(store, data, read_at)
            _acknowledge(store, order, data, created)
    return order, created


def _count(state: _Pass, po: str, created: bool) -> None:
    state.seen.add(po)
    state.failed.discard(po)
    if created:
        state.created.add(po)


def _store_one_by_one(state: _Pass, orders) -> None:
    """Each order in its own savepoint (retried once: another writer may have got there
    first, with the order or a new SKU's stock row)."""
    for data in orders:
        try:
            _order, created = store_order(state.store, data, state.run.started_at)
        except SQLAlchemyError as exc:  # this order cannot be stored: show it, keep going
            po = data.purchase_order_id
            log.warning("store %s: order %s could not be stored: %s", state.store.id, po, exc)
            try:
                with db.session.begin_nested():
                    order_import.record_failure(state.store, po, "Orderdeck could not store "
                                                f"this order: {type(exc).__name__}", data.raw)
            except SQLAlchemyError:  # not even as a failure (an absurd purchase order id)
                log.error("store %s: order %r skipped: it cannot be stored at all",
                          state.store.id, po[:60])
            state.seen.add(po)
            state.failed.add(po)
            continue
        _count(state, data.purchase_order_id, created)


def _store_orders(state: _Pass, orders: list) -> None:
    """Upsert the orders all at once; if the batch fails (a concurrent writer, an order that
    cannot be stored) they are stored one by one."""
    try:
        with db.session.begin_nested():
            # Walmart's view is read after the pass started: what was fixed in Seller Center
            # before then is judged against it (walmart_differences), nothing later.
            stored = order_import.upsert_page(state.store, orders, state.run.started_at)
            wanted = set() if state.store.read_only else {
                d.purchase_order_id for d in orders if order_import.needs_acknowledging(d)}
            outbox.add_batch(state.store.id, TaskKind.ACKNOWLEDGE, [
                (row.purchase_order_id, row.order_id) for row in stored
                if row.created and row.purchase_order_id in wanted])
    except SQLAlchemyError as exc:
        log.info("store %s: page stored order by order (%s)", state.store.id,
                 type(exc).__name__)
        _store_one_by_one(state, orders)
    else:
        for row in stored:
            _count(state, row.purchase_order_id, row.created)


def _store_page(state: _Pass, page: OrderPage) -> None:
    """Store a page's orders; one commit per page (its tasks are published by the walk)."""
    if page.orders:
        _store_orders(state, list(page.orders))
    for data in page.orders:
        state.seen.add(data.purchase_order_id)
    for po, error, raw in page.failures:
        key = po or f"unknown-{len(state.failed)}"
        state.seen.add(key)
        state.failed.add(key)
        if po:
            with db.session.begin_nested():
                order_import.record_failure(state.store, po, str(error), raw)
        log.warning("store %s: order %s could not be imported: %s", state.store.id, po, error)
    state.run.pages += 1
    state.count()
    db.session.commit()
    _statistics(state)


def _statistics(state: _Pass) -> None:
    """PostgreSQL plans each page's lookup of the orders it already holds from its statistics
    of the orders table. A table it has never analysed (a new database, before autovacuum
    gets to it) has none: `purchase_order_id IN (…200 ids)` is then assumed to match every
    row and `store_id = …` few, so the lookup reads every order of the store — each page of a
    first import reads all the pages stored before it. Once a pass has created ANALYZE_AFTER
    orders, and again each time it has doubled that, the table is analysed if PostgreSQL
    thinks it holds fewer rows than this pass alone created (a table whose statistics are
    that far behind); otherwise nothing is done. (SQLite plans by its indexes alone.)"""
    created = len(state.created)
    if created < max(ANALYZE_AFTER, 2 * state.analyzed_at) or \
            db.session.get_bind().dialect.name != "postgresql":
        return
    state.analyzed_at = created
    estimate = db.session.scalar(text(
        f"SELECT reltuples FROM pg_class WHERE oid = '{Order.__tablename__}'::regclass"))
    if estimate is None or estimate < created:
        db.session.execute(text(f"ANALYZE {Order.__tablename__}"))
        db.session.commit()


def _in_windows(start: datetime, end: datetime | None, now: datetime, read, field: str,
                what: str) -> None:
    """`read(start, end)` over the window, which counts it first and returns that count's
    page; a window Walmart counts over 10,000 orders (it refuses orders past its cap) is read
    as two halves, down to two minutes."""
    if (read(start, end).total_count or 0) <= MAX_PER_QUERY:
        return
    stop = end or now
    if stop - start <= timedelta(minutes=2):
        raise DataError(status=400, code="TOO_MANY_ORDERS", field=field,
                        description=f"more than {MAX_PER_QUERY:,} {what} within two minutes")
    middle = start + (stop - start) / 2
    _in_windows(start, middle, now, read, field, what)
    _in_windows(middle, end, now, read, field, what)


def _count_then_walk(state: _Pass, released: bool, window: dict) -> OrderPage:
    """One order (limit=1) to learn the window's count; the window is walked when it fits
    under Walmart's cap (or Walmart gave no count but orders)."""
    _take(state.store, "released" if released else "orders")
    first = (state.client.released_orders if released else state.client.orders)(
        **window, limit=1)
    counted = first.total_count
    fits = 0 < counted <= MAX_PER_QUERY if counted is not None else bool(
        first.orders or first.failures)
    if fits:  # every page, each stored as it arrives
        import_walk.walk(state, released, window, take=_take, store_page=_store_page)
    return first


def _refresh(state: _Pass, start: datetime, end: datetime | None, horizon: datetime,
             now: datetime) -> None:
    """Orders Walmart modified since `start` (until `end`; open-ended for the newest window, so
    a Walmart clock ahead of ours loses nothing), counted first, then read if they fit."""
    _in_windows(start, end, now, lambda start, end: _count_then_walk(state, False, {
        "lastModifiedStartDate": start, "lastModifiedEndDate": end,
        "createdStartDate": horizon}), "lastModifiedStartDate", "orders changed")


def _released(state: _Pass, start: datetime, end: datetime | None, now: datetime) -> None:
    """Every released order created in [start, end], counted first, then read if they fit."""
    _in_windows(start, end, now, lambda start, end: _count_then_walk(state, True, {
        "createdStartDate": start, "createdEndDate": end}),
        "createdStartDate", "released orders")


def import_store(store_id: int, trigger: str = "schedule",
                 run_id: int | None = None) -> ImportRun | None:
    """One import pass; None when another pass of this store is running."""
    lock = redis_connection().lock(f"orderdeck:import-lock:{store_id}", timeout=LOCK_SECONDS,
                                   blocking=False)
    if not lock.acquire():
        if run_id is not None:  # the person's request is served by the pass already running
            run = db.session.get(ImportRun, run_id)
            run.ok, run.finished_at = None, utcnow()
            run.error = "another import of this store was already running"
            db.session.commit()
        return None
    try:
        return _import(store_id, trigger, run_id)
    finally:
        try:
            lock.release()
        except Exception:  # expired: another pass may already hold it; nothing to undo
            log.warning("import lock of store %s had expired", store_id)


@contextmanager
def _fewer_gc_passes():
    """An import allocates millions of short-lived objects, none of them cyclic garbage worth
    chasing every 700 allocations (Python's default): the cyclic collector runs less often
    while it lasts (a quarter of the import's CPU otherwise), and as usual after."""
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _import(store_id: int, trigger: str, run_id: int | None) -> ImportRun:
    with _fewer_gc_passes():
        return _import_pass(store_id, trigger, run_id)


def _import_pass(store_id: int, trigger: str, run_id: int | None) -> ImportRun:
    store = db.session.get(Store, store_id)
    run = db.session.get(ImportRun, run_id) if run_id else None
    if run is None:
        run = ImportRun(store_id=store_id, trigger=trigger)
        db.session.add(run)
    run.started_at = utcnow()
    db.session.commit()
    started = run.started_at
    try:
        state = _Pass(store, client_for(store), run)
        horizon = started - HORIZON
        since = max((store.import_watermark or started - FIRST_WINDOW) - OVERLAP, horizon)
        # An order created after `since` was modified after it too: the refresh reads it. So
        # the released search needs only the older ones, and nothing is downloaded twice.
        _released(state, horizon, since, started)
        _refresh(state, since, None, horizon, started)
    except ImportDeferred as exc:  # our own rate limit: paused, resumed by the job
        db.session.rollback()
        run.ok, run.error, run.finished_at = None, f"paused: {exc}", utcnow()
        db.session.commit()
        raise
    except WalmartError as exc:
        db.session.rollback()
        run.ok, run.error, run.finished_at = False, str(exc)[:2000], utcnow()
        store.last_import_error, store.last_import_error_at = str(exc)[:2000], utcnow()
        store.last_import_error_detail = exc.detail[:2000] if exc.detail else None
        store.import_failures = (store.import_failures or 0) + 1
        store.import_failing_since = store.import_failing_since or utcnow()
        db.session.commit()
        if isinstance(exc, AuthenticationError):  # the store shows it; its updates wait
            record_refusal(store, exc)
        raise
    # The watermark moves only after a complete pass (or a window's third incomplete one).
    if state.incomplete:
        import_passes.incomplete(store, run, state.incomplete, since, started)
    else:
        import_passes.complete(store, run, started)
    db.session.commit()
    if store.credentials_problem:  # Walmart took the credentials: paused updates resume
        resume_updates(store.id)
    return run
