"""Where Walmart disagrees with what Orderdeck recorded: a walmart_differences table (order,
line, the update closed by hand, what we expected, what Walmart showed, found and resolved)
and the order's walmart_disagrees flag. Existing rows: no difference found, no order flagged.

Revision ID: c4d8e2f61a37
Revises: b7e2c4a91d05
Create Date: 2026-12-06 03:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d8e2f61a37'
down_revision = 'b7e2c4a91d05'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'walmart_differences',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('order_line_id', sa.Integer(), nullable=True),
        sa.Column('task_id', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('ours', sa.Text(), nullable=False),
        sa.Column('walmart', sa.Text(), nullable=False),
        sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'],
                                name=op.f('fk_walmart_differences_order_id_orders')),
        sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'],
                                name=op.f('fk_walmart_differences_order_line_id_order_lines')),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'],
                                name=op.f('fk_walmart_differences_store_id_stores')),
        sa.ForeignKeyConstraint(['task_id'], ['sync_tasks.id'],
                                name=op.f('fk_walmart_differences_task_id_sync_tasks')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_walmart_differences')))
    op.create_index('ix_walmart_differences_open', 'walmart_differences',
                    ['resolved_at', 'order_id'])
    op.create_index('ix_walmart_differences_order', 'walmart_differences', ['order_id', 'id'])
    # Plain ADD COLUMN (no batch copy): other tables point at orders.
    op.add_column('orders', sa.Column('walmart_disagrees', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))


def downgrade():
    op.drop_column('orders', 'walmart_disagrees')
    op.drop_index('ix_walmart_differences_order', table_name='walmart_differences')
    op.drop_index('ix_walmart_differences_open', table_name='walmart_differences')
    op.drop_table('walmart_differences')
