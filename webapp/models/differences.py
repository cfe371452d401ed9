"""Where Orderdeck and Walmart disagree about an order: one finding per difference."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.base import UTCDateTime, utcnow


class WalmartDifference(db.Model):
    """What we think against what Walmart shows, for one order (and line), from when an
    import found it until one finds them agreeing again (resolved_at).

    Today's only source is the check after "Fixed in Seller Center" (source "fixed_check",
    task = the update closed by hand). A reconciliation can store its other differences here
    (its own source and kind: refunded quantities, tracking numbers, stock), so the order's
    "Walmart disagrees" flag, the Orders filter and Home's count cover them too."""
    __tablename__ = "walmart_differences"
    __table_args__ = (Index("ix_walmart_differences_open", "resolved_at", "order_id"),
                      Index("ix_walmart_differences_order", "order_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("sync_tasks.id"))
    source: Mapped[str] = mapped_column(String(20))   # what found it: "fixed_check", …
    # What differs: today the kind of update closed by hand ("ship", "cancel" …); a
    # reconciliation adds its own kinds, so this is not limited to the task kinds.
    kind: Mapped[str] = mapped_column(String(20))
    ours: Mapped[str] = mapped_column(Text)           # what Orderdeck expected, in words
    walmart: Mapped[str] = mapped_column(Text)        # what Walmart showed, in words
    found_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    order = relationship("Order")
    order_line = relationship("OrderLine")
    task = relationship("SyncTask")
