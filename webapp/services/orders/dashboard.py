"""The Home page: what needs doing now, each store's imports, and the last 30 days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, exists, func, select

from webapp.extensions import db
from webapp.models import Order, OrderLine, OrderStatus, Return, Shipment
from webapp.models.base import utcnow
from webapp.models.returns import ReturnStatus
from webapp.services.orders import walmart_differences
from webapp.team_time import day_start, team_zone

CHART_DAYS = 30
AWAITING_REFUND = (ReturnStatus.RECEIVED, ReturnStatus.ERROR)

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
    "walmart-disagrees": ("Walmart disagrees", "Marked “Fixed in Seller Center”, but a later "
                          "import found Walmart showing otherwise: each order says what.", "bad"),
}
DISAGREES = "walmart-disagrees"
NEEDS_LABELS = {key: label for key, (label, _hint, _tone) in NEEDS.items()}

def _tomorrow_start(now: datetime) -> datetime:
    return day_start(now.astimezone(team_zone()).date() + timedelta(days=1))


# Statuses an order with a unit neither shipped nor cancelled can have: the status index
# narrows a shop's years of Shipped and Canceled orders down to these before lines are read.
MAY_HAVE_OPEN_UNITS = (OrderStatus.OPEN, OrderStatus.PARTIALLY_SHIPPED,
                       OrderStatus.RETURN_REQUESTED, OrderStatus.ERROR)


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
    return Order.status.in_(MAY_HAVE_OPEN_UNITS) & exists().where(
        OrderLine.order_id == Order.id, OPEN_LINE, flag)


def needs_counts(now: datetime) -> dict[str, int]:
    """Every need's count in one pass over the orders that may have open units: each order
    once, flagged by its open lines (what needs_condition() selects, counted at once)."""
    flags = _flags(now)
    per_order = select(*(func.max(case((flag, 1), else_=0)).label(key.replace("-", "_"))
                         for key, flag in flags.items())) \
        .select_from(Order).join(OrderLine, (OrderLine.order_id == Order.id) & OPEN_LINE) \
        .where(Order.status.in_(MAY_HAVE_OPEN_UNITS)).group_by(Order.id).subquery()
    sums = db.session.execute(select(*(func.coalesce(func.sum(column), 0)
                                       for column in per_order.c))).one()
    return dict(zip(flags, (int(n) for n in sums), strict=True))


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
class Day:
    day: date
    orders: int
    due: int       # orders whose Ship By fell on the day (and has passed), not all cancelled
    on_time: int   # of those, shipped by their Ship By

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.due if self.due else None


def needs(now: datetime | None = None) -> list[Need]:
    counts = needs_counts(now or utcnow())
    counts[DISAGREES] = walmart_differences.count_orders()
    return [Need(key, label, counts[key], hint, tone)
            for key, (label, hint, tone) in NEEDS.items()]

def awaiting_refund(limit: int = 5, now: datetime | None = None) -> tuple[int, list[Awaiting]]:
    """Returns not refunded yet: how many, and the ones whose deadline comes first."""
    now = now or utcnow()
    count = db.session.scalar(select(func.count(Return.id)).where(
        Return.status.in_(AWAITING_REFUND))) or 0
    first = db.session.scalars(select(Return).where(Return.status.in_(AWAITING_REFUND))
                               .order_by(Return.return_by.is_(None), Return.return_by, Return.id)
                               .limit(limit)).all()
    return count, [Awaiting(r, (r.return_by - now).total_seconds() / 86400
                            if r.return_by else None) for r in first]


def last_days(days: int = CHART_DAYS, now: datetime | None = None) -> list[Day]:
    """Orders placed per day, and how many orders due that day shipped on time (local days)."""
    now = now or utcnow()
    zone = team_zone()
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time.min, zone)
    placed: dict[date, int] = {}
    for (ordered,) in db.session.execute(select(Order.order_date).where(
            Order.order_date >= start)):
        day = ordered.astimezone(zone).date()
        placed[day] = placed.get(day, 0) + 1
    due: dict[date, int] = {}
    on_time: dict[date, int] = {}
    first_shipped = select(Shipment.order_id, func.min(Shipment.ship_time).label("at")) \
        .group_by(Shipment.order_id).subquery()
    rows = db.session.execute(
        select(Order.ship_by, first_shipped.c.at)
        .outerjoin(first_shipped, first_shipped.c.order_id == Order.id)
        .where(Order.ship_by >= start, Order.ship_by < now,
               Order.status != OrderStatus.CANCELED))
    for ship_by, shipped_at in rows:
        day = ship_by.astimezone(zone).date()
        due[day] = due.get(day, 0) + 1
        if shipped_at is not None and shipped_at <= ship_by:
            on_time[day] = on_time.get(day, 0) + 1
    return [Day(first + timedelta(days=i), placed.get(first + timedelta(days=i), 0),
                due.get(first + timedelta(days=i), 0), on_time.get(first + timedelta(days=i), 0))
            for i in range(days)]


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
