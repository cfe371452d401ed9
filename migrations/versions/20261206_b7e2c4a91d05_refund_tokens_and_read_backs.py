"""A one-time token on refunds (the same form sent twice refunds once), a refund counter on
returns (the "already on its way" check and the refund in one atomic statement), and
read-backs counted apart from a sync task's tries, and the tries made before a manual Retry
(the count goes on; backoff and limit start over). Existing rows: no token, nothing counted.

Revision ID: b7e2c4a91d05
Revises: 5e1a9c0d2b71
Create Date: 2026-12-06 00:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e2c4a91d05'
down_revision = '5e1a9c0d2b71'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN and a unique index: no batch copy of tables others point at.
    op.add_column('refunds', sa.Column('form_token', sa.String(length=64), nullable=True))
    op.create_index('ix_refunds_form_token', 'refunds', ['form_token'], unique=True)
    op.add_column('returns', sa.Column('refunds_started', sa.Integer(), server_default='0',
                                       nullable=False))
    op.add_column('sync_tasks', sa.Column('read_backs', sa.Integer(), server_default='0',
                                          nullable=False))
    op.add_column('sync_tasks', sa.Column('attempts_before_retry', sa.Integer(),
                                          server_default='0', nullable=False))


def downgrade():
    op.drop_column('sync_tasks', 'attempts_before_retry')
    op.drop_column('sync_tasks', 'read_backs')
    op.drop_column('returns', 'refunds_started')
    op.drop_index('ix_refunds_form_token', table_name='refunds')
    op.drop_column('refunds', 'form_token')
