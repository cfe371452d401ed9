"""Reconciliation: a reconcile_runs table (one row per pass of a store: its phase and cursor,
progress, the reads to try again, what it found) and, on walmart_differences, what a
reconciliation adds to a finding (a stock finding's SKU and ship node, the figures compared)
and what a person chose for it (Adopt Walmart's state or Send ours again: when, by whom, the
update queued, why it could not). Existing findings ("Fixed in Seller Center" checks) keep
every value, the new columns NULL; no run.

Revision ID: e1a3c5f7b901
Revises: d7b1c3d9f567
Create Date: 2026-12-09 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e1a3c5f7b901'
down_revision = 'd7b1c3d9f567'
branch_labels = None
depends_on = None

DIFFERENCE_COLUMNS = [  # (name, type): all nullable, NULL for existing findings
    ('sku', sa.String(length=100)),
    ('ship_node', sa.String(length=40)),
    ('detail', sa.JSON()),
    ('action', sa.String(length=20)),
    ('action_at', sa.DateTime(timezone=True)),
    ('action_by_id', sa.Integer()),
    ('action_task_id', sa.Integer()),
    ('action_error', sa.Text()),
]


def upgrade():
    for name, type_ in DIFFERENCE_COLUMNS:
        op.add_column('walmart_differences', sa.Column(name, type_, nullable=True))
    op.create_table(
        'reconcile_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('trigger', sa.String(length=20), nullable=False),
        sa.Column('days', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('phase', sa.String(length=12), nullable=False),
        sa.Column('cursor', sa.Integer(), nullable=False),
        sa.Column('orders_total', sa.Integer(), nullable=False),
        sa.Column('stock_total', sa.Integer(), nullable=False),
        sa.Column('checked', sa.Integer(), nullable=False),
        sa.Column('skipped', sa.Integer(), nullable=False),
        sa.Column('reads', sa.Integer(), nullable=False),
        sa.Column('failed_reads', sa.Integer(), nullable=False),
        sa.Column('retry', sa.JSON(), nullable=False),
        sa.Column('retry_rounds', sa.Integer(), nullable=False),
        sa.Column('unread', sa.Integer(), nullable=False),
        sa.Column('found', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('next_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'],
                                name=op.f('fk_reconcile_runs_store_id_stores')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reconcile_runs')),
    )
    op.create_index('ix_reconcile_runs_store_started', 'reconcile_runs',
                    ['store_id', 'started_at'])


def downgrade():
    op.drop_index('ix_reconcile_runs_store_started', table_name='reconcile_runs')
    op.drop_table('reconcile_runs')
    for name, _type in reversed(DIFFERENCE_COLUMNS):  # (SQLite 3.35+ drops a column in place)
        op.drop_column('walmart_differences', name)
