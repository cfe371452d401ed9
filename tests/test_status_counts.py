"""The Orders page's status counts, kept by triggers on `orders` (status_counts.py): exact
after every kind of write — bulk inserts, status moves, a store change, deletes — and after
the sweeper folds them; the migration counts existing orders in."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select, update


def _counted(store_id=None):
    from webapp.extensions import db
    from webapp.models import Order, OrderStatus

    query = select(Order.status, func.count()).group_by(Order.status)
    if store_id:
        query = query.where(Order.store_id == store_id)
    counts = {status: 0 for status in OrderStatus}
    counts.update(dict(db.session.execute(query).all()))
    return counts


def _orders(store_id, statuses, start=0):
    return [{"store_id": store_id, "purchase_order_id": f"{start + n:015d}", "currency": "USD",
             "status": status} for n, status in enumerate(statuses)]


def test_the_kept_counts_match_a_count_after_every_kind_of_write(app, walmart_store):
    from webapp.extensions import db
    from webapp.models import Order, OrderStatus, OrderStatusDelta
    from webapp.services.orders import status_counts
    from webapp.services.orders.queries import OrderFilter
    from webapp.services.orders.queries import status_counts as page_counts

    first, _ = walmart_store()
    second, _ = walmart_store()
    with app.app_context():
        def same():
            for store in (None, first, second):
                assert status_counts.per_status(store) == _counted(store)
                assert page_counts(OrderFilter(store_id=store)) == _counted(store)

        db.session.execute(insert(Order), _orders(first, [OrderStatus.OPEN] * 5 +
                                                  [OrderStatus.SHIPPED] * 3))
        db.session.execute(insert(Order), _orders(second, [OrderStatus.OPEN] * 2, start=100))
        db.session.commit()
        same()
        assert page_counts(OrderFilter(store_id=first))[OrderStatus.OPEN] == 5
        some = db.session.scalars(select(Order.id).where(Order.store_id == first,
                                                         Order.status == OrderStatus.OPEN)
                                  .limit(2)).all()
        db.session.execute(update(Order).where(Order.id.in_(some))
                           .values(status=OrderStatus.CANCELED))
        db.session.commit()
        same()
        order = db.session.get(Order, some[0])  # through the ORM, as the services write
        order.status = OrderStatus.ERROR
        db.session.commit()
        same()
        order.store_id = second  # moved to another store: leaves one count, joins another
        db.session.commit()
        same()
        db.session.execute(update(Order).values(intent_to_cancel=True))  # no status moved
        db.session.commit()
        same()
        db.session.execute(delete(Order).where(Order.id == some[1]))
        db.session.commit()
        same()
        rows = db.session.scalar(select(func.count(OrderStatusDelta.id)))
        assert status_counts.fold() > 0
        assert db.session.scalar(select(func.count(OrderStatusDelta.id))) < rows
        same()
        assert status_counts.fold() == 0  # nothing left to fold
        same()


def test_a_rolled_back_write_counts_nothing(app, walmart_store):
    from webapp.extensions import db
    from webapp.models import Order, OrderStatus
    from webapp.services.orders import status_counts

    store_id, _ = walmart_store()
    with app.app_context():
        db.session.execute(insert(Order), _orders(store_id, [OrderStatus.OPEN] * 3))
        db.session.rollback()
        assert status_counts.per_status(store_id)[OrderStatus.OPEN] == 0


def test_the_sweeper_folds_the_counts(app, walmart_store):
    from jobs.sync import sweep
    from webapp.extensions import db
    from webapp.models import Order, OrderStatus

    store_id, _ = walmart_store()
    with app.app_context():
        db.session.execute(insert(Order), _orders(store_id, [OrderStatus.OPEN] * 4))
        db.session.execute(update(Order).values(status=OrderStatus.SHIPPED))
        db.session.commit()
        assert sweep()["status_counts_folded"] == 12 - 1  # 4 +Open, 4 -Open, 4 +Shipped → 1
        assert _counted(store_id)[OrderStatus.SHIPPED] == 4


def test_the_sweeper_gives_the_folded_rows_space_back(app, walmart_store):
    """After a bulk import the fold deletes a row per order; PostgreSQL keeps their pages
    (and reads them all to count) until VACUUM, which this machine's, like many, leaves to an
    autovacuum that may be off or late: two sweeps bring the table back to a page or two."""
    from jobs.sync import sweep
    from webapp.extensions import db
    from webapp.models import Order, OrderStatus

    store_id, _ = walmart_store()
    with app.app_context():
        db.session.execute(insert(Order), _orders(store_id, [OrderStatus.OPEN] * 20000))
        db.session.commit()
        postgresql = db.engine.dialect.name == "postgresql"
        sizes = []
        for _ in range(2):
            result = sweep()
            assert result["churned_tables_vacuumed"] is postgresql  # SQLite reuses pages itself
            if postgresql:
                sizes.append(db.session.scalar(select(func.pg_relation_size(
                    "order_status_deltas"))))
                db.session.commit()  # a reader holding the table keeps VACUUM from shrinking it
        if postgresql:
            assert sizes[-1] <= 2 * 8192, sizes
        assert _counted(store_id)[OrderStatus.OPEN] == 20000
