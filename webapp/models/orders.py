"""Walmart purchase orders as Orderdeck keeps them."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.base import UTCDateTime, str_enum, utcnow


class OrderStatus(enum.StrEnum):
    """Channel Manager's statuses (the seed's names)."""
    OPEN = "Open"
    PARTIALLY_SHIPPED = "Partially Shipped"
    SHIPPED = "Shipped"
    CANCELED = "Canceled"
    RETURN_REQUESTED = "Return requested"
    ERROR = "Error"

    @property
    def slug(self) -> str:
        return self.value.lower().replace(" ", "-")

    @classmethod
    def from_slug(cls, slug: str) -> OrderStatus | None:
        return next((s for s in cls if s.slug == slug), None)


# An order Shipped or Canceled has no unit left open; any other may have (Home's needs look
# no further than these orders, and at their open lines).
NO_OPEN_UNITS = (OrderStatus.SHIPPED, OrderStatus.CANCELED)
# The same as SQL with literals: a shop's years of Shipped and Canceled orders are left out of
# ix_orders_open_ship_by, and SQLite uses a partial index only for a query that repeats its
# condition word for word (bound parameters do not count). NOT IN, unlike IN, is no range of
# the status index either: SQLite, with or without statistics, then reads the small one.
MAY_HAVE_OPEN_UNITS_SQL = "status NOT IN ({})".format(
    ", ".join(f"'{status.value}'" for status in NO_OPEN_UNITS))
# A line with units neither shipped nor cancelled (dashboard.OPEN_LINE, the same words).
OPEN_LINE_SQL = "quantity > shipped_qty + canceled_qty"


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("store_id", "purchase_order_id", name="uq_orders_store_po"),
        Index("ix_orders_status_date", "status", "order_date", "id"),
        Index("ix_orders_store_date", "store_id", "order_date", "id"),
        Index("ix_orders_store_status_date", "store_id", "status", "order_date", "id"),
        Index("ix_orders_order_date", "order_date", "id"),
        Index("ix_orders_ship_by", "ship_by", "id"),
        Index("ix_orders_updated", "updated_at", "id"),
        # The other sorts under a status card or a store filter: without these the database
        # takes the equality's index and sorts every matching order (years of Shipped ones).
        Index("ix_orders_status_ship_by", "status", "ship_by", "id"),
        Index("ix_orders_status_updated", "status", "updated_at", "id"),
        Index("ix_orders_store_ship_by", "store_id", "ship_by", "id"),
        Index("ix_orders_store_updated", "store_id", "updated_at", "id"),
        # Orders imported today (Stores' health).
        Index("ix_orders_created_at", "created_at"),
        # The ship nodes a store's orders name (stock.ship_nodes.known_nodes seeks it).
        Index("ix_orders_store_ship_node", "store_id", "ship_node"),
        # Only the orders that may have open units, by Ship By: Home's "ship by today" and
        # "overdue" read a few hundred entries, not a million orders' statuses (the other
        # columns are there so that Home's counts read the index alone: SQLite checks the
        # condition again, and PostgreSQL's index holds no id unless named).
        Index("ix_orders_open_ship_by", "ship_by", "status", "intent_to_cancel", "id",
              sqlite_where=text(MAY_HAVE_OPEN_UNITS_SQL),
              postgresql_where=text(MAY_HAVE_OPEN_UNITS_SQL)),
        # "Not yet printed" under the Orders page's sorts: only the unprinted orders, in the
        # page's order, so the filter reads one page whatever the number of printed ones.
        Index("ix_orders_unprinted_date", "order_date", "id",
              sqlite_where=text("printed_at IS NULL"), postgresql_where=text("printed_at IS NULL")),
        Index("ix_orders_unprinted_ship_by", "ship_by", "id",
              sqlite_where=text("printed_at IS NULL"), postgresql_where=text("printed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    # Our own order number: readable, increasing per installation (set from the id).
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    purchase_order_id: Mapped[str] = mapped_column(String(40), index=True)
    customer_order_id: Mapped[str | None] = mapped_column(String(40), index=True)
    customer_name: Mapped[str | None] = mapped_column(String(200))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    ship_name: Mapped[str | None] = mapped_column(String(200))
    address1: Mapped[str | None] = mapped_column(String(255))
    address2: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str | None] = mapped_column(String(120))
    state: Mapped[str | None] = mapped_column(String(40))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(40))
    address_type: Mapped[str | None] = mapped_column(String(20))
    order_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ship_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deliver_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ship_method: Mapped[str | None] = mapped_column(String(20))
    # Walmart's ship node (fulfillment centre) for this order, when it names one.
    ship_node: Mapped[str | None] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    order_value: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus, 20), default=OrderStatus.OPEN)
    status_details: Mapped[str | None] = mapped_column(Text)
    intent_to_cancel: Mapped[bool] = mapped_column(default=False)
    # Sync work in flight for this order: the Orders page polls while any row has it.
    in_flight: Mapped[bool] = mapped_column(default=False, index=True)
    return_open: Mapped[bool] = mapped_column(default=False)
    # The return shown from Status details while one is open.
    open_return_id: Mapped[int | None] = mapped_column()
    # An import found Walmart showing otherwise than what we recorded (walmart_differences has
    # what): the order page says it, the Orders page tags it and filters on it.
    walmart_disagrees: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Set when Walmart sent this order but it could not be stored; cleared when it imports.
    import_error: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[dict | None] = mapped_column(JSON)
    # When its packing slip was last printed (services/printing); None: never.
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    store = relationship("Store", lazy="joined")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan")

    @property
    def status_enum(self) -> OrderStatus:
        return OrderStatus(self.status)

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


class OrderStatusDelta(db.Model):
    """+1/-1 per order entering/leaving a (store, status), written by triggers on `orders`
    (services/orders/status_counts.py says why; the sweeper folds them)."""
    __tablename__ = "order_status_deltas"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(20))
    delta: Mapped[int] = mapped_column()


class OrderLine(db.Model):
    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "line_number", name="uq_order_lines_number"),
        # Only the lines with units neither shipped nor cancelled (a few thousand of a shop's
        # millions), with what Home's needs check: "has an open line (not acknowledged)" is
        # one probe of a small index.
        Index("ix_order_lines_open", "order_id", "acknowledged", "quantity", "shipped_qty",
              "canceled_qty", sqlite_where=text(OPEN_LINE_SQL),
              postgresql_where=text(OPEN_LINE_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    line_number: Mapped[str] = mapped_column(String(10))
    sku: Mapped[str] = mapped_column(String(100), index=True)
    product_name: Mapped[str] = mapped_column(String(500), default="")
    quantity: Mapped[int] = mapped_column()
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    shipping: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    shipped_qty: Mapped[int] = mapped_column(default=0)
    delivered_qty: Mapped[int] = mapped_column(default=0)
    canceled_qty: Mapped[int] = mapped_column(default=0)
    refunded_qty: Mapped[int] = mapped_column(default=0)
    acknowledged: Mapped[bool] = mapped_column(default=False)
    intent_to_cancel: Mapped[bool] = mapped_column(default=False)
    cancellation_reason: Mapped[str | None] = mapped_column(String(60))
    # Walmart's own view of the line: quantity per status.
    walmart_statuses: Mapped[dict] = mapped_column(JSON, default=dict)
    # Where Walmart sends this line's returns, when it names a return centre (name and
    # address only: the packing slip prints it).
    return_center: Mapped[dict | None] = mapped_column(JSON)

    order: Mapped[Order] = relationship(back_populates="lines")

    @property
    def open_qty(self) -> int:
        """Units neither shipped nor canceled."""
        return max(self.quantity - self.shipped_qty - self.canceled_qty, 0)

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity + self.tax + self.shipping


# The Orders page's search (webapp/services/orders/search.py). A SKU by prefix, and a name
# query shorter than three characters by the start of the name: ranges on lower(...), which
# text_pattern_ops on PostgreSQL compares byte by byte — under a collation like en_US a range
# of ordinary text is not a prefix. Each holds the order's id, so a search that counts how many
# orders a text finds reads the index in order and stops. The exact matches (PO, customer
# order, our number, tracking number) use the indexes declared with their columns.
Index("ix_order_lines_sku_lower", func.lower(OrderLine.sku).label("sku_lower"),
      OrderLine.order_id, postgresql_ops={"sku_lower": "text_pattern_ops"})
Index("ix_orders_customer_name_lower", func.lower(Order.customer_name).label("name_lower"),
      Order.id, postgresql_ops={"name_lower": "text_pattern_ops"})
# A name fragment anywhere in the name: pg_trgm's GIN index, which ILIKE uses. SQLite has an
# FTS5 trigram table instead (orders_name_search, kept by triggers; no model can say it), made
# by migration d1a5e7c3b901 like the rest; where pg_trgm could not be created the index is
# missing and the search scans (docs/operations.md).
Index("ix_orders_customer_name_trgm", Order.customer_name, postgresql_using="gin",
      postgresql_ops={"customer_name": "gin_trgm_ops"}).ddl_if(dialect="postgresql")

class SkuStock(db.Model):
    """Stock of one SKU at one ship node of one store; untracked (on_hand None) until the team
    sets it. Ship node "" is the store's default node (or none named)."""
    __tablename__ = "sku_stock"
    __table_args__ = (UniqueConstraint("store_id", "sku", "ship_node",
                                       name="uq_sku_stock_store_sku_node"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    sku: Mapped[str] = mapped_column(String(100))
    ship_node: Mapped[str] = mapped_column(String(40), default="", server_default="")
    on_hand: Mapped[int | None] = mapped_column()
    reserved: Mapped[int] = mapped_column(default=0)
    # What Walmart last accepted for this SKU, and when.
    pushed_quantity: Mapped[int | None] = mapped_column()
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def tracked(self) -> bool:
        return self.on_hand is not None

    @property
    def available(self) -> int | None:
        """On hand minus reserved, never below 0; None while untracked."""
        return None if self.on_hand is None else max(self.on_hand - (self.reserved or 0), 0)


class ImportRun(db.Model):
    """One import pass of one store: what it read, created and could not store."""
    __tablename__ = "import_runs"
    __table_args__ = (
        Index("ix_import_runs_store_started", "store_id", "started_at"),
        # The runs still going (health's "importing now"): a handful among years of runs.
        Index("ix_import_runs_unfinished", "started_at",
              sqlite_where=text("finished_at IS NULL"),
              postgresql_where=text("finished_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    trigger: Mapped[str] = mapped_column(String(20), default="schedule")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ok: Mapped[bool | None] = mapped_column()
    pages: Mapped[int] = mapped_column(default=0)
    total_expected: Mapped[int | None] = mapped_column()
    seen: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
