"""Home's 30-day chart reads figures kept per local day (day_figures), kept exact by database
triggers: whatever writes the orders or their shipments — the importer's bulk INSERTs, a
shipment, a cancellation, a late old order, a moved Ship By — and whatever the team's zone,
the chart says what counting every order says."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text, update

_po = itertools.count(1)


def _scan(now: datetime, days: int = 30) -> list[tuple[date, int, int, int]]:
    """The chart as Home counted it before the rollup, over every order: placed per local day;
    due (Ship By on the day and passed, not cancelled), and of those shipped by their Ship By
    (the order's first shipment at or before it)."""
    from flask import current_app

    from webapp.extensions import db
    from webapp.models import Order, OrderStatus, Shipment

    zone = ZoneInfo(current_app.config["TIMEZONE"])
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time.min, zone)
    placed: dict[date, int] = {}
    for (ordered,) in db.session.execute(select(Order.order_date).where(
            Order.order_date >= start)):
        day = ordered.astimezone(zone).date()
        placed[day] = placed.get(day, 0) + 1
    due: dict[date, int] = {}
    on_time: dict[date, int] = {}
    first_shipped = select(Shipment.order_id, func.min(Shipment.ship_time).label("at")) \
        .group_by(Shipment.order_id).subquery()
    for ship_by, shipped_at in db.session.execute(
            select(Order.ship_by, first_shipped.c.at)
            .outerjoin(first_shipped, first_shipped.c.order_id == Order.id)
            .where(Order.ship_by >= start, Order.ship_by < now,
                   Order.status != OrderStatus.CANCELED)):
        day = ship_by.astimezone(zone).date()
        due[day] = due.get(day, 0) + 1
        if shipped_at is not None and shipped_at <= ship_by:
            on_time[day] = on_time.get(day, 0) + 1
    return [(d, placed.get(d, 0), due.get(d, 0), on_time.get(d, 0))
            for d in (first + timedelta(days=i) for i in range(days))]


def _chart(now: datetime) -> list[tuple[date, int, int, int]]:
    from webapp.extensions import db
    from webapp.services.orders import day_figures

    found = [(d.day, d.orders, d.due, d.on_time) for d in day_figures.last_days(now=now)]
    db.session.rollback()  # (a fresh read next time, as a new request has)
    return found


def _insert(store_id: int, *orders: tuple, lines: int = 0) -> list[int]:
    """Orders inserted in bulk as the importer does (Core, through the session): each
    (order_date, ship_by[, status]); with `lines`, one open line of that many units."""
    from webapp.extensions import db
    from webapp.models import Order, OrderLine

    table = Order.__table__
    ids = [row[0] for row in db.session.execute(table.insert().returning(table.c.id), [
        {"store_id": store_id, "purchase_order_id": f"PO-CHART-{next(_po)}",
         "order_date": spec[0], "ship_by": spec[1],
         "status": spec[2] if len(spec) > 2 else "Open"} for spec in orders])]
    if lines:
        db.session.execute(OrderLine.__table__.insert(), [
            {"order_id": order_id, "line_number": "1", "sku": "CHART-SKU", "quantity": lines}
            for order_id in ids])
    db.session.commit()
    return ids


def _ship(order_id: int, at: datetime) -> None:
    from webapp.extensions import db
    from webapp.models import Shipment

    db.session.add(Shipment(order_id=order_id, ship_time=at, created_by="test"))
    db.session.commit()


@pytest.fixture
def shop(app_ctx):
    """Six weeks of orders, a few a day at different hours: most shipped (one in ten after
    its Ship By, one in twelve never), one in seven cancelled; the last ones not due yet."""
    from tests.factories import make_store
    from webapp.models.base import utcnow

    now = utcnow()
    store = make_store()
    specs, ships = [], []
    for n in range(6 * 7 * 3):
        ordered = now - timedelta(hours=8 * n + 1)
        status = "Canceled" if n % 7 == 3 else "Shipped"
        specs.append((ordered, ordered + timedelta(days=2), status))
        if status == "Shipped" and n % 12 and ordered + timedelta(days=1) < now:
            late = n % 10 == 0
            ships.append((len(specs) - 1, ordered + timedelta(days=3 if late else 1)))
    ids = _insert(store.id, *specs)
    for index, at in ships:
        _ship(ids[index], min(at, now))
    return {"store_id": store.id, "now": now, "ids": ids}


