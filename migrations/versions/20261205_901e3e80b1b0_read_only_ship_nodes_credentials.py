"""Read-only stores, ship nodes (orders, stores, stock per node), the credentials state,
incomplete import passes, and notes on sync tasks. Existing rows: read-write stores, stock at
the default node (""), no note, nothing paused.

Revision ID: 901e3e80b1b0
Revises: 2c025b6d482e
Create Date: 2026-12-05 23:22:22.963227

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '901e3e80b1b0'
down_revision = '2c025b6d482e'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN where other tables point at the table: a batch copy would drop it, which
    # SQLite's foreign keys refuse on an install that has rows.
    op.add_column('orders', sa.Column('ship_node', sa.String(length=40), nullable=True))
    for column in (
            sa.Column('read_only', sa.Boolean(), server_default=sa.false(), nullable=False),
            sa.Column('default_ship_node', sa.String(length=40), nullable=True),
            sa.Column('credentials_problem', sa.String(length=20), nullable=True),
            sa.Column('credentials_error', sa.Text(), nullable=True),
            sa.Column('credentials_failed_at', sa.DateTime(timezone=True), nullable=True),
            sa.Column('import_incomplete_passes', sa.Integer(), server_default='0',
                      nullable=False),
            sa.Column('import_incomplete_note', sa.Text(), nullable=True)):
        op.add_column('stores', column)
    op.add_column('sync_tasks', sa.Column('note', sa.Text(), nullable=True))
    op.add_column('sync_tasks', sa.Column('paused_seconds', sa.Integer(), server_default='0',
                                          nullable=False))

    # Nothing points at sku_stock: its unique key changes through a batch copy.
    with op.batch_alter_table('sku_stock', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ship_node', sa.String(length=40), server_default='',
                                      nullable=False))
        batch_op.drop_constraint(batch_op.f('uq_sku_stock_store_sku'), type_='unique')
        batch_op.create_unique_constraint('uq_sku_stock_store_sku_node',
                                          ['store_id', 'sku', 'ship_node'])


def downgrade():
    for table, column in (('sync_tasks', 'paused_seconds'), ('sync_tasks', 'note'),
                          ('stores', 'import_incomplete_note'),
                          ('stores', 'import_incomplete_passes'),
                          ('stores', 'credentials_failed_at'), ('stores', 'credentials_error'),
                          ('stores', 'credentials_problem'), ('stores', 'default_ship_node'),
                          ('stores', 'read_only'), ('orders', 'ship_node')):
        op.drop_column(table, column)

    # Stock at other ship nodes has no place in the old schema (one row per store and SKU).
    op.execute("DELETE FROM sku_stock WHERE ship_node <> ''")
    with op.batch_alter_table('sku_stock', schema=None) as batch_op:
        batch_op.drop_constraint('uq_sku_stock_store_sku_node', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_sku_stock_store_sku'), ['store_id', 'sku'])
        batch_op.drop_column('ship_node')

