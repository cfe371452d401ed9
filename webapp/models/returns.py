"""Walmart returns (RMAs) and the refunds we send for them."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.base import UTCDateTime, str_enum, utcnow


class ReturnStatus(enum.StrEnum):
    RECEIVED = "Received"
    REFUNDED = "Refunded"
    ERROR = "Error"

    @property
    def slug(self) -> str:
        return self.value.lower()


class Return(db.Model):
    __tablename__ = "returns"
    __table_args__ = (UniqueConstraint("store_id", "rma", name="uq_returns_store_rma"),
                      Index("ix_returns_status_by", "status", "return_by"),
                      # The Returns list's default order, every status together.
                      Index("ix_returns_return_by", "return_by", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    rma: Mapped[str] = mapped_column(String(40), index=True)  # Walmart's returnOrderId
    customer_order_id: Mapped[str] = mapped_column(String(40), index=True)
    customer_name: Mapped[str | None] = mapped_column(String(200))
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    return_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    total_refund_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    status: Mapped[ReturnStatus] = mapped_column(str_enum(ReturnStatus, 12),
                                                 default=ReturnStatus.RECEIVED, index=True)
    status_details: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Bumped by each refund, in the same statement that checks none is on its way: two
    # refunds at the same instant cannot both pass (refunding.refund_return).
    refunds_started: Mapped[int] = mapped_column(default=0, server_default="0")

    store = relationship("Store", lazy="joined")
    lines: Mapped[list[ReturnLine]] = relationship(
        back_populates="ret", order_by="ReturnLine.number", cascade="all, delete-orphan")


class ReturnLine(db.Model):
    __tablename__ = "return_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id"), index=True)
    number: Mapped[int] = mapped_column()  # Walmart's returnOrderLineNumber
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"), index=True)
    purchase_order_id: Mapped[str | None] = mapped_column(String(40))
    purchase_order_line: Mapped[int | None] = mapped_column()
    sku: Mapped[str | None] = mapped_column(String(100), index=True)
    product_name: Mapped[str | None] = mapped_column(String(500))
    reason: Mapped[str | None] = mapped_column(String(60))
    quantity: Mapped[int] = mapped_column()
    # Refunded so far: by us (sent or on its way) or by Walmart itself.
    refunded_qty: Mapped[int] = mapped_column(default=0)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    refund_channel: Mapped[str | None] = mapped_column(String(40))
    # What Walmart refunds for the whole returned quantity (its chargeTotals): the tax, the
    # shipping charge when it refunds it, and the line total. None until an import read them.
    tax_total: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    shipping_total: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    line_total: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))

    ret: Mapped[Return] = relationship(back_populates="lines")
    order = relationship("Order")

    @property
    def refundable(self) -> int:
        return max(self.quantity - self.refunded_qty, 0)


class Refund(db.Model):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("sync_tasks.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    # {return line number: quantity}, the restocked line numbers, and each line's refunded
    # quantity once this refund is applied (what the read-back looks for).
    lines: Mapped[dict] = mapped_column(JSON, default=dict)
    restocked: Mapped[list] = mapped_column(JSON, default=list)
    expected: Mapped[dict] = mapped_column(JSON, default=dict)
    # What was refunded per line, as shown before refunding: {line number: {units, unit_price,
    # price, tax, shipping, total}} (amounts as strings). None on refunds made before it.
    amounts: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[str] = mapped_column(String(254))
    # The refund form's one-time token: the same form posted twice makes one refund.
    form_token: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)

    ret = relationship("Return")
    task = relationship("SyncTask", foreign_keys=[task_id])
