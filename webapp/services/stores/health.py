"""How each store's import is doing, for the Stores page and the banner."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import func, select

from webapp.extensions import db, redis_connection
from webapp.models import ImportRun, Order, Store, SyncTask, TaskState, WalmartEvent
from webapp.models.base import utcnow
from webapp.services.orders import import_passes
from webapp.services.stores import lookup
from webapp.services.stores.credentials import Problem
from webapp.services.stores.credentials import problem as credentials_problem
from webapp.team_time import day_start, team_zone

BANNER_KEY = "orderdeck:attention"


@dataclass
class Health:
    store: Store
    orders_today: int
    pending_tasks: int
    running: ImportRun | None
    stuck_tasks: int = 0     # pending for more than 10 minutes
    open_errors: int = 0     # in Error now, waiting for a person
    errors_24h: int = 0      # entered Error in the last 24 hours (retried or not)
    import_note: str | None = None  # import incomplete now, or moved on anyway lately
    # Walmart's order notifications (Receive orders instantly): when the last one came, and
    # how many have waited over EVENTS_LATE to be read back (Walmart or the workers away).
    last_event_at: datetime | None = None
    events_waiting: int = 0

    @property
    def needs_attention(self) -> bool:
        return bool(self.stuck_tasks or self.open_errors or self.store.import_failures
                    or self.import_note or self.store.credentials_problem
                    or self.events_waiting or self.store.events_error)

    @property
    def credentials(self) -> Problem | None:
        """Walmart refuses the store's credentials: what that means and what to do."""
        return credentials_problem(self.store)

    @property
    def progress(self) -> int | None:
        """Percent of the running import done, when it knows how much there is."""
        run = self.running
        if run is None or not run.total_expected:
            return None
        return min(100, int(100 * run.seen / run.total_expected))


def _today_start() -> datetime:
    return day_start(datetime.now(team_zone()).date())


def all_health(count_today: bool = True) -> list[Health]:
    """Every store's health; `count_today=False` skips counting the orders imported today
    (a scan of today's orders that Home does not show)."""
    stores = lookup.by_name()
    # Counted here from today's rows (an index range on created_at): grouped in SQL, SQLite may
    # walk the store index instead, through every order ever imported.
    today = Counter(db.session.scalars(select(Order.store_id).where(
        Order.created_at >= _today_start()))) if count_today else {}
    pending = _per_store(SyncTask.state == TaskState.PENDING)
    stuck = _per_store(SyncTask.state == TaskState.PENDING, SyncTask.stuck.is_(True))
    errors = _per_store(SyncTask.state == TaskState.ERROR)
    # Counted from the day's failures (an index range on failed_at): grouped by store in SQL,
    # the database reads every task ever written through the store's index.
    recent_errors = Counter(db.session.scalars(select(SyncTask.store_id).where(
        SyncTask.failed_at >= utcnow() - timedelta(hours=24))))
    running = _running()
    notes = import_passes.notes(stores)
    last_event, waiting = _events()
    return [Health(s, today.get(s.id, 0), pending.get(s.id, 0), running.get(s.id),
                   stuck.get(s.id, 0), errors.get(s.id, 0), recent_errors.get(s.id, 0),
                   notes.get(s.id), last_event.get(s.id), waiting.get(s.id, 0))
            for s in stores]


EVENTS_LATE = timedelta(minutes=5)


def _events() -> tuple[dict[int, datetime], dict[int, int]]:
    """Per store: when the last notification came; how many wait, unhandled, for too long."""
    last = dict(db.session.execute(select(WalmartEvent.store_id, func.max(
        WalmartEvent.received_at)).group_by(WalmartEvent.store_id)).all())
    waiting = dict(db.session.execute(
        select(WalmartEvent.store_id, func.count(WalmartEvent.id)).where(
            WalmartEvent.handled_at.is_(None),
            WalmartEvent.received_at < utcnow() - EVENTS_LATE)
        .group_by(WalmartEvent.store_id)).all())
    return last, waiting


@dataclass
class Imports:
    """What Home says of a store: its import (running, last success, failing, credentials)
    and how many of its updates to Walmart failed."""
    store: Store
    running: ImportRun | None
    open_errors: int
    last_event_at: datetime | None = None  # Walmart's last order notification (as Health)
    events_waiting: int = 0

    @property
    def credentials(self) -> Problem | None:
        return credentials_problem(self.store)


def store_imports() -> list[Imports]:
    """Every store's import, failed updates and order notifications, for Home: indexed queries
    (all_health counts more that Home does not show)."""
    stores = lookup.by_name()
    errors = _per_store(SyncTask.state == TaskState.ERROR)
    running = _running()
    last_event, waiting = _events()
    return [Imports(s, running.get(s.id), errors.get(s.id, 0), last_event.get(s.id),
                    waiting.get(s.id, 0)) for s in stores]


def _running() -> dict[int, ImportRun]:
    """Each store's import run under way."""
    recent = utcnow() - timedelta(minutes=30)  # a run older than this died with its worker
    return {run.store_id: run for run in db.session.scalars(
        select(ImportRun).where(ImportRun.finished_at.is_(None), ImportRun.started_at > recent))}


def _per_store(*conditions) -> dict[int, int]:
    return dict(db.session.execute(
        select(SyncTask.store_id, func.count(SyncTask.id)).where(*conditions)
        .group_by(SyncTask.store_id)).all())


def stale_stores() -> list[str]:
    """Names of stores with import on and no successful import for the configured time."""
    limit = timedelta(minutes=current_app.config["IMPORT_STALE_MINUTES"])
    cutoff = utcnow() - limit
    return list(db.session.scalars(select(Store.name).where(
        Store.import_enabled.is_(True), Store.created_at < cutoff,
        (Store.last_import_at.is_(None)) | (Store.last_import_at < cutoff))
        .order_by(Store.name)))


def attention() -> dict:
    """What the banner on every page warns about: stores whose credentials Walmart refuses,
    stores not importing, failed updates, updates stuck for more than 10 minutes."""
    counts = dict(db.session.execute(
        select(SyncTask.state, func.count(SyncTask.id)).where(
            (SyncTask.state == TaskState.ERROR)
            | ((SyncTask.state == TaskState.PENDING) & SyncTask.stuck.is_(True)))
        .group_by(SyncTask.state)).all())
    refused = [{"store": store.name, "title": credentials_problem(store).title}
               for store in db.session.scalars(select(Store).where(
                   Store.credentials_problem.is_not(None)).order_by(Store.name))]
    return {"credentials": refused, "stale_stores": stale_stores(),
            "errors": counts.get(TaskState.ERROR, 0),
            "stuck": counts.get(TaskState.PENDING, 0)}


def banner() -> dict:
    """attention(), cached for 15 s so pages do not query it on every request; with Redis
    unreachable, it says background jobs are unavailable too."""
    try:
        conn = redis_connection()
        cached = conn.get(BANNER_KEY)
        if cached is not None:
            return json.loads(cached)
        found = attention()
        conn.set(BANNER_KEY, json.dumps(found), ex=15)
        return found
    except RedisError:
        return {**attention(), "jobs_unavailable": True}
    except ValueError:
        return attention()


def forget_banner() -> None:
    """Something the banner counts changed (a person retried or resolved): recount."""
    try:
        redis_connection().delete(BANNER_KEY)
    except RedisError:
        pass
