"""What a refund gives back, per line: Walmart's tax, shipping and line total for each return
line's whole quantity (its chargeTotals), and, on each refund, the figures per line it
refunded (price, tax, shipping, total) as they were shown before refunding. Existing rows:
None — a line's figures arrive with its next import (until then the order's tax stands in),
and a refund made before keeps only its amount.

Revision ID: c4d1a8e2f310
Revises: c4d8e2f61a37
Create Date: 2026-12-07 00:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d1a8e2f310'
down_revision = 'c4d8e2f61a37'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (nullable): no batch copy of tables others point at.
    for name in ('tax_total', 'shipping_total', 'line_total'):
        op.add_column('return_lines', sa.Column(name, sa.Numeric(precision=12, scale=2),
                                                nullable=True))
    op.add_column('refunds', sa.Column('amounts', sa.JSON(), nullable=True))


def downgrade():
    op.drop_column('refunds', 'amounts')
    for name in ('line_total', 'shipping_total', 'tax_total'):
        op.drop_column('return_lines', name)
