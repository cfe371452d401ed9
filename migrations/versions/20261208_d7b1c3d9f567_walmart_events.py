"""Walmart's order notifications: a walmart_events table (one row per notification a store's
endpoint received, unique per store and Walmart's eventId, kept until a job has read its
purchase order back) and the store's subscription (encrypted password, Walmart's id, status,
address, last test, last refusal). Existing rows: stores not subscribed (every new column
NULL), no event.

Revision ID: d7b1c3d9f567
Revises: d6a0b2c8e456
Create Date: 2026-12-08 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7b1c3d9f567'
down_revision = 'd6a0b2c8e456'
branch_labels = None
depends_on = None

STORE_COLUMNS = [  # (name, type): all nullable, NULL for existing stores
    ('events_password_encrypted', sa.Text()),
    ('events_subscription_id', sa.String(length=64)),
    ('events_status', sa.String(length=16)),
    ('events_url', sa.String(length=255)),
    ('events_tested_at', sa.DateTime(timezone=True)),
    ('events_error', sa.Text()),
]


def upgrade():
    # Plain ADD COLUMN (no batch copy): other tables point at stores.
    for name, type_ in STORE_COLUMNS:
        op.add_column('stores', sa.Column(name, type_, nullable=True))
    op.create_table(
        'walmart_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.String(length=128), nullable=False),
        sa.Column('event_type', sa.String(length=40), nullable=True),
        sa.Column('sub_event_type', sa.String(length=40), nullable=True),
        sa.Column('purchase_order_id', sa.String(length=64), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.String(length=20), nullable=True),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'],
                                name=op.f('fk_walmart_events_store_id_stores')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_walmart_events')),
        sa.UniqueConstraint('store_id', 'event_id', name='uq_walmart_events_store_event'),
    )
    op.create_index('ix_walmart_events_store_received', 'walmart_events',
                    ['store_id', 'received_at'])
    op.create_index('ix_walmart_events_unhandled', 'walmart_events',
                    ['handled_at', 'next_attempt_at'])


def downgrade():
    op.drop_index('ix_walmart_events_unhandled', table_name='walmart_events')
    op.drop_index('ix_walmart_events_store_received', table_name='walmart_events')
    op.drop_table('walmart_events')
    for name, _type in reversed(STORE_COLUMNS):  # (SQLite 3.35+ drops a column in place)
        op.drop_column('stores', name)
