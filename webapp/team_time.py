"""The team's time zone (ORDERDECK_TIMEZONE): the days and times people see and type."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app


@lru_cache(maxsize=8)
def _zone_named(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def team_zone() -> ZoneInfo:
    """The zone dates are shown, filtered and counted in."""
    return _zone_named(current_app.config["TIMEZONE"])


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` in the team's zone."""
    return datetime.combine(day, time.min, team_zone())
