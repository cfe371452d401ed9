"""A refused shipment or cancellation corrected by a person: the refused task stays (state
"corrected", Walmart's message kept) and points to the task carrying the corrected content.
Existing rows: nothing replaced.

Revision ID: c4f1a8e2d9b3
Revises: c4d1a8e2f310
Create Date: 2026-12-07 00:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4f1a8e2d9b3'
down_revision = 'c4d1a8e2f310'
branch_labels = None
depends_on = None

FK = 'fk_sync_tasks_replaced_by_id_sync_tasks'


def upgrade():
    # A plain ADD COLUMN (no batch copy of sync_tasks). SQLite cannot ALTER in a constraint,
    # but takes a named REFERENCES clause on the new column itself.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ALTER TABLE sync_tasks ADD COLUMN replaced_by_id INTEGER '
                   f'CONSTRAINT {FK} REFERENCES sync_tasks (id)')
    else:
        op.add_column('sync_tasks', sa.Column('replaced_by_id', sa.Integer(), nullable=True))
        op.create_foreign_key(FK, 'sync_tasks', 'sync_tasks', ['replaced_by_id'], ['id'])


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(FK, 'sync_tasks', type_='foreignkey')
    op.drop_column('sync_tasks', 'replaced_by_id')
