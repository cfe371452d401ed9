"""How each store's import is doing, for the Stores page and the banner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import func, select

from webapp.extensions import db, redis_connection
from webapp.models import ImportRun, Order, Store, SyncTask, TaskState
from webapp.models.base import utcnow

BANNER_KEY = "orderdeck:stale-stores"


@dataclass
class Health:
    store: Store
    orders_today: int
    pending_tasks: int
    running: ImportRun | None

    @property
    def progress(self) -> int | None:
        """Percent of the running import done, when it knows how much there is."""
        run = self.running
        if run is None or not run.total_expected:
            return None
        return min(100, int(100 * run.seen / run.total_expected))


def _today_start() -> datetime:
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return datetime.combine(datetime.now(zone).date(), time.min, zone)


def all_health() -> list[Health]:
    stores = db.session.scalars(select(Store).order_by(Store.name)).all()
    today = dict(db.session.execute(
        select(Order.store_id, func.count(Order.id)).where(Order.created_at >= _today_start())
        .group_by(Order.store_id)).all())
    pending = dict(db.session.execute(
        select(SyncTask.store_id, func.count(SyncTask.id))
        .where(SyncTask.state == TaskState.PENDING.value).group_by(SyncTask.store_id)).all())
    recent = utcnow() - timedelta(minutes=30)  # a run older than this died with its worker
    running = {run.store_id: run for run in db.session.scalars(
        select(ImportRun).where(ImportRun.finished_at.is_(None), ImportRun.started_at > recent))}
    return [Health(s, today.get(s.id, 0), pending.get(s.id, 0), running.get(s.id))
            for s in stores]


def stale_stores() -> list[str]:
    """Names of stores with import on and no successful import for the configured time."""
    limit = timedelta(minutes=current_app.config["IMPORT_STALE_MINUTES"])
    cutoff = utcnow() - limit
    return list(db.session.scalars(select(Store.name).where(
        Store.import_enabled.is_(True), Store.created_at < cutoff,
        (Store.last_import_at.is_(None)) | (Store.last_import_at < cutoff))
        .order_by(Store.name)))


def banner() -> list[str]:
    """stale_stores(), cached for 30 s so pages do not query it on every request."""
    try:
        conn = redis_connection()
        cached = conn.get(BANNER_KEY)
        if cached is not None:
            return [n for n in cached.decode().split("\n") if n]
        names = stale_stores()
        conn.set(BANNER_KEY, "\n".join(names), ex=30)
        return names
    except RedisError:
        return stale_stores()
