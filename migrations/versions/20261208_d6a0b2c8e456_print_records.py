"""Pick lists and packing slips: print_records (who printed what, when) with printed_orders
(which orders, in the document's order); orders.printed_at (when its packing slip was last
printed) with partial indexes for "not yet printed" under the Orders page's sorts;
order_lines.return_center (Walmart's return centre for the line); stores.slip_name and
stores.slip_prices. Existing rows: no order printed, no return centre (the next import of an
open order reads it), no name on slips, no prices.

Revision ID: d6a0b2c8e456
Revises: d4e8b0a6f234
Create Date: 2026-12-08 02:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd6a0b2c8e456'
down_revision = 'd4e8b0a6f234'
branch_labels = None
depends_on = None

UNPRINTED = sa.text('printed_at IS NULL')


def upgrade():
    op.create_table(
        'print_records',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=254), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('order_count', sa.Integer(), nullable=False),
        sa.Column('package_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['package_id'], ['shipment_packages.id'],
                                name=op.f('fk_print_records_package_id_shipment_packages')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_print_records_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_print_records')))
    op.create_index(op.f('ix_print_records_created_at'), 'print_records', ['created_at'])
    op.create_table(
        'printed_orders',
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'],
                                name=op.f('fk_printed_orders_order_id_orders')),
        sa.ForeignKeyConstraint(['record_id'], ['print_records.id'],
                                name=op.f('fk_printed_orders_record_id_print_records')),
        sa.PrimaryKeyConstraint('record_id', 'order_id', name=op.f('pk_printed_orders')))
    op.create_index('ix_printed_orders_order', 'printed_orders', ['order_id', 'record_id'])
    # Plain ADD COLUMN (no batch copy): other tables and triggers point at orders.
    op.add_column('orders', sa.Column('printed_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_orders_unprinted_date', 'orders', ['order_date', 'id'],
                    sqlite_where=UNPRINTED, postgresql_where=UNPRINTED)
    op.create_index('ix_orders_unprinted_ship_by', 'orders', ['ship_by', 'id'],
                    sqlite_where=UNPRINTED, postgresql_where=UNPRINTED)
    op.add_column('order_lines', sa.Column('return_center', sa.JSON(), nullable=True))
    op.add_column('stores', sa.Column('slip_name', sa.String(length=80), nullable=True))
    op.add_column('stores', sa.Column('slip_prices', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade():
    op.drop_column('stores', 'slip_prices')
    op.drop_column('stores', 'slip_name')
    op.drop_column('order_lines', 'return_center')
    op.drop_index('ix_orders_unprinted_ship_by', table_name='orders')
    op.drop_index('ix_orders_unprinted_date', table_name='orders')
    op.drop_column('orders', 'printed_at')
    op.drop_index('ix_printed_orders_order', table_name='printed_orders')
    op.drop_table('printed_orders')
    op.drop_index(op.f('ix_print_records_created_at'), table_name='print_records')
    op.drop_table('print_records')
