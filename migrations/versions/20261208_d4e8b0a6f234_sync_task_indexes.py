"""Indexes that keep the Sync page, the Stock page and every push as fast at millions of tasks
(never pruned) as at a thousand: each state of the Sync page is read newest first from a cursor
(unfiltered, by store, by kind, by search), the newest push of a SKU is sought, and "the earlier
update still waiting" reads only pending rows. The store's index leads to the state as well (it
served "the store's pending tasks" by reading all of the store's history), and the order's
index holds kind and state, so no by-order query prefers the new kind index.

Revision ID: d4e8b0a6f234
Revises: d2b6f8e4c012
Create Date: 2026-12-08 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e8b0a6f234'
down_revision = 'd2b6f8e4c012'
branch_labels = None
depends_on = None

PENDING = sa.text("state = 'pending'")


def upgrade():
    op.create_index('ix_sync_tasks_state', 'sync_tasks', ['state', 'id'])
    op.create_index('ix_sync_tasks_store_state', 'sync_tasks', ['store_id', 'state', 'id'])
    op.drop_index('ix_sync_tasks_store_id', table_name='sync_tasks')
    op.create_index('ix_sync_tasks_kind_state', 'sync_tasks', ['kind', 'state', 'id'])
    op.create_index('ix_sync_tasks_target_state', 'sync_tasks', ['target', 'state', 'id'])
    op.create_index('ix_sync_tasks_target', 'sync_tasks', ['target', 'id'])
    op.create_index('ix_sync_tasks_pending', 'sync_tasks', ['store_id', 'kind', 'target', 'id'],
                    sqlite_where=PENDING, postgresql_where=PENDING)
    # Made last on purpose: where SQLite (no statistics) finds two indexes equally good, the
    # order they were made decides, and an order's few tasks are always the better read.
    op.drop_index('ix_sync_tasks_order', table_name='sync_tasks')
    op.create_index('ix_sync_tasks_order', 'sync_tasks', ['order_id', 'kind', 'state', 'id'])


def downgrade():
    op.drop_index('ix_sync_tasks_order', table_name='sync_tasks')
    op.create_index('ix_sync_tasks_order', 'sync_tasks', ['order_id', 'id'])
    op.drop_index('ix_sync_tasks_pending', table_name='sync_tasks')
    op.drop_index('ix_sync_tasks_target', table_name='sync_tasks')
    op.drop_index('ix_sync_tasks_target_state', table_name='sync_tasks')
    op.drop_index('ix_sync_tasks_kind_state', table_name='sync_tasks')
    op.create_index('ix_sync_tasks_store_id', 'sync_tasks', ['store_id'])
    op.drop_index('ix_sync_tasks_store_state', table_name='sync_tasks')
    op.drop_index('ix_sync_tasks_state', table_name='sync_tasks')
