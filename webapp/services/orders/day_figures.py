"""Home's 30-day chart, read from figures kept per local day instead of counted from the orders.

What a day shows (the meaning Home always had): orders placed that day; orders due that day —
Ship By on it and already passed, the order not cancelled; and of those, how many shipped by
their Ship By (a shipment of the order at or before it).

A complete day (before today, in the team's zone) only changes when orders or shipments are
written, so its figures are kept in day_figures, counted in the zone named on the row. Database
triggers (migration d2b6f8e4c012) mark every moment whose day may count differently — an
order's date or Ship By, before and after the write — in day_figures_changes, whoever writes
(the importer's bulk INSERTs too). Home reads the chart's 29 kept days, counts again the days
a mark falls on, the missing days and the days of another zone (then keeps them), and counts
today live: its "due" moves with the clock. Each count is an indexed range query over one day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, exists, func, insert, literal_column, select
from sqlalchemy.engine import Connection

from webapp.extensions import db
from webapp.models import DayFigures, DayFiguresChange, Order, OrderStatus, Shipment
from webapp.models.base import utcnow
from webapp.team_time import day_start, team_zone

CHART_DAYS = 30  # the triggers mark only the last 32 days: a longer chart needs a migration
LOCK = 0x0D2B6F8E  # PostgreSQL advisory lock: one recount at a time


@dataclass
class Day:
    day: date
    orders: int
    due: int       # orders whose Ship By fell on the day (and has passed), not all cancelled
    on_time: int   # of those, shipped by their Ship By

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.due if self.due else None


def last_days(now: datetime | None = None) -> list[Day]:
    """Orders placed per day, and how many orders due that day shipped on time, over the last
    CHART_DAYS local days (the oldest first, today last)."""
    now = now or utcnow()
    zone = team_zone()
    today = now.astimezone(zone).date()
    first = today - timedelta(days=CHART_DAYS - 1)
    # One query: the kept days, and whether a write marked a moment before today since (a
    # kept day may count differently, or an old mark waits to be dropped).
    marked = select(literal_column("1")).where(DayFiguresChange.at < day_start(today)).exists()
    rows = db.session.execute(_kept_query(first, today, zone.key).add_columns(marked)).all()
    kept = {day: Day(day, placed, due, on_time) for day, placed, due, on_time, _ in rows}
    if len(kept) < CHART_DAYS - 1 or rows[0][-1]:
        kept = _recount(first, today, zone.key)
    return [kept[first + timedelta(days=i)] for i in range(CHART_DAYS - 1)] + [
        _count(db.session.connection(), today, now)]


def _kept_query(first: date, today: date, zone: str):
    """The complete days of the window kept for this zone."""
    return select(DayFigures.day, DayFigures.placed, DayFigures.due, DayFigures.on_time).where(
        DayFigures.day >= first, DayFigures.day < today, DayFigures.zone == zone)


def _recount(first: date, today: date, zone: str) -> dict[date, Day]:
    """Count again the days that a mark falls on, the missing days and those of another zone,
    keep them, and drop the marks read — in one transaction of its own (Home's session only
    reads), one recount at a time."""
    window_start, today_start = day_start(first), day_start(today)
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(LOCK)))
        # On SQLite this first write takes the database's write lock: no other recount, and no
        # write at all, runs until this one commits.
        conn.execute(delete(DayFiguresChange).where(DayFiguresChange.at < window_start))
        # Marks are taken before counting: a write committed after this statement leaves its
        # mark for the next Home, and one committed before it is seen by the counts below.
        marked = conn.execute(delete(DayFiguresChange).where(DayFiguresChange.at < today_start)
                              .returning(DayFiguresChange.at)).scalars().all()
        zone_info = team_zone()
        stale = {moment.astimezone(zone_info).date() for moment in marked}
        kept = {day: Day(day, placed, due, on_time)
                for day, placed, due, on_time in conn.execute(_kept_query(first, today, zone))}
        recount = sorted(day for day in _days(first, today) if day in stale or day not in kept)
        kept.update({day: _count(conn, day, day_start(day + timedelta(days=1)))
                     for day in recount})
        conn.execute(delete(DayFigures).where(DayFigures.day.in_(recount)
                                              | (DayFigures.day < first)))
        if recount:
            conn.execute(insert(DayFigures), [
                {"day": day, "zone": zone, "placed": kept[day].orders, "due": kept[day].due,
                 "on_time": kept[day].on_time, "counted_at": utcnow()} for day in recount])
    return kept


def _days(first: date, today: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((today - first).days)]


def _count(conn: Connection, day: date, due_before: datetime) -> Day:
    """One day's figures from the orders: placed on the day; due on it before `due_before`
    (the day's end, or now for today) and not cancelled; of those, shipped by their Ship By.
    Two index ranges over one day's orders (and each due order's shipments by index)."""
    start, end = day_start(day), day_start(day + timedelta(days=1))
    placed = select(func.count()).select_from(Order).where(
        Order.order_date >= start, Order.order_date < end).scalar_subquery()
    shipped_in_time = exists().where(Shipment.order_id == Order.id,
                                     Shipment.ship_time <= Order.ship_by)
    orders, due, on_time = conn.execute(
        select(placed, func.count(), func.count().filter(shipped_in_time)).select_from(Order)
        .where(Order.ship_by >= start, Order.ship_by < min(end, due_before),
               Order.status != OrderStatus.CANCELED)).one()
    return Day(day, orders, due, on_time)
