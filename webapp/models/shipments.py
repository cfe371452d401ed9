"""Shipments: one Walmart shipping call, with one or more packages (tracking numbers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.base import UTCDateTime, utcnow


class Shipment(db.Model):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("sync_tasks.id"), index=True)
    ship_time: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[str] = mapped_column(String(254))  # e-mail, or "cli"/"csv upload"
    intent_to_cancel_override: Mapped[bool] = mapped_column(default=False)
    # One per rendered form: a double-submitted form creates one shipment, not two.
    form_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Set when the tracking was corrected after shipping (Walmart's PARTIAL_UPDATE).
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    packages: Mapped[list[ShipmentPackage]] = relationship(
        back_populates="shipment", order_by="ShipmentPackage.id", cascade="all, delete-orphan")
    task = relationship("SyncTask", foreign_keys=[task_id])
    order = relationship("Order")


class ShipmentPackage(db.Model):
    __tablename__ = "shipment_packages"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    carrier: Mapped[str | None] = mapped_column(String(80))
    other_carrier: Mapped[str | None] = mapped_column(String(120))
    method_code: Mapped[str] = mapped_column(String(20))
    tracking_number: Mapped[str] = mapped_column(String(100), index=True)
    tracking_url: Mapped[str | None] = mapped_column(String(500))

    shipment: Mapped[Shipment] = relationship(back_populates="packages")
    lines: Mapped[list[ShipmentLine]] = relationship(
        back_populates="package", order_by="ShipmentLine.id", cascade="all, delete-orphan")

    @property
    def carrier_name(self) -> str:
        return self.carrier or self.other_carrier or ""


class ShipmentLine(db.Model):
    __tablename__ = "shipment_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("shipment_packages.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    quantity: Mapped[int] = mapped_column()

    package: Mapped[ShipmentPackage] = relationship(back_populates="lines")
    order_line = relationship("OrderLine")


class TrackingUpload(db.Model):
    """One confirmed tracking file and what it did per order: [{order_id, order, result
    ("Shipped", "Partially Shipped" or "Refused"), message, shipment_id, task_id}]. Its result
    page reads it back (a reload never ships twice) and follows each shipment to Walmart."""
    __tablename__ = "tracking_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[str] = mapped_column(String(254))
    outcomes: Mapped[list] = mapped_column(JSON, default=list)
