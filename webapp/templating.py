"""Template filters: dates in the team's time zone, money with its currency."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Flask, current_app


def local_time(value: datetime | None, fmt: str = "%b %d, %Y %H:%M") -> str:
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(fmt)


def money(amount: Decimal | float | None, currency: str = "USD") -> str:
    if amount is None:
        return "—"
    symbol = {"USD": "$"}.get(currency)
    text = f"{Decimal(amount):,.2f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["money"] = money
    app.jinja_env.globals["timezone_name"] = lambda: current_app.config["TIMEZONE"]
