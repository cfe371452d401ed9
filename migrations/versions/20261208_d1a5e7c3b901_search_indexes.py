"""Search indexes: every meaning of the Orders page's search served by an index.

- SKU prefix (case-insensitive): an index on lower(sku) (with order_id, so the lines' order
  ids come from the index alone), queried as a range; on PostgreSQL with text_pattern_ops, so
  the range compares bytes whatever the database's collation (under en_US a range is not a
  prefix).
- A short name query (1–2 characters) matches names that start with it: an index on
  lower(customer_name) (with id), the same way.
- A name fragment (3 characters or more), anywhere in the name: on SQLite an FTS5 table with
  the trigram tokenizer over orders.customer_name (external content: the names stay in
  orders), kept exact by triggers on insert, update and delete of orders — the importer
  inserts and updates orders in bulk through Core, so only the database's own triggers see
  every write; on PostgreSQL a GIN trigram index (pg_trgm) on customer_name, which ILIKE uses.
  Where pg_trgm cannot be created (no privilege, or not installed) the upgrade goes on without
  that index and says so: the search still finds the same orders, by scanning them
  (docs/operations.md says how to add it later).
- The exact matches (Walmart PO, customer order, our number, tracking number) had their
  indexes already.

Existing rows: the indexes are built from them; the FTS table is filled from orders.

Revision ID: d1a5e7c3b901
Revises: d5f9c1b7a345
Create Date: 2026-12-08 00:10:00

A later migration that rebuilds `orders` or `order_lines` in batch mode (copy, drop, rename)
loses what SQLAlchemy cannot reflect on SQLite — the expression indexes and the triggers
below — and must create them again.
"""
import logging

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd1a5e7c3b901'
down_revision = 'd5f9c1b7a345'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

SQLITE_UPGRADE = [
    "CREATE INDEX ix_order_lines_sku_lower ON order_lines (lower(sku), order_id)",
    "CREATE INDEX ix_orders_customer_name_lower ON orders (lower(customer_name), id)",
    # External content: FTS5 keeps only the trigram index; a row's text is read from orders.
    "CREATE VIRTUAL TABLE orders_name_search USING fts5(customer_name, content='orders', "
    "content_rowid='id', tokenize='trigram')",
    # FTS5's documented pattern for external content: a delete gives the old values, which
    # the triggers have kept in step since the table was filled.
    "CREATE TRIGGER orders_name_search_insert AFTER INSERT ON orders BEGIN "
    "INSERT INTO orders_name_search (rowid, customer_name) VALUES (new.id, new.customer_name); "
    "END",
    "CREATE TRIGGER orders_name_search_delete AFTER DELETE ON orders BEGIN "
    "INSERT INTO orders_name_search (orders_name_search, rowid, customer_name) "
    "VALUES ('delete', old.id, old.customer_name); END",
    # Only when the name (or the id) is written: status updates cost nothing here.
    "CREATE TRIGGER orders_name_search_update AFTER UPDATE OF id, customer_name ON orders BEGIN "
    "INSERT INTO orders_name_search (orders_name_search, rowid, customer_name) "
    "VALUES ('delete', old.id, old.customer_name); "
    "INSERT INTO orders_name_search (rowid, customer_name) VALUES (new.id, new.customer_name); "
    "END",
    # The existing orders' names.
    "INSERT INTO orders_name_search (orders_name_search) VALUES ('rebuild')",
]
SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS orders_name_search_update",
    "DROP TRIGGER IF EXISTS orders_name_search_delete",
    "DROP TRIGGER IF EXISTS orders_name_search_insert",
    "DROP TABLE IF EXISTS orders_name_search",
    "DROP INDEX IF EXISTS ix_orders_customer_name_lower",
    "DROP INDEX IF EXISTS ix_order_lines_sku_lower",
]
POSTGRESQL_UPGRADE = [
    "CREATE INDEX ix_order_lines_sku_lower ON order_lines "
    "(lower(sku) text_pattern_ops, order_id)",
    "CREATE INDEX ix_orders_customer_name_lower ON orders "
    "(lower(customer_name) text_pattern_ops, id)",
]
TRIGRAM_INDEX = ("CREATE INDEX ix_orders_customer_name_trgm ON orders "
                 "USING gin (customer_name gin_trgm_ops)")


def create_trigram_index(bind) -> bool:
    """pg_trgm and the GIN index on customer_name; False (and a warning) where the extension
    cannot be created — the upgrade goes on without that index."""
    try:
        with bind.begin_nested():  # a savepoint: a refusal must not abort the migration
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as error:
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
        log.warning("pg_trgm could not be created (%s): searching a customer name scans the "
                    "orders until an operator creates it — see docs/operations.md, "
                    "\"Search indexes\".", reason)
        return False
    bind.execute(sa.text(TRIGRAM_INDEX))
    return True


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        try:
            for statement in SQLITE_UPGRADE:
                op.execute(statement)
        except sa.exc.OperationalError as error:  # "no such tokenizer: trigram", "…module: fts5"
            version = bind.exec_driver_sql("SELECT sqlite_version()").scalar()
            raise RuntimeError(f"The Orders search needs SQLite 3.34 or later with FTS5 (its "
                               f"trigram tokenizer); this Python's SQLite is {version}: "
                               f"{error.orig}") from error
    else:
        for statement in POSTGRESQL_UPGRADE:
            op.execute(statement)
        create_trigram_index(bind)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_DOWNGRADE:
            op.execute(statement)
    else:
        # pg_trgm itself stays: an extension belongs to the database (an operator may have
        # created it, other schemas may use it) and dropping it takes its owner's privilege.
        op.execute("DROP INDEX IF EXISTS ix_orders_customer_name_trgm")
        op.execute("DROP INDEX IF EXISTS ix_orders_customer_name_lower")
        op.execute("DROP INDEX IF EXISTS ix_order_lines_sku_lower")
