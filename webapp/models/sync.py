"""The outbox: one row per outbound Walmart call."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.base import UTCDateTime, str_enum, utcnow


class TaskKind(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"
    SHIP = "ship"
    CANCEL = "cancel"
    REFUND = "refund"
    INVENTORY = "inventory"


class TaskState(enum.StrEnum):
    PENDING = "pending"
    SYNCED = "synced"
    ERROR = "error"
    RESOLVED = "resolved"  # fixed by hand in Seller Center
    # Refused by Walmart, then corrected by a person: replaced_by is the corrected attempt.
    CORRECTED = "corrected"


class SyncTask(db.Model):
    __tablename__ = "sync_tasks"
    __table_args__ = (
        Index("ix_sync_tasks_due", "state", "next_attempt_at"),
        Index("ix_sync_tasks_failed_at", "failed_at"),
        # Tasks are kept for good (millions after a few years), and SQLite plans without
        # statistics: it takes the index that matches the most columns by equality, so each
        # query below has an index that matches more of its columns than any other does.
        # An order's tasks: by kind and state too, so that "the order's pending cancellation"
        # never prefers the kind's index below (which holds every order's).
        Index("ix_sync_tasks_order", "order_id", "kind", "state", "id"),
        # The Sync page reads each state newest first from a cursor: unfiltered, by store, by
        # kind, by search. The store's index also serves "this store's pending tasks" (it
        # replaced store_id's own, which read all of the store's history for them).
        Index("ix_sync_tasks_state", "state", "id"),
        Index("ix_sync_tasks_store_state", "store_id", "state", "id"),
        Index("ix_sync_tasks_kind_state", "kind", "state", "id"),
        Index("ix_sync_tasks_target_state", "target", "state", "id"),
        # The newest push of a SKU (the Stock page), read newest first.
        Index("ix_sync_tasks_target", "target", "id"),
        # The earlier update of the same SKU (or return) still waiting: asked before every
        # stock push is added and before every task without an order is sent. Pending rows
        # only: a SKU's history of pushes is never read.
        Index("ix_sync_tasks_pending", "store_id", "kind", "target", "id",
              sqlite_where=text("state = 'pending'"),
              postgresql_where=text("state = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))  # ix_sync_tasks_store_state
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    kind: Mapped[TaskKind] = mapped_column(str_enum(TaskKind, 20))
    target: Mapped[str] = mapped_column(String(100))  # purchase order id, RMA or SKU
    # Exactly what is sent (a retry sends the same body); never secrets.
    payload: Mapped[dict | None] = mapped_column(JSON)
    state: Mapped[TaskState] = mapped_column(str_enum(TaskState, 10), default=TaskState.PENDING)
    # Tries at Walmart: a send, or a read-back and the send it allows (one try, one backoff
    # step); read_backs counts the read-backs among them, shown apart in the sync history.
    attempts: Mapped[int] = mapped_column(default=0)
    read_backs: Mapped[int] = mapped_column(default=0, server_default="0")
    # Tries made before the last Retry by a person: backoff and limit count only later ones.
    attempts_before_retry: Mapped[int] = mapped_column(default=0, server_default="0")
    claims: Mapped[int] = mapped_column(default=0)  # jobs that took the task (RQ job ids)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last try may have reached Walmart: read back before sending again.
    ambiguous: Mapped[bool] = mapped_column(default=False)
    stuck: Mapped[bool] = mapped_column(default=False)
    # A person is waiting for it (their action, or an update their action waits for): it may
    # use the share of Walmart's rate limit that background work leaves free.
    urgent: Mapped[bool] = mapped_column(default=False)
    last_error_code: Mapped[str | None] = mapped_column(String(120))
    last_error_field: Mapped[str | None] = mapped_column(String(120))
    last_error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # entered Error
    # "Fixed in Seller Center" or "Correct and send again": who closed it by hand, when, and
    # (for the first) what they wrote.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    # How it settled when that needs saying, e.g. "Synced by read-back: Walmart already
    # showed these lines shipped with this tracking number."
    note: Mapped[str | None] = mapped_column(Text)
    # Seconds this task waited for a store's refused credentials to be fixed: not counted
    # towards giving up (the give-up clock is paused meanwhile).
    paused_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    # A refused shipment or cancellation a person corrected: the task that carries the
    # corrected content (this one keeps what Walmart refused, and Walmart's message).
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("sync_tasks.id"))

    order = relationship("Order")
    store = relationship("Store")
    resolved_by = relationship("User")
    replaced_by = relationship("SyncTask", remote_side=[id], foreign_keys=[replaced_by_id])

    @property
    def job_id(self) -> str:
        """The RQ job id of this task's next run (each claim gets a new one)."""
        return f"sync-{self.id}-{self.claims + 1}"
