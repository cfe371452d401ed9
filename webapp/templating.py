"""Template filters and globals: dates in the team's time zone, money, ship-by urgency."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_login import current_user
from jinja2 import pass_context


@lru_cache(maxsize=8)
def _zone_named(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _zone() -> ZoneInfo:
    return _zone_named(current_app.config["TIMEZONE"])


def _context_zone(ctx) -> ZoneInfo:
    """The zone the context processor put in this render (one config lookup per page, not
    one per date on it)."""
    return ctx.get("team_zone") or _zone()


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
    from webapp.models import ReturnStatus

    if ret.return_by is None or ret.status == ReturnStatus.REFUNDED:
        return ""
    days = (ret.return_by - datetime.now(UTC)).total_seconds() / 86400
    return "overdue" if days < 0 else "due-today" if days < 2 else ""


def init_templating(app: Flask) -> None:
    from webapp.walmart.enums import RETURN_REASONS, cancellation_label, carrier_label

    app.jinja_env.filters.update(local_time=local_time, local_date=local_date, ago=ago,
                                 money=money, ship_by_state=ship_by_state,
                                 return_urgency=return_urgency, carrier_label=carrier_label,
                                 cancellation_label=cancellation_label)
    app.jinja_env.globals["return_reason"] = lambda code: RETURN_REASONS.get(code or "",
                                                                             code or "—")
    app.jinja_env.globals["timezone_name"] = lambda: current_app.config["TIMEZONE"]
    from webapp.row_cache import order_row
    app.jinja_env.globals["order_row"] = order_row
    from webapp.services.orders.queries import stamp
    app.jinja_env.globals["live_stamp"] = stamp  # what a poll was rendered at
    from webapp.services.sync.actions import waits_to_retry
    app.jinja_env.globals["waits_to_retry"] = waits_to_retry  # Send now is offered
    from webapp.services.shipping.correcting import correctable
    app.jinja_env.globals["correctable"] = correctable  # Correct and send again is offered
    from webapp.models import OrderStatus, ReturnStatus, Role, TaskKind, TaskState
    # Templates compare with members, never with the stored strings.
    app.jinja_env.globals.update(OrderStatus=OrderStatus, ReturnStatus=ReturnStatus, Role=Role,
                                 TaskKind=TaskKind, TaskState=TaskState)

    @app.context_processor
    def _team_time() -> dict:
        zone = _zone()
        return {"team_zone": zone, "team_today": datetime.now(zone).date()}

    @app.context_processor
    def _banner() -> dict:
        if not current_user.is_authenticated:
            return {"attention": None}
        from webapp.services.stores.health import banner
        return {"attention": banner()}
