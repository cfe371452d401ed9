"""The Home page: what needs doing now, each store's imports, and the last 30 days.

At a million orders Home reads no pass over them: the counts that only writes change (waiting
for acknowledgement, buyer asked to cancel, Walmart disagrees, awaiting refund) are cached in
Redis against a version that every commit writing their tables moves (unit_of_work); the counts
that move with the clock ("ship by today", "overdue") are read live through a partial index of
the orders that may have open units; the chart reads figures kept per day (day_figures)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy import func, literal_column, select

from webapp.extensions import db, redis_connection
from webapp.models import Order, OrderLine, Return
from webapp.models.base import utcnow
from webapp.models.orders import NO_OPEN_UNITS
from webapp.models.returns import ReturnStatus
from webapp.services.orders import walmart_differences
from webapp.services.orders.day_figures import Day
from webapp.services.reconcile import findings as reconcile_findings
from webapp.team_time import day_start, team_zone

AWAITING_REFUND = (ReturnStatus.RECEIVED, ReturnStatus.ERROR)
# Home's cached counts, and the version they are of (moved after every commit that wrote
# orders, their lines, returns or Walmart differences: services/unit_of_work.py).
COUNTS_KEY = "orderdeck:home-counts"
COUNTS_VERSION = "orderdeck:home-counts-version"
COUNTS_SECONDS = 300  # a version bump lost to a Redis outage is outlived after this

# What needs doing: the Orders page's Needs filter (`needs=`) selects these, Home counts them.
# key: (label, hint, tone when any) — the tone is also said in words: never colour alone.
NEEDS = {
    "acknowledge": ("Waiting for acknowledgement", "Orderdeck acknowledges new orders by itself;"
                    " these are on their way or failed.", "warn"),
    "ship-today": ("Ship by today", "Open units whose Ship By date is today.", "warn"),
    "overdue": ("Overdue (past Ship By)", "Open units past their Ship By date: Walmart cancels "
                "them 4 days after it.", "bad"),
    "cancel-requests": ("Buyer asked to cancel", "The buyer asked Walmart to cancel: cancel, or "
                        "ship anyway.", "warn"),
    # Not about open units: any order an import found Walmart disagreeing about.
    "walmart-disagrees": ("Walmart disagrees", "Walmart shows otherwise than Orderdeck recorded "
                          "(after “Fixed in Seller Center”, or found by a reconciliation): "
                          "each order says what.", "bad"),
}
DISAGREES = "walmart-disagrees"
NEEDS_LABELS = {key: label for key, (label, _hint, _tone) in NEEDS.items()}
AWAITING = "awaiting-refund"  # (a cached count shown beside the needs)
RECONCILE = "reconcile"  # open differences a reconciliation found (the Reconciliation page)


def _tomorrow_start(now: datetime) -> datetime:
    return day_start(now.astimezone(team_zone()).date() + timedelta(days=1))


def may_have_open_units():
    """Neither Shipped nor Canceled, written with literals as ix_orders_open_ship_by is
    (SQLite uses that partial index only then): a shop's years of Shipped and Canceled orders
    are never read."""
    return Order.status.not_in([literal_column(f"'{status.value}'")
                                for status in NO_OPEN_UNITS])


OPEN_LINE = OrderLine.quantity > OrderLine.shipped_qty + OrderLine.canceled_qty


def _flags(now: datetime) -> dict:
    """What puts an order with open units under each need (on the order or the open line)."""
    return {
        "acknowledge": OrderLine.acknowledged.is_(False),
        "ship-today": (Order.ship_by >= now) & (Order.ship_by < _tomorrow_start(now)),
        "overdue": Order.ship_by < now,
        "cancel-requests": Order.intent_to_cancel.is_(True),
    }


def needs_condition(need: str, now: datetime | None = None):
    """The WHERE clause of one need for the Orders page (None for an unknown name)."""
    if need == DISAGREES:
        return Order.id.in_(walmart_differences.open_orders())
    flag = _flags(now or utcnow()).get(need)
    if flag is None:
        return None
    return may_have_open_units() & _open_with(flag)


def _open_with(flag=None):
    """The order has an open line (with `flag` on it, if given): one probe of the partial
    index of open lines (`SELECT 1`, so SQLite reads the index alone)."""
    return select(literal_column("1")).where(
        OrderLine.order_id == Order.id, OPEN_LINE, *(() if flag is None else (flag,))).exists()


def clock_counts(now: datetime) -> dict[str, int]:
    """The needs that move with the clock, counted live: orders with open units whose Ship By
    has passed, or falls later today — a range of the partial index (open orders due before
    tomorrow), so a few hundred entries at most, whatever the shop's age."""
    has_open = _open_with()
    overdue, today = db.session.execute(
        select(func.count().filter(Order.ship_by < now), func.count().filter(Order.ship_by >= now))
        .select_from(Order)
        .where(may_have_open_units(), Order.ship_by < _tomorrow_start(now), has_open)).one()
    return {"overdue": overdue, "ship-today": today}


