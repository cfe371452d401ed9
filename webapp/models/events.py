"""Order notifications Walmart sent to a store's endpoint, kept until handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.base import UTCDateTime, utcnow


class WalmartEvent(db.Model):
    """One notification, stored before Walmart is answered 200 and handled by a job that
    reads its purchase order back (services/orders/events.py). Unique per store and Walmart's
    eventId: a notification Walmart sends again is answered without a second row. Only what
    says which order to read is kept, never the event's own account of the order."""
    __tablename__ = "walmart_events"
    __table_args__ = (UniqueConstraint("store_id", "event_id",
                                       name="uq_walmart_events_store_event"),
                      Index("ix_walmart_events_store_received", "store_id", "received_at"),
                      Index("ix_walmart_events_unhandled", "handled_at", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    event_id: Mapped[str] = mapped_column(String(128))         # Walmart's source.eventId
    event_type: Mapped[str | None] = mapped_column(String(40))      # source.eventType
    sub_event_type: Mapped[str | None] = mapped_column(String(40))  # payload.subEventType
    purchase_order_id: Mapped[str | None] = mapped_column(String(64))  # what to read back
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What handling it did: created, updated, unchanged, no_order, not_found, import_off,
    # gave_up (the scheduled import reconciles whatever an event could not do).
    outcome: Mapped[str | None] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<WalmartEvent {self.id} store {self.store_id} {self.purchase_order_id}>"
