"""Prints of packing slips and pick lists: who printed which orders, and when."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.base import UTCDateTime, str_enum, utcnow


class PrintKind(enum.StrEnum):
    SLIPS = "slips"
    PICK_LIST = "pick-list"

    @property
    def label(self) -> str:
        return {"slips": "Packing slips", "pick-list": "Pick list"}[self]


class PrintRecord(db.Model):
    """One print: a document of packing slips (one per order) or one pick list."""
    __tablename__ = "print_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PrintKind] = mapped_column(str_enum(PrintKind, 16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(254))  # the user's e-mail, or "cli"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    order_count: Mapped[int] = mapped_column()
    # A slip of one package already shipped (its quantities, not the units still to ship).
    package_id: Mapped[int | None] = mapped_column(ForeignKey("shipment_packages.id"))

    orders: Mapped[list[PrintedOrder]] = relationship(
        order_by="PrintedOrder.position", cascade="all, delete-orphan")


class PrintedOrder(db.Model):
    """An order in a print, at its place in the document."""
    __tablename__ = "printed_orders"
    __table_args__ = (
        # An order's prints, newest first (the order page's "Printed" line).
        Index("ix_printed_orders_order", "order_id", "record_id"),
    )

    record_id: Mapped[int] = mapped_column(ForeignKey("print_records.id"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    position: Mapped[int] = mapped_column()