def written_counts() -> dict[str, int]:
    """The counts only writes change, from Redis while no commit wrote their tables since they
    were counted; counted again (and kept) otherwise, and counted live without Redis."""
    conn = version = None
    try:  # one round trip: the current version, and the counts with the version they are of
        conn = redis_connection()
        version, cached = conn.mget(COUNTS_VERSION, COUNTS_KEY)
        version = int(version or 0)
        if cached:
            found = json.loads(cached)
            if found.get("version") == version:
                return found["counts"]
    except (RedisError, ValueError):
        conn = None
    counts = _count_written()
    if conn is not None:
        try:
            conn.set(COUNTS_KEY, json.dumps({"version": version, "counts": counts}),
                     ex=COUNTS_SECONDS)
        except RedisError:
            pass
    return counts


def _count_written() -> dict[str, int]:
    """Waiting for acknowledgement and buyer asked to cancel (over the orders that may have
    open units: the partial index), Walmart disagrees and awaiting refund."""
    acknowledge, cancel_requests = db.session.execute(
        select(func.count().filter(_open_with(OrderLine.acknowledged.is_(False))),
               func.count().filter(Order.intent_to_cancel.is_(True) & _open_with()))
        .select_from(Order).where(may_have_open_units())).one()
    awaiting = db.session.scalar(select(func.count(Return.id)).where(
        Return.status.in_(AWAITING_REFUND))) or 0
    return {"acknowledge": acknowledge, "cancel-requests": cancel_requests,
            DISAGREES: walmart_differences.count_orders(), AWAITING: awaiting,
            RECONCILE: reconcile_findings.count_open()}


def invalidate_counts() -> None:
    """A commit wrote orders, lines, returns or Walmart differences: Home counts again."""
    try:
        redis_connection().incr(COUNTS_VERSION)
    except RedisError:
        pass


@dataclass
class Need:
    key: str
    label: str
    count: int
    hint: str
    tone: str  # "bad" or "warn", shown while the count is not 0


@dataclass
class Awaiting:
    ret: Return
    days_left: float | None


@dataclass
class Todo:
    """Home's to-do: each need's tile; how many returns wait for their refund, and the ones
    whose deadline comes first."""
    needs: list[Need]
    awaiting_refund: int
    refund_deadlines: list[Awaiting]
    differences: int = 0  # open reconciliation differences


def todo(now: datetime | None = None) -> Todo:
    """Every need's count (the Orders page's Needs filter shows the same orders), and the
    returns awaiting their refund."""
    now = now or utcnow()
    counts = {**written_counts(), **clock_counts(now)}
    return Todo([Need(key, label, counts[key], hint, tone)
                 for key, (label, hint, tone) in NEEDS.items()], counts[AWAITING],
                awaiting_refund(now=now) if counts[AWAITING] else [],
                counts.get(RECONCILE, 0))


def awaiting_refund(limit: int = 5, now: datetime | None = None) -> list[Awaiting]:
    """The returns not refunded yet whose deadline comes first."""
    now = now or utcnow()
    first = db.session.scalars(select(Return).where(Return.status.in_(AWAITING_REFUND))
                               .order_by(Return.return_by.is_(None), Return.return_by, Return.id)
                               .limit(limit)).all()
    return [Awaiting(r, (r.return_by - now).total_seconds() / 86400 if r.return_by else None)
            for r in first]


@dataclass
class Chart:
    """The 30-day chart's geometry, computed here so the template only draws it (SVG, no
    JavaScript)."""
    days: list[Day]
    width: int
    height: int
    top: int
    bottom: int
    left: int
    step: float
    max_orders: int
    bars: list[tuple[float, float, float, Day]]   # x, y, height, day
    line: str                                    # polyline points of the on-time rate
    dots: list[tuple[float, float, Day]]
    total_orders: int
    on_time_rate: float | None
    ticks: list[tuple[float, str]]               # x, label (weekly dates)


def chart(days: list[Day], width: int = 720, height: int = 220) -> Chart:
    top, bottom, left, right = 16, 28, 36, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(days), 1)
    peak = max((d.orders for d in days), default=0)
    scale = _nice_ceiling(peak)
    bars, dots = [], []
    for i, d in enumerate(days):
        h = plot_h * d.orders / scale if scale else 0
        bars.append((left + i * step + step * 0.15, top + plot_h - h, h, d))
        if d.on_time_rate is not None:
            dots.append((left + i * step + step / 2, top + plot_h * (1 - d.on_time_rate), d))
    due = sum(d.due for d in days)
    ticks = [(left + i * step + step / 2, f"{d.day:%b} {d.day.day}")
             for i, d in enumerate(days) if i % 7 == 0]
    return Chart(days, width, height, top, bottom, left, step, scale, bars,
                 " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in dots), dots,
                 sum(d.orders for d in days),
                 sum(d.on_time for d in days) / due if due else None, ticks)


def _nice_ceiling(value: int) -> int:
    """The axis' top: 5, 10, 20, 50, 100, … at least `value`."""
    if value <= 0:
        return 0
    nice = 5
    while nice < value:
        nice = nice * 2 if str(nice)[0] in "15" else nice * 5 // 2
    return nice