def _kept_days() -> dict:
    from webapp.extensions import db
    from webapp.models import DayFigures

    return {row.day: (row.zone, row.placed, row.due, row.on_time, row.counted_at)
            for row in db.session.scalars(select(DayFigures))}


def test_the_chart_is_the_count_over_every_order_and_keeps_its_days(shop):
    """The first Home counts the 29 complete days once and keeps them; the next reads them
    (nothing counted again) and still says what counting every order says."""
    from webapp.extensions import db
    from webapp.models import DayFiguresChange

    now = shop["now"]
    chart = _chart(now)
    assert chart == _scan(now)
    assert sum(placed for _d, placed, _due, _ot in chart) > 60
    assert sum(due for _d, _p, due, _ot in chart) > sum(ot for *_x, ot in chart) > 0
    kept = _kept_days()
    assert len(kept) == 29 and {zone for zone, *_rest in kept.values()} == {"UTC"}
    assert db.session.scalar(select(func.count()).select_from(DayFiguresChange).where(
        DayFiguresChange.at < now - timedelta(days=1))) == 0
    assert _chart(now) == chart
    assert _kept_days() == kept  # read, not counted again


def test_a_late_old_order_counts_on_its_day(shop):
    """An order placed ten days ago arrives only now (a bulk import), shipped on time: its
    day's placed, due and on-time figures move."""
    now = shop["now"]
    before = _chart(now)
    placed = now - timedelta(days=10)
    [order_id] = _insert(shop["store_id"], (placed, placed + timedelta(days=1), "Shipped"))
    _ship(order_id, placed + timedelta(hours=5))
    after = _chart(now)
    assert after == _scan(now) and after != before


def test_a_shipment_before_its_ship_by_counts_on_time(shop):
    """An order due three days ago, shipped now through the Ship service with a ship time
    before its Ship By: its due day counts one more shipped on time."""
    from webapp.services.shipping.ship import PackageInput, ship_order

    now = shop["now"]
    placed = now - timedelta(days=5)
    [order_id] = _insert(shop["store_id"], (placed, now - timedelta(days=3)), lines=2)
    before = _chart(now)
    ship_order(order_id, [PackageInput("1Z999AA10123456784", "Standard", {"1": 2}, "UPS")],
               now - timedelta(days=4), by=None, actor="test")
    after = _chart(now)
    assert after == _scan(now)
    assert sum(ot for *_x, ot in after) == sum(ot for *_x, ot in before) + 1


def test_a_cancellation_is_no_longer_due(shop):
    """An order due two days ago, cancelled through the Cancel service: its due day counts one
    order less."""
    from webapp.services.stock.cancelling import cancel_order

    now = shop["now"]
    placed = now - timedelta(days=4)
    [order_id] = _insert(shop["store_id"], (placed, now - timedelta(days=2)), lines=1)
    before = _chart(now)
    cancel_order(order_id, "SELLER_CANCEL_OUT_OF_STOCK", by=None, actor="test")
    after = _chart(now)
    assert after == _scan(now)
    assert sum(due for _d, _p, due, _ot in after) == sum(due for _d, _p, due, _ot in before) - 1


