"""Indexes for queries that read years of history at a million orders: each now seeks what it
returns instead of reading every row (measured in docs/benchmarks.md).

- orders (store_id, ship_node): the ship nodes a store's orders name, sought one per node
  (the stock page and every inventory push ask);
- orders (status|store_id, ship_by|updated_at, id): the Orders page's other sorts under a
  status card or a store filter (else every matching order is sorted);
- orders (created_at): orders imported today (Stores' health);
- import_runs (started_at) WHERE finished_at IS NULL: the runs still going;
- shipment_lines / cancellation_lines / return_lines (order_line_id): what an import compares
  with Walmart's lines;
- shipments / cancellations / refunds (task_id): a task's outcome finds its record;
- audit_events (subject, id): the audit log of one order;
- returns (return_by, id): the Returns list's default order.

Revision ID: d3c7a9f5e123
Revises: c41d7a2e9f60
Create Date: 2026-12-08 00:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd3c7a9f5e123'
down_revision = 'c41d7a2e9f60'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_orders_store_ship_node', 'orders', ['store_id', 'ship_node']),
    ('ix_orders_status_ship_by', 'orders', ['status', 'ship_by', 'id']),
    ('ix_orders_status_updated', 'orders', ['status', 'updated_at', 'id']),
    ('ix_orders_store_ship_by', 'orders', ['store_id', 'ship_by', 'id']),
    ('ix_orders_store_updated', 'orders', ['store_id', 'updated_at', 'id']),
    ('ix_orders_created_at', 'orders', ['created_at']),
    ('ix_shipment_lines_order_line_id', 'shipment_lines', ['order_line_id']),
    ('ix_cancellation_lines_order_line_id', 'cancellation_lines', ['order_line_id']),
    ('ix_return_lines_order_line_id', 'return_lines', ['order_line_id']),
    ('ix_shipments_task_id', 'shipments', ['task_id']),
    ('ix_cancellations_task_id', 'cancellations', ['task_id']),
    ('ix_refunds_task_id', 'refunds', ['task_id']),
    ('ix_audit_events_subject', 'audit_events', ['subject', 'id']),
    ('ix_returns_return_by', 'returns', ['return_by', 'id']),
]
UNFINISHED = sa.text('finished_at IS NULL')


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    op.create_index('ix_import_runs_unfinished', 'import_runs', ['started_at'],
                    sqlite_where=UNFINISHED, postgresql_where=UNFINISHED)


def downgrade():
    op.drop_index('ix_import_runs_unfinished', table_name='import_runs')
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
