"""Orders per (store, status) kept by triggers on `orders`, as +1/-1 rows in
`order_status_deltas` (webapp/services/orders/status_counts.py says why). Existing orders are
counted in: one row per (store, status).

Revision ID: d5f9c1b7a345
Revises: d3c7a9f5e123
Create Date: 2026-12-08 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5f9c1b7a345'
down_revision = 'd3c7a9f5e123'
branch_labels = None
depends_on = None

ADD = ("INSERT INTO order_status_deltas (store_id, status, delta) "
       "VALUES (NEW.store_id, NEW.status, 1);")
REMOVE = ("INSERT INTO order_status_deltas (store_id, status, delta) "
          "VALUES (OLD.store_id, OLD.status, -1);")
MOVED = "OLD.status IS NOT NEW.status OR OLD.store_id IS NOT NEW.store_id"

SQLITE = [
    f"CREATE TRIGGER order_status_deltas_insert AFTER INSERT ON orders BEGIN {ADD} END",
    f"CREATE TRIGGER order_status_deltas_update AFTER UPDATE OF status, store_id ON orders "
    f"WHEN {MOVED} BEGIN {REMOVE} {ADD} END",
    f"CREATE TRIGGER order_status_deltas_delete AFTER DELETE ON orders BEGIN {REMOVE} END",
]
POSTGRESQL = [
    f"""CREATE FUNCTION order_status_deltas_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN {REMOVE} END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN {ADD} END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER order_status_deltas_insert_delete AFTER INSERT OR DELETE ON orders "
    "FOR EACH ROW EXECUTE FUNCTION order_status_deltas_keep()",
    "CREATE TRIGGER order_status_deltas_update AFTER UPDATE OF status, store_id ON orders "
    "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status "
    "OR OLD.store_id IS DISTINCT FROM NEW.store_id) EXECUTE FUNCTION order_status_deltas_keep()",
]


def upgrade():
    op.create_table(
        'order_status_deltas',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('delta', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_order_status_deltas')),
    )
    op.execute("INSERT INTO order_status_deltas (store_id, status, delta) "
               "SELECT store_id, status, count(*) FROM orders GROUP BY store_id, status")
    for statement in (SQLITE if op.get_bind().dialect.name == 'sqlite' else POSTGRESQL):
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        for name in ('insert', 'update', 'delete'):
            op.execute(f"DROP TRIGGER order_status_deltas_{name}")
    else:
        op.execute("DROP TRIGGER order_status_deltas_insert_delete ON orders")
        op.execute("DROP TRIGGER order_status_deltas_update ON orders")
        op.execute("DROP FUNCTION order_status_deltas_keep()")
    op.drop_table('order_status_deltas')