def test_moved_dates_and_corrected_or_removed_shipments_count_where_they_are_now(shop):
    """A bulk UPDATE moves orders' dates and Ship By to other days; a shipment's time is
    corrected to after its Ship By; a shipment of an order due on another day is removed; an
    order is deleted: every day they left and every day they reached says what counting every
    order says."""
    from webapp.extensions import db
    from webapp.models import Order, Shipment

    now = shop["now"]
    _chart(now)
    moved = db.session.execute(select(Order.id, Order.order_date, Order.ship_by)
                               .where(Order.id.in_(shop["ids"][20:26]))).all()
    db.session.execute(update(Order), [  # the ORM's bulk UPDATE by primary key
        {"id": order_id, "order_date": ordered - timedelta(days=6),
         "ship_by": ship_by - timedelta(days=6)} for order_id, ordered, ship_by in moved])
    db.session.commit()
    assert _chart(now) == _scan(now)
    shipments = db.session.scalars(select(Shipment).join(Order).where(
        Order.ship_by < now - timedelta(days=3)).order_by(Shipment.id)).all()
    corrected = shipments[0]
    removed = next(s for s in shipments if s.order.ship_by.date() != corrected.order.ship_by.date())
    corrected.ship_time = corrected.order.ship_by + timedelta(hours=2)
    db.session.commit()
    assert _chart(now) == _scan(now)
    db.session.delete(db.session.get(Shipment, removed.id))
    db.session.commit()
    assert _chart(now) == _scan(now)
    db.session.delete(db.session.get(Order, shop["ids"][38]))  # cancelled: no shipment
    db.session.commit()
    assert _chart(now) == _scan(now)


def test_the_importers_bulk_insert_counts(app, walmart_store):
    """Orders placed over the last 20 days, imported from Walmart in bulk, then a day later
    (clock moved on): the chart is the count over every order both times."""
    from simulator import control
    from webapp.models.base import utcnow
    from webapp.services.orders.importer import import_store

    store_id, seller = walmart_store()
    with app.app_context():
        now = utcnow()
        _chart(now)  # days kept before the import: the import must mark them
        control.seed_orders(seller.sim.conn, seller.seller_id, 40, seed=5, days=20)
        import_store(store_id)
        assert _chart(now) == _scan(now)
        assert _chart(now + timedelta(days=1)) == _scan(now + timedelta(days=1))


def test_the_chart_follows_the_teams_time_zone(app, shop):
    """Counted in UTC, then the team moves to Los Angeles, then to Kiritimati (UTC+14): each
    time every day is counted in the new zone (rows of another zone are counted again)."""
    now = shop["now"]
    assert _chart(now) == _scan(now)
    for zone in ("America/Los_Angeles", "Pacific/Kiritimati"):
        app.config["TIMEZONE"] = zone
        assert _chart(now) == _scan(now)
        assert {kept[0] for kept in _kept_days().values()} == {zone}


def test_orders_older_than_the_chart_leave_no_mark(shop):
    """Orders dated two years ago (an old import) mark nothing: their days never return to
    the chart. An order dated last week marks its date and Ship By."""
    from webapp.extensions import db
    from webapp.models import DayFiguresChange

    now = shop["now"]
    _chart(now)
    marks = lambda: db.session.scalar(select(func.count()).select_from(DayFiguresChange))  # noqa: E731
    before = marks()
    old = now - timedelta(days=730)
    _insert(shop["store_id"], *[(old, old + timedelta(days=2))] * 5)
    assert marks() == before
    week = now - timedelta(days=7)
    _insert(shop["store_id"], (week, week + timedelta(days=2)))
    assert marks() == before + 2


def test_the_head_schema_has_the_triggers(app_ctx):
    """The triggers that keep the chart exact exist (a later migration that rebuilds orders or
    shipments on SQLite would drop them silently)."""
    from webapp.extensions import db

    if db.engine.dialect.name == "postgresql":
        found = {(table, name) for table, name in db.session.execute(text(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE NOT t.tgisinternal AND t.tgname LIKE 'day_figures%'"))}
        assert found == {("orders", "day_figures_order_written"),
                         ("orders", "day_figures_order_changed"),
                         ("shipments", "day_figures_shipment_written"),
                         ("shipments", "day_figures_shipment_changed")}
    else:
        found = {(table, name) for table, name in db.session.execute(text(
            "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'"
            " AND name LIKE 'day_figures%'"))}
        assert found == {("orders", "day_figures_order_inserted"),
                         ("orders", "day_figures_order_deleted"),
                         ("orders", "day_figures_order_changed"),
                         ("shipments", "day_figures_shipment_inserted"),
                         ("shipments", "day_figures_shipment_changed"),
                         ("shipments", "day_figures_shipment_deleted")}
