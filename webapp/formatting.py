"""What templates show as text: dates in the team's time zone, money, ship-by urgency, and an
Orders-page row's cells."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from jinja2 import pass_context

from webapp.models import ReturnStatus
from webapp.team_time import team_zone
from webapp.walmart.enums import cancellation_label


def _context_zone(ctx) -> ZoneInfo:
    """The zone the context processor put in this render (one config lookup per page, not
    one per date on it)."""
    return ctx.get("team_zone") or team_zone()


def _format(value: datetime | None, zone: ZoneInfo, fmt: str) -> str:
    return "—" if value is None else value.astimezone(zone).strftime(fmt)


@pass_context
def local_time(ctx, value: datetime | None, fmt: str = "%b %d, %Y %H:%M") -> str:
    return _format(value, _context_zone(ctx), fmt)


@pass_context
def local_date(ctx, value: datetime | None) -> str:
    return _format(value, _context_zone(ctx), "%b %d, %Y")


@pass_context
def ago(ctx, value: datetime | None) -> str:
    """'3 min ago', 'just now', '2 h ago', or the date."""
    if value is None:
        return "never"
    seconds = (datetime.now(UTC) - value).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return _format(value, _context_zone(ctx), "%b %d, %Y")


def money(amount: Decimal | float | None, currency: str = "USD") -> str:
    if amount is None:
        return "—"
    symbol = {"USD": "$"}.get(currency)
    text = f"{Decimal(amount):,.2f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


@pass_context
def ship_by_state(ctx, order) -> str:
    """'overdue' or 'due-today' while units remain to ship, else ''."""
    zone = _context_zone(ctx)
    return _urgency(order, zone, ctx.get("team_today") or datetime.now(zone).date())


class RowCells(NamedTuple):
    """An Orders-page row's dates, value and ship-by urgency as text."""
    value: str
    ordered: str
    ship_by: str
    urgency: str
    deliver_by: str
    updated: str


@pass_context
def row_cells(ctx, order) -> RowCells:
    """Every formatted cell of a row in one call (a page has 50 rows: one call each, instead
    of six filters each)."""
    zone = _context_zone(ctx)
    today = ctx.get("team_today") or datetime.now(zone).date()
    # No-break spaces inside a date: a narrow column wraps between the date and the time only.
    return RowCells(money(order.order_value, order.currency),
                    _format(order.order_date, zone, "%b\u00a0%d,\u00a0%Y %H:%M"),
                    _format(order.ship_by, zone, "%b\u00a0%d,\u00a0%Y"),
                    _urgency(order, zone, today),
                    _format(order.deliver_by, zone, "%b\u00a0%d,\u00a0%Y"),
                    _format(order.updated_at, zone, "%b\u00a0%d,\u00a0%Y %H:%M"))


def _urgency(order, zone: ZoneInfo, today) -> str:
    if order.ship_by is None or order.import_error or all(x.open_qty == 0 for x in order.lines):
        return ""
    due = order.ship_by.astimezone(zone).date()
    if due < today:
        return "overdue"
    return "due-today" if due == today else ""


def return_urgency(ret) -> str:
    """'overdue' when the return-by date passed (Walmart may refund on the seller's behalf),
    'due-today' within two days, while anything is left to refund."""
    if ret.return_by is None or ret.status == ReturnStatus.REFUNDED:
        return ""
    days = (ret.return_by - datetime.now(UTC)).total_seconds() / 86400
    return "overdue" if days < 0 else "due-today" if days < 2 else ""


# Audit details whose dicts count units per order line: {"1": 2} reads "line 1 × 2".
_PER_LINE = {"lines", "units", "was_units"}


def audit_value(key: str, value) -> str:
    """An audit detail as a person reads it: words for Walmart's codes, lists joined, units
    per line, yes/no — never JSON."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key in ("reason", "was_reason") and isinstance(value, str):
        return cancellation_label(value)
    if isinstance(value, dict):
        if key in _PER_LINE:
            return ", ".join(f"line {line} × {qty}" for line, qty in value.items())
        return ", ".join(f"{k.replace('_', ' ')}: {audit_value(k, v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(audit_value(key, v) for v in value) or "—"
    return str(value)
