"""The ship nodes a store's orders name, read by seeking an index (one step per node) rather
than reading every order of the store: the stock page and every inventory push ask for them.

Revision ID: d3c7a9f5e123
Revises: c41d7a2e9f60
Create Date: 2026-12-08 00:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd3c7a9f5e123'
down_revision = 'c41d7a2e9f60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_orders_store_ship_node', 'orders', ['store_id', 'ship_node'])


def downgrade():
    op.drop_index('ix_orders_store_ship_node', table_name='orders')
