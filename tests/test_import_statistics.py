"""A large import into a table PostgreSQL has never analysed refreshes its statistics: without
them each page's lookup of the orders already stored reads every order of the store (a first
import into a new database slowed page by page until autovacuum came by)."""

from __future__ import annotations

from sqlalchemy import event, text

from simulator import control


def _pass(app, store_id) -> list[str]:
    """One import pass; the ANALYZE statements it ran."""
    from webapp.extensions import db
    from webapp.services.orders.importer import import_store

    ran: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("ANALYZE"):
            ran.append(statement.strip())

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            run = import_store(store_id, trigger="test")
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert run.ok, run.error
    return ran


def _estimate(app) -> float | None:
    from webapp.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return None
        return db.session.scalar(text("SELECT reltuples FROM pg_class "
                                      "WHERE oid = 'orders'::regclass"))


def test_a_pass_that_outgrows_the_statistics_refreshes_them(app, walmart_store, sim,
                                                            monkeypatch):
    from webapp.services.orders import importer

    monkeypatch.setattr(importer, "ANALYZE_AFTER", 4)
    store_id, seller = walmart_store(orders=10, seed=41)
    postgres = _estimate(app) is not None
    # The tables were just emptied (TRUNCATE on PostgreSQL): no statistics, 10 new orders.
    assert _pass(app, store_id) == (["ANALYZE orders"] if postgres else [])
    if postgres:
        assert _estimate(app) == 10  # the lookups are now planned for the table it is
    assert _pass(app, store_id) == []  # nothing new
    # Ten more: PostgreSQL already counts ten (not fewer than the pass created): left alone.
    control.seed_orders(sim.conn, seller.seller_id, 10, seed=42)
    assert _pass(app, store_id) == []
    monkeypatch.setattr(importer, "ANALYZE_AFTER", 11)  # under the threshold: not even looked
    control.seed_orders(sim.conn, seller.seller_id, 10, seed=43)
    assert _pass(app, store_id) == []
