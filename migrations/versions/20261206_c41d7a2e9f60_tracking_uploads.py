"""Tracking uploads: each confirmed tracking file and what it did per order (its result page
reads it back and follows the shipments to Walmart). A new table: existing rows untouched.

Revision ID: c41d7a2e9f60
Revises: c4f1a8e2d9b3
Create Date: 2026-12-06 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c41d7a2e9f60'
down_revision = 'c4f1a8e2d9b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'tracking_uploads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.String(length=254), nullable=False),
        sa.Column('outcomes', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_tracking_uploads_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_uploads')),
    )


def downgrade():
    op.drop_table('tracking_uploads')
