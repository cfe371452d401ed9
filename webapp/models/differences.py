"""Where Orderdeck and Walmart disagree about an order: one finding per difference."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.base import UTCDateTime, utcnow


class WalmartDifference(db.Model):
    """What we think against what Walmart shows, for one order (and line), from when an
    import found it until one finds them agreeing again (resolved_at).

    Two sources: the check after "Fixed in Seller Center" (source "fixed_check", task = the
    update closed by hand), and the reconciliation (source "reconcile", services/reconcile:
    its own kinds, a SKU's stock without an order), so the order's "Walmart disagrees" flag,
    the Orders filter and Home's count cover both."""
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
    # A stock finding's SKU and ship node ("" = the default node); None for an order's.
    sku: Mapped[str | None] = mapped_column(String(100))
    ship_node: Mapped[str | None] = mapped_column(String(40))
    # The figures compared (reconcile), e.g. {"ours": 2, "walmart": 0}: what an action uses.
    detail: Mapped[dict | None] = mapped_column(JSON)
    # What a person chose (reconcile): "adopt" or "send", when, by whom, and how it went
    # (action_task: the update "Send ours again" queued; action_error: why it could not).
    action: Mapped[str | None] = mapped_column(String(20))
    action_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    action_by_id: Mapped[int | None] = mapped_column(Integer)
    action_task_id: Mapped[int | None] = mapped_column(Integer)
    action_error: Mapped[str | None] = mapped_column(Text)

    order = relationship("Order")
    order_line = relationship("OrderLine")
    task = relationship("SyncTask")


class ReconcileRun(db.Model):
    """One reconciliation pass of one store (services/reconcile/run.py): which orders and
    SKUs it is to read, how far it got (the keyset cursor of each phase, so a pass spread
    over hours resumes where it stopped), and what it found."""
    __tablename__ = "reconcile_runs"
    __table_args__ = (Index("ix_reconcile_runs_store_started", "store_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    trigger: Mapped[str] = mapped_column(String(20), default="schedule")  # person, cli
    days: Mapped[int] = mapped_column(default=30)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # orders → returns → stock → retry → done (or failed: `error` says why)
    phase: Mapped[str] = mapped_column(String(12), default="orders")
    cursor: Mapped[int] = mapped_column(default=0)  # last id done in the phase
    orders_total: Mapped[int] = mapped_column(default=0)
    stock_total: Mapped[int] = mapped_column(default=0)
    checked: Mapped[int] = mapped_column(default=0)   # orders and SKUs compared
    skipped: Mapped[int] = mapped_column(default=0)   # an update on its way: not compared
    reads: Mapped[int] = mapped_column(default=0)     # calls to Walmart that answered
    failed_reads: Mapped[int] = mapped_column(default=0)  # calls that failed (retried)
    # Orders and SKUs whose read failed, to read again: {"orders": [ids], "stock": [ids]}.
    retry: Mapped[dict] = mapped_column(JSON, default=dict)
    retry_rounds: Mapped[int] = mapped_column(default=0)
    unread: Mapped[int] = mapped_column(default=0)    # still failing after every retry
    found: Mapped[int] = mapped_column(default=0)     # differences open after the pass
    error: Mapped[str | None] = mapped_column(Text)
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # resumes then

    store = relationship("Store")

    @property
    def running(self) -> bool:
        return self.finished_at is None
