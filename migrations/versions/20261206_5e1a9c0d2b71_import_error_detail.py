"""The raw text behind a store's last import error (a remote host's or the network library's
own words), kept apart from its summary so only admins see it. Existing rows: no detail (NULL).

Revision ID: 5e1a9c0d2b71
Revises: 901e3e80b1b0
Create Date: 2026-12-06 00:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1a9c0d2b71'
down_revision = '901e3e80b1b0'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy): other tables point at stores.
    op.add_column('stores', sa.Column('last_import_error_detail', sa.Text(), nullable=True))


def downgrade():
    op.drop_column('stores', 'last_import_error_detail')
