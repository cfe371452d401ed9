"""An import pass costs the same in a database of a million orders as in an empty one: every
statement it runs finds its rows through an index, none reads a table whole."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from simulator import control
from tests.conftest import _settings

# Tables that grow with the orders (a pass that reads one whole slows as the shop grows).
GROWING = ("orders", "order_lines", "sync_tasks", "shipments", "shipment_packages",
           "shipment_lines", "return_lines", "returns", "walmart_differences", "import_runs")


@pytest.fixture
def app_settings(redis_url, tmp_path):
    """This module's app on a SQLite file of its own, whatever TEST_DATABASE_URL says: SQLite's
    planner shows index use at any size, where PostgreSQL's rightly reads a tiny table whole."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.extensions import db

    settings = _settings(f"sqlite:///{tmp_path / 'plans.sqlite'}", redis_url, tmp_path)
    with create_app(settings).app_context():
        upgrade()
        db.engine.dispose()
    return settings


def _plans_of_import(app, store_id) -> list[tuple[str, list[str]]]:
    """(statement, the steps of SQLite's plan) of every query an import pass runs."""
    from webapp.extensions import db
    from webapp.services.orders.importer import import_store

    ran: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, executemany) -> None:
        if not executemany and statement.lstrip().upper().startswith(
                ("SELECT", "UPDATE", "DELETE", "WITH")):
            ran.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            run = import_store(store_id, trigger="test")
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert run.ok, run.error
        with db.engine.connect() as conn:
            return [(statement, [row[3] for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, parameters)]) for statement, parameters in ran]


def _scans(plans: list[tuple[str, list[str]]]) -> list[str]:
    return [f"{step}  <-  {statement[:200]}" for statement, steps in plans for step in steps
            if step.startswith("SCAN") and step.split()[1] in GROWING]


def test_an_import_pass_reads_nothing_whole(app, walmart_store):
    """A first pass (new orders, their acknowledgements, stock) and a second one after Walmart
    changed orders (shipped and cancelled in Seller Center, so known orders are updated and
    shipments recorded from Walmart) look every row up through an index."""
    store_id, seller = walmart_store(orders=30)
    first = _plans_of_import(app, store_id)
    assert len(first) > 10
    conn = seller.sim.conn
    pos = [r["po"] for r in conn.execute("SELECT po FROM orders WHERE seller_id = ? ORDER BY "
                                         "order_ms", (seller.seller_id,))]
    for po in pos[:5]:
        control.seller_center_ship(conn, seller.seller_id, po, f"1Z{po}")
    control.seller_center_cancel(conn, seller.seller_id, pos[5])
    second = _plans_of_import(app, store_id)
    assert any("shipment_packages" in statement for statement, _steps in second)
    assert _scans(first) == [] and _scans(second) == []
