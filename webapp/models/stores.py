"""A store is one Walmart seller account."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.base import UTCDateTime, str_enum, utcnow


class Environment(enum.StrEnum):
    SIMULATOR = "simulator"
    SANDBOX = "sandbox"
    PRODUCTION = "production"

    @property
    def label(self) -> str:
        return {"simulator": "Built-in simulator", "sandbox": "Walmart sandbox",
                "production": "Walmart production"}[self]


# Walmart's published hosts (walmart-api.md §1); the simulator's address comes from config.
WALMART_BASE_URLS = {
    Environment.SANDBOX: "https://sandbox.walmartapis.com",
    Environment.PRODUCTION: "https://marketplace.walmartapis.com",
}


class Store(db.Model):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    environment: Mapped[Environment] = mapped_column(str_enum(Environment, 16))
    base_url: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    # Fernet token; the plain secret is never stored, rendered or logged.
    client_secret_encrypted: Mapped[str] = mapped_column(Text)
    import_enabled: Mapped[bool] = mapped_column(default=True)
    last_import_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # last success
    last_import_error: Mapped[str | None] = mapped_column(Text)  # a summary, for everyone
    # What the remote host or network library said in its own words: admins only.
    last_import_error_detail: Mapped[str | None] = mapped_column(Text)
    last_import_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    import_failures: Mapped[int] = mapped_column(default=0)  # consecutive
    import_failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    import_alert_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Walmart's lastModified watermark: advanced only after a complete pass.
    import_watermark: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Calls per minute per Walmart endpoint, where this account's limits differ from Walmart's
    # defaults (or for the simulator's scaled limits), e.g. {"acknowledge": 600}.
    rate_limits: Mapped[dict] = mapped_column(JSON, default=dict)
    returns_watermark: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Read-only: imported and shown, nothing ever sent to Walmart (trying Orderdeck beside
    # another tool). Switching back to read-write is an explicit, confirmed step.
    read_only: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The ship node (Walmart's fulfillment centre id) used where an order names none.
    default_ship_node: Mapped[str | None] = mapped_column(String(40))
    # Walmart refused this store's credentials: "refused" (400/401 on the token) or
    # "forbidden" (403: a permission is missing). Tasks wait, their give-up clock paused.
    credentials_problem: Mapped[str | None] = mapped_column(String(20))
    credentials_error: Mapped[str | None] = mapped_column(Text)
    credentials_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Import passes of the same window that ended incomplete (a repeated cursor, fewer orders
    # than Walmart counted): after three the watermark advances anyway, and this says so.
    import_incomplete_passes: Mapped[int] = mapped_column(default=0, server_default="0")
    import_incomplete_note: Mapped[str | None] = mapped_column(Text)
    last_returns_import_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Packing slips: the name printed on them (the store's own name is an internal label;
    # None prints none) and whether they show prices.
    slip_name: Mapped[str | None] = mapped_column(String(80))
    slip_prices: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Walmart's order notifications ("Receive orders instantly", services/stores/webhooks.py):
    # the BASIC_AUTH password Orderdeck made for this store's subscription (Fernet, like the
    # client secret; never shown), Walmart's subscription id, its status (ACTIVE, INACTIVE;
    # none: not subscribed), the address Walmart sends to, when a test event last came back,
    # and what Walmart said when subscribing or testing last failed.
    events_password_encrypted: Mapped[str | None] = mapped_column(Text)
    events_subscription_id: Mapped[str | None] = mapped_column(String(64))
    events_status: Mapped[str | None] = mapped_column(String(16))
    events_url: Mapped[str | None] = mapped_column(String(255))
    events_tested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    events_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                 onupdate=utcnow)

    def __repr__(self) -> str:  # never include the secret
        return f"<Store {self.id} {self.name!r} {self.environment}>"
