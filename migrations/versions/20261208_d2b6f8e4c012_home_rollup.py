"""Home at a million orders: partial indexes of the orders that may have open units (by Ship
By) and of the lines with open units, and the 30-day chart kept per local day — a day_figures table, and database triggers that
mark which days went stale in day_figures_changes whenever an order or a shipment is written
(the importer inserts orders in bulk, so only the database sees every write).

Existing rows: nothing is copied. The chart's days are counted lazily: the first Home after
the upgrade counts the 29 complete days of its window (indexed range queries, once) and keeps
them; the triggers keep them exact from then on.

Any later migration that rebuilds `orders` or `shipments` on SQLite (batch mode copies a table
and drops the old one, its triggers with it) must create these triggers again:
tests/test_home_rollup.py checks that the head schema has them.

Revision ID: d2b6f8e4c012
Revises: d1a5e7c3b901
Create Date: 2026-12-08 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd2b6f8e4c012'
down_revision = 'd1a5e7c3b901'
branch_labels = None
depends_on = None

OPEN_STATUSES = "status NOT IN ('Shipped', 'Canceled')"
OPEN_LINE = "quantity > shipped_qty + canceled_qty"

# Moments older than this never enter the chart again (its window only moves forward and
# starts less than 31 days back): they are not marked, so a backfill of old orders is free.
SQLITE_RECENT = "datetime('now', '-32 days')"

SQLITE_TRIGGERS = {
    # An order's date counts its day's "placed"; its Ship By, when not cancelled, "due".
    'day_figures_order_inserted': f"""
        CREATE TRIGGER day_figures_order_inserted AFTER INSERT ON orders
        BEGIN
            INSERT INTO day_figures_changes (at)
            SELECT at FROM (SELECT NEW.order_date AS at UNION SELECT NEW.ship_by)
            WHERE at >= {SQLITE_RECENT};
        END""",
    'day_figures_order_deleted': f"""
        CREATE TRIGGER day_figures_order_deleted AFTER DELETE ON orders
        BEGIN
            INSERT INTO day_figures_changes (at)
            SELECT at FROM (SELECT OLD.order_date AS at UNION SELECT OLD.ship_by)
            WHERE at >= {SQLITE_RECENT};
        END""",
    # Only a change of what a day counts: the date, the Ship By, or being cancelled or not
    # (an order that ships changes its status, and its shipment marks its day).
    'day_figures_order_changed': f"""
        CREATE TRIGGER day_figures_order_changed
        AFTER UPDATE OF order_date, ship_by, status ON orders
        WHEN OLD.order_date IS NOT NEW.order_date OR OLD.ship_by IS NOT NEW.ship_by
            OR (OLD.status = 'Canceled') IS NOT (NEW.status = 'Canceled')
        BEGIN
            INSERT INTO day_figures_changes (at)
            SELECT at FROM (
                SELECT OLD.order_date AS at, OLD.order_date IS NOT NEW.order_date AS moved
                UNION ALL SELECT NEW.order_date, OLD.order_date IS NOT NEW.order_date
                UNION ALL SELECT OLD.ship_by, OLD.ship_by IS NOT NEW.ship_by
                    OR (OLD.status = 'Canceled') IS NOT (NEW.status = 'Canceled')
                UNION ALL SELECT NEW.ship_by, OLD.ship_by IS NOT NEW.ship_by
                    OR (OLD.status = 'Canceled') IS NOT (NEW.status = 'Canceled'))
            WHERE moved AND at >= {SQLITE_RECENT};
        END""",
    # A shipment decides whether its order's due day counts it as shipped on time.
    'day_figures_shipment_inserted': f"""
        CREATE TRIGGER day_figures_shipment_inserted AFTER INSERT ON shipments
        BEGIN
            INSERT INTO day_figures_changes (at)
            SELECT ship_by FROM orders
            WHERE id = NEW.order_id AND ship_by >= {SQLITE_RECENT};
        END""",
    'day_figures_shipment_changed': f"""
        CREATE TRIGGER day_figures_shipment_changed
        AFTER UPDATE OF order_id, ship_time ON shipments
        WHEN OLD.order_id IS NOT NEW.order_id OR OLD.ship_time IS NOT NEW.ship_time
        BEGIN
            INSERT INTO day_figures_changes (at)
            SELECT ship_by FROM orders
            WHERE id IN (OLD.order_id, NEW.order_id) AND ship_by >= {SQLITE_RECENT};
        END""",
    'day_figures_shipment_deleted': f"""
        CREATE TRIGGER day_figures_shipment_deleted AFTER DELETE ON shipments
        BEGIN
            INSERT INTO day_figures_changes (at)
            SELECT ship_by FROM orders
            WHERE id = OLD.order_id AND ship_by >= {SQLITE_RECENT};
        END""",
}

# PostgreSQL: the same marks, from two plpgsql functions (a trigger there runs a function).
POSTGRESQL_FUNCTIONS = {
    'day_figures_mark_order': """
        CREATE FUNCTION day_figures_mark_order() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            moments timestamptz[] := '{}';
        BEGIN
            IF TG_OP = 'INSERT' THEN
                moments := ARRAY[NEW.order_date, NEW.ship_by];
            ELSIF TG_OP = 'DELETE' THEN
                moments := ARRAY[OLD.order_date, OLD.ship_by];
            ELSE
                IF OLD.order_date IS DISTINCT FROM NEW.order_date THEN
                    moments := moments || ARRAY[OLD.order_date, NEW.order_date];
                END IF;
                IF OLD.ship_by IS DISTINCT FROM NEW.ship_by OR (OLD.status = 'Canceled')
                        IS DISTINCT FROM (NEW.status = 'Canceled') THEN
                    moments := moments || ARRAY[OLD.ship_by, NEW.ship_by];
                END IF;
            END IF;
            INSERT INTO day_figures_changes (at)
            SELECT DISTINCT moment FROM unnest(moments) AS moment
            WHERE moment >= now() - interval '32 days';
            RETURN NULL;
        END $$""",
    'day_figures_mark_shipment': """
        CREATE FUNCTION day_figures_mark_shipment() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            order_ids integer[];
        BEGIN
            IF TG_OP = 'INSERT' THEN
                order_ids := ARRAY[NEW.order_id];
            ELSIF TG_OP = 'DELETE' THEN
                order_ids := ARRAY[OLD.order_id];
            ELSE
                order_ids := ARRAY[OLD.order_id, NEW.order_id];
            END IF;
            INSERT INTO day_figures_changes (at)
            SELECT ship_by FROM orders
            WHERE id = ANY(order_ids) AND ship_by >= now() - interval '32 days';
            RETURN NULL;
        END $$""",
}
POSTGRESQL_TRIGGERS = {
    'day_figures_order_written': """
        CREATE TRIGGER day_figures_order_written AFTER INSERT OR DELETE ON orders
        FOR EACH ROW EXECUTE FUNCTION day_figures_mark_order()""",
    'day_figures_order_changed': """
        CREATE TRIGGER day_figures_order_changed
        AFTER UPDATE OF order_date, ship_by, status ON orders FOR EACH ROW
        WHEN (OLD.order_date IS DISTINCT FROM NEW.order_date
              OR OLD.ship_by IS DISTINCT FROM NEW.ship_by
              OR (OLD.status = 'Canceled') IS DISTINCT FROM (NEW.status = 'Canceled'))
        EXECUTE FUNCTION day_figures_mark_order()""",
    'day_figures_shipment_written': """
        CREATE TRIGGER day_figures_shipment_written AFTER INSERT OR DELETE ON shipments
        FOR EACH ROW EXECUTE FUNCTION day_figures_mark_shipment()""",
    'day_figures_shipment_changed': """
        CREATE TRIGGER day_figures_shipment_changed
        AFTER UPDATE OF order_id, ship_time ON shipments FOR EACH ROW
        WHEN (OLD.order_id IS DISTINCT FROM NEW.order_id
              OR OLD.ship_time IS DISTINCT FROM NEW.ship_time)
        EXECUTE FUNCTION day_figures_mark_shipment()""",
}
TRIGGER_TABLES = {'day_figures_order_written': 'orders', 'day_figures_order_changed': 'orders',
                  'day_figures_shipment_written': 'shipments',
                  'day_figures_shipment_changed': 'shipments'}


def upgrade():
    op.create_index('ix_orders_open_ship_by', 'orders',
                    ['ship_by', 'status', 'intent_to_cancel', 'id'],
                    sqlite_where=sa.text(OPEN_STATUSES), postgresql_where=sa.text(OPEN_STATUSES))
    op.create_index('ix_order_lines_open', 'order_lines',
                    ['order_id', 'acknowledged', 'quantity', 'shipped_qty', 'canceled_qty'],
                    sqlite_where=sa.text(OPEN_LINE), postgresql_where=sa.text(OPEN_LINE))
    op.create_table(
        'day_figures',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('zone', sa.String(length=64), nullable=False),
        sa.Column('placed', sa.Integer(), nullable=False),
        sa.Column('due', sa.Integer(), nullable=False),
        sa.Column('on_time', sa.Integer(), nullable=False),
        sa.Column('counted_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_day_figures')))
    op.create_table(
        'day_figures_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_day_figures_changes')))
    op.create_index('ix_day_figures_changes_at', 'day_figures_changes', ['at'])
    if op.get_bind().dialect.name == 'postgresql':
        for sql in (*POSTGRESQL_FUNCTIONS.values(), *POSTGRESQL_TRIGGERS.values()):
            op.execute(sql)
    else:
        for sql in SQLITE_TRIGGERS.values():
            op.execute(sql)
        # A database that has statistics (someone ran ANALYZE) needs them for the new indexes
        # too: knowing only the old ones, SQLite would take each line's row over the small
        # index. (Without any statistics it picks the small indexes by itself.)
        bind = op.get_bind()
        if bind.execute(sa.text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
            op.execute('ANALYZE ix_orders_open_ship_by')
            op.execute('ANALYZE ix_order_lines_open')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for name, table in TRIGGER_TABLES.items():
            op.execute(f'DROP TRIGGER {name} ON {table}')
        for name in POSTGRESQL_FUNCTIONS:
            op.execute(f'DROP FUNCTION {name}()')
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f'DROP TRIGGER {name}')
    op.drop_index('ix_day_figures_changes_at', table_name='day_figures_changes')
    op.drop_table('day_figures_changes')
    op.drop_table('day_figures')
    op.drop_index('ix_order_lines_open', table_name='order_lines')
    op.drop_index('ix_orders_open_ship_by', table_name='orders')
