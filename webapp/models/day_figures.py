"""Home's 30-day chart, kept per local day, and the marks that say which days went stale."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.base import UTCDateTime, utcnow


class DayFigures(db.Model):
    """One complete local day of the chart, counted in `zone` (the team's zone when it was
    counted; a row of another zone is counted again): orders placed that day, orders due that
    day (Ship By on it, not cancelled) and how many of those shipped by their Ship By.
    services/orders/day_figures.py keeps the rows of the chart's days and no others."""
    __tablename__ = "day_figures"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    zone: Mapped[str] = mapped_column(String(64))
    placed: Mapped[int] = mapped_column()
    due: Mapped[int] = mapped_column()
    on_time: Mapped[int] = mapped_column()
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DayFiguresChange(db.Model):
    """A moment whose day may count differently now: an order's date or Ship By as it was and
    as it is, written by database triggers (migration d2b6f8e4c012) when an order is inserted,
    deleted, or changes its date, Ship By or status, and when a shipment of it is written —
    whoever writes, the importer's bulk INSERTs included. Only moments of the last 32 days are
    marked: older days never enter the chart again."""
    __tablename__ = "day_figures_changes"
    __table_args__ = (Index("ix_day_figures_changes_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
