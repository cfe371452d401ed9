"""The Orders page's search: every meaning exact, read through its index, never stale."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, event, select, text

from tests.factories import make_shipment

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)

# What the search finds, by the order it finds: (key, name, SKUs, other columns).
ORDERS = [
    ("ana", "Ana Smith", ["MUG-RED-1"], {"purchase_order_id": "PO-111",
                                         "customer_order_id": "CO-111"}),
    ("jack", "Jack Johnson", ["mug-blue-2", "LAMP-1"], {}),
    ("percent", "50% Off Shop", ["AB_1"], {}),
    ("underscore", "a_b Trading", ["A_B-9"], {}),
    ("axb", "Axb Goods", ["AXB-9"], {}),
    ("backslash", "back\\slash Co", ["C\\D-1"], {}),
    ("zoe", "Zoë Ångström", ["ÉCLAIR-1"], {}),
    ("jose", "José Núñez", ["TEA-1"], {}),
    ("quoted", 'Dan "The Man" Lee', ["TEA-2"], {}),
    ("joan", "Joan Banks", ["TEA-3"], {}),
    ("andy", "ANDY WARHOL", ["TEA-4"], {}),
    ("agent", "Agent 007", ["TEA-5"], {}),
    ("nameless", None, ["TEA-6"], {}),
    ("lukasz", "Łukasz Nowak", ["TEA-7"], {}),
]


@pytest.fixture
def shop_orders(app):
    """The ORDERS in one store, inserted in bulk through Core as the importer does (so only the
    database's own triggers can keep the name index); returns {key: order id}."""
    from tests.factories import make_store

    with app.app_context():
        store = make_store()
        return _insert(store.id, [(key, name, skus, {"order_date": T0 - timedelta(hours=n),
                                                     **columns})
                                  for n, (key, name, skus, columns) in enumerate(ORDERS)])


def _insert(store_id: int, orders: list) -> dict[str, int]:
    from sqlalchemy import String, cast, update

    from webapp.extensions import db
    from webapp.models import Order, OrderLine

    table = Order.__table__
    ids = {}
    for key, name, _skus, columns in orders:
        values = {"store_id": store_id, "purchase_order_id": f"PO-{key}", "customer_name": name,
                  "status": "Open", "created_at": T0, "updated_at": T0, **columns}
        ids[key] = db.session.execute(table.insert().returning(table.c.id), [values]).scalar()
    db.session.execute(update(Order).where(Order.id.in_(list(ids.values())))
                       .values(number=cast(Order.id + 100000, String))
                       .execution_options(synchronize_session=False))
    db.session.execute(OrderLine.__table__.insert(), [
        {"order_id": ids[key], "line_number": str(n), "sku": sku, "quantity": 1}
        for key, _name, skus, _columns in orders for n, sku in enumerate(skus, start=1)])
    db.session.commit()
    return ids


def _found(q: str, **filters) -> list[int]:
    """The ids a search shows (app context), the same whichever way it is read: the ids each
    meaning's index finds, every meaning tested on each order as the page walks (what a
    meaning finding many orders gets), and the count."""
    from webapp.services.orders import search
    from webapp.services.orders.queries import OrderFilter, count, page

    f = OrderFilter(q=q, **filters)
    by_ids = [o.id for o in page(f, size=200).orders]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "WALK_FROM", 1)  # every meaning that finds an order walks
        walked = [o.id for o in page(f, size=200).orders]
    assert walked == by_ids, f"{q!r}: walking finds {walked}, the indexes {by_ids}"
    assert count(f) == len(by_ids)
    return sorted(by_ids)


def _ids(ids: dict[str, int], *keys: str) -> list[int]:
    return sorted(ids[key] for key in keys)


def test_exact_meanings_match_whole_values_only(app_ctx, shop_orders):
    """Walmart PO, customer order, our number and tracking number match exactly (the tracking
    number as typed with spaces or in lower case), never a part of one."""
    from webapp.extensions import db
    from webapp.models import Order

    ids = shop_orders
    make_shipment(ids["ana"], tracking="1Z999AA10123456784")
    number = db.session.get(Order, ids["jack"]).number
    assert _found("PO-111") == _ids(ids, "ana")
    assert _found("CO-111") == _ids(ids, "ana")
    assert _found(number) == _ids(ids, "jack")
    assert _found("1z999aa1 0123456784") == _ids(ids, "ana")
    for part in ("PO-11", "CO-11", number[:-1], "1Z999AA1012345678"):
        assert _found(part) == []


def test_sku_matches_by_its_start_in_any_case(app_ctx, shop_orders):
    """A SKU matches by its start, case-insensitive; not by a part in the middle."""
    ids = shop_orders
    assert _found("mug") == _ids(ids, "ana", "jack")
    assert _found("MUG-B") == _ids(ids, "jack")
    assert _found("lamp-1") == _ids(ids, "jack")
    assert _found("Écl") == _ids(ids, "zoe")
    assert _found("UG-") == []


def test_a_name_fragment_matches_anywhere_in_any_case(app_ctx, shop_orders):
    """Three characters or more match anywhere in the name, case-insensitive: in the middle of
    a last name, across the space, in capitals."""
    ids = shop_orders
    assert _found("ohn") == _ids(ids, "jack")
    assert _found("ohns") == _ids(ids, "jack")
    assert _found("SMITH") == _ids(ids, "ana")
    assert _found("a sm") == _ids(ids, "ana")
    assert _found("warhol") == _ids(ids, "andy")


def test_a_short_name_text_matches_the_start_of_the_name(app_ctx, shop_orders):
    """One or two characters match names that start with them (in any case), not names that
    only hold them ("Joan Banks" for "an")."""
    ids = shop_orders
    assert _found("an") == _ids(ids, "ana", "andy")
    assert _found("J") == _ids(ids, "jack", "jose", "joan")
    assert _found("Zo") == _ids(ids, "zoe")
    assert _found("Ł") == _ids(ids, "lukasz")


def test_digits_do_not_search_names(app_ctx, shop_orders):
    """A text of digits is an order number, not a name: "007" does not find "Agent 007"."""
    assert _found("007") == []
    assert _found("gent 00") == _ids(shop_orders, "agent")


def test_like_characters_a_person_types_are_literal(app_ctx, shop_orders):
    """%, _ and \\ mean themselves, in names and SKUs: "%" alone finds nothing, "a_b" not
    "Axb" nor AXB-9."""
    ids = shop_orders
    assert _found("50%") == _ids(ids, "percent")
    assert _found("a_b") == _ids(ids, "underscore")
    assert _found("k\\s") == _ids(ids, "backslash")
    assert _found("c\\d") == _ids(ids, "backslash")
    for text_ in ("%", "_", "\\", "%%", "__", "%_%"):
        assert _found(text_) == [], text_


def test_unicode_names_and_search_syntax_are_plain_text(app_ctx, shop_orders):
    """Accented names match as typed; quotes and FTS5 words are plain characters."""
    ids = shop_orders
    assert _found("Ångs") == _ids(ids, "zoe")
    assert _found("ström") == _ids(ids, "zoe")
    assert _found("Zoë") == _ids(ids, "zoe")
    assert _found("Núñ") == _ids(ids, "jose")
    assert _found('"The Man"') == _ids(ids, "quoted")
    assert _found('n "T') == _ids(ids, "quoted")
    for text_ in ('"', 'NEAR(a b)', "a OR b", "ana*", "^ana", "-ana", "{name}: x"):
        assert _found(text_) == [], text_


def test_filters_and_pages_combine_with_the_search(app_ctx, shop_orders):
    """Store, status and date filters and the keyset pages apply to what the search finds,
    the same whether the ids are gathered or the page walks."""
    from tests.factories import make_store
    from webapp.extensions import db
    from webapp.models import Order, OrderStatus
    from webapp.services.orders import search
    from webapp.services.orders.queries import OrderFilter, page

    other = make_store()
    kims = _insert(other.id, [(f"kim{n}", f"Kim Lee {n}", [f"KIM-{n}"],
                               {"order_date": T0 - timedelta(days=n),
                                "status": "Shipped" if n % 2 else "Open"}) for n in range(7)])
    first_store = db.session.get(Order, shop_orders["ana"]).store_id
    assert _found("kim lee", store_id=other.id) == sorted(kims.values())
    assert _found("kim lee", store_id=first_store) == []
    assert _found("kim", status=OrderStatus.SHIPPED) == _ids(kims, "kim1", "kim3", "kim5")
    day = (T0 - timedelta(days=2)).date()
    assert _found("KIM-", date_from=day, date_to=day) == _ids(kims, "kim2")
    for walk_from in (search.WALK_FROM, 1):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(search, "WALK_FROM", walk_from)
            f = OrderFilter(q="kim lee")
            seen, cursor = [], None
            while True:
                result = page(f, after=cursor, size=3)
                seen += [o.id for o in result.orders]
                if not (cursor := result.next_cursor):
                    break
        assert seen == [kims[f"kim{n}"] for n in range(7)]


# -- nothing stale: the name index follows every write ---------------------------------------

def _fts_intact() -> None:
    """On SQLite, FTS5 checks its trigram index against the orders' names (raises if not)."""
    from webapp.extensions import db

    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text("INSERT INTO orders_name_search (orders_name_search, rank) "
                                "VALUES ('integrity-check', 1)"))
        db.session.rollback()


def test_an_import_that_renames_or_adds_orders_is_found_at_once(app, shop):
    """Walmart changes a buyer's name and sends a new order: after the import the new name
    finds the order and the old one no longer does; the new order is found by its name."""
    from simulator import control
    from tests.factories import make_walmart_order
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.orders.importer import import_store

    store_id, seller = shop
    with app.app_context():
        order = db.session.scalars(select(Order).order_by(Order.id)).first()
        old_name, order_id, po = order.customer_name, order.id, order.purchase_order_id

    def rename(walmart_order, _now):
        walmart_order["shippingInfo"]["postalAddress"]["name"] = "Quentin Zyxland"
    control.update_order(seller.sim.conn, seller.seller_id, po, rename)
    new_po = make_walmart_order(seller)

    def name_new(walmart_order, _now):
        walmart_order["shippingInfo"]["postalAddress"]["name"] = "Xavier Newcombe"
    control.update_order(seller.sim.conn, seller.seller_id, new_po, name_new)
    with app.app_context():
        assert _found("zyxland") == [] and _found("newcombe") == []
        import_store(store_id)
        new_id = db.session.scalar(select(Order.id).where(Order.purchase_order_id == new_po))
        assert _found("zyxland") == [order_id]
        assert _found("ntin Zy") == [order_id]
        assert order_id not in _found(old_name)
        assert _found("newcombe") == [new_id]
        _fts_intact()


def test_ship_cancel_and_refund_leave_the_search_exact(app, returned, worker):
    """A shipment's tracking number is found as soon as it is recorded (before Walmart has
    it); a cancelled and a refunded order are found by PO and name under their new status."""
    from webapp.extensions import db
    from webapp.models import Order, OrderStatus, Return
    from webapp.services.returns.refunding import refund_return
    from webapp.services.stock.cancelling import cancel_order

    store_id, _seller, refunded_id, rma = returned
    with app.app_context():
        open_order = db.session.scalars(select(Order).where(
            Order.status == OrderStatus.OPEN, Order.intent_to_cancel.is_(False))
            .order_by(Order.id)).first()
        shipped_id, po, name = open_order.id, open_order.purchase_order_id, \
            open_order.customer_name
        make_shipment(shipped_id, tracking="1Z12345E0205271688")
        assert _found("1z12345e 0205271688") == [shipped_id]
        canceled_id = db.session.scalar(select(Order.id).where(
            Order.status == OrderStatus.OPEN, Order.id != shipped_id))
        cancel_order(canceled_id, "SELLER_CANCEL_OUT_OF_STOCK", by=None, actor="test")
        return_id = db.session.scalar(select(Return.id).where(Return.rma == rma))
        refund_return(return_id, {1: 1}, set(), by=None, actor="test")
    worker()
    with app.app_context():
        canceled = db.session.get(Order, canceled_id)
        refunded = db.session.get(Order, refunded_id)
        assert canceled.status == OrderStatus.CANCELED
        assert _found("1Z12345E0205271688") == [shipped_id]
        assert shipped_id in _found(name) and _found(po) == [shipped_id]
        assert _found(canceled.purchase_order_id, status=OrderStatus.CANCELED) == [canceled.id]
        assert _found(canceled.purchase_order_id, status=OrderStatus.OPEN) == []
        assert canceled.id in _found(canceled.customer_name, status=OrderStatus.CANCELED)
        assert _found(refunded.purchase_order_id, status=refunded.status) == [refunded_id]
        assert refunded_id in _found(refunded.customer_name)
        _fts_intact()


def test_a_deleted_or_renamed_order_leaves_the_name_index(app_ctx, shop_orders):
    """No code deletes orders, but the name index follows a DELETE and an UPDATE all the same
    (the test's own cleanup deletes every order)."""
    from sqlalchemy import update

    from webapp.extensions import db
    from webapp.models import Order, OrderLine

    ids = shop_orders
    db.session.execute(delete(OrderLine).where(OrderLine.order_id == ids["jack"]))
    db.session.execute(delete(Order).where(Order.id == ids["jack"]))
    db.session.execute(update(Order).where(Order.id == ids["ana"])
                       .values(customer_name="Anabel Smythe"))
    db.session.commit()
    assert _found("johnson") == [] and _found("Jack") == []
    assert _found("smith") == [] and _found("smythe") == _ids(ids, "ana")
    _fts_intact()


# -- every meaning through its index ---------------------------------------------------------

def _plans(run, *off: str) -> list[str]:
    """Run `run()` (app context) and EXPLAIN every statement it sent, in the same transaction
    (on PostgreSQL with sequential scans off — a small table is otherwise read whole — and the
    plans named in `off`)."""
    from webapp.extensions import db

    connection = db.session.connection()
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        for plan in ("seqscan", *off):
            connection.exec_driver_sql(f"SET LOCAL enable_{plan} = off")
    sent = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))
    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    explain = "EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN "
    plans = ["\n".join(str(row[-1]) for row in connection.exec_driver_sql(
        explain + statement, parameters)) for statement, parameters in sent]
    db.session.rollback()
    return plans


def _indexes(dialect: str, q: str) -> dict[str, str]:
    """Meaning → what its index looks like in the plan, for a search for `q`."""
    from webapp.numbers import digits

    sqlite = dialect == "sqlite"
    found = {"PO": "ix_orders_purchase_order_id", "customer order": "ix_orders_customer_order_id",
             "our number": "sqlite_autoindex_orders_1" if sqlite else "uq_orders_number",
             "tracking number": "ix_shipment_packages_tracking_number",
             "SKU": "ix_order_lines_sku_lower"}
    if not digits(q):
        found["name"] = "ix_orders_customer_name_lower" if len(q) < 3 else (
            "orders_name_search VIRTUAL TABLE INDEX" if sqlite
            else "ix_orders_customer_name_trgm")
    return found


# A table read whole: SQLite's "SCAN orders" (with or without an index: SEARCH is a lookup),
# PostgreSQL's sequential scan.
WHOLE_TABLE = re.compile(r"\bSCAN (orders|order_lines)\b|Seq Scan on (orders|order_lines)\b")


@pytest.mark.parametrize("q", ["PO-111", "100003", "an", "Smith", "mug-re"])
def test_every_meaning_is_read_through_its_index(app_ctx, shop_orders, q):
    """The page and the count of a search read each meaning through its index and never
    read orders or order_lines whole."""
    from webapp.extensions import db
    from webapp.services.orders.queries import OrderFilter, count, page

    dialect = db.session.get_bind().dialect.name
    plans = _plans(lambda: (page(OrderFilter(q=q)), count(OrderFilter(q=q))))
    everything = "\n".join(plans)
    for plan in plans:
        assert not WHOLE_TABLE.search(plan), plan
    for meaning, index in _indexes(dialect, q).items():
        assert index in everything, f"{meaning}: {index} not in\n{everything}"


def test_a_text_finding_many_orders_walks_the_page_order(app_ctx, shop_orders):
    """When a meaning finds WALK_FROM orders or more, the page walks its sort index from the
    newest order, testing each one, and stops at the 51st match: no sort of every match, no
    table read whole, nothing gathered first (PostgreSQL's hashed subplan). PostgreSQL picks
    the walk itself for a common name fragment, and for the rest on a large table; on these few
    rows it is told that sorting is dear."""
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.orders import search
    from webapp.services.orders.queries import OrderFilter, page

    store_id = db.session.get(Order, shop_orders["ana"]).store_id
    _insert(store_id, [(f"kim{n}", f"Kim Lee {n}", ["TEA-9"], {}) for n in range(3)])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "WALK_FROM", 2)
        for q in ("an", "mug", "kim", "tea-"):  # a short name, a SKU, a name fragment
            plans = _plans(lambda: page(OrderFilter(q=q)), "sort")  # noqa: B023 (run now)
            [walk] = [p for p in plans if "ix_orders_order_date" in p]
            assert not re.search(r"USE TEMP B-TREE FOR ORDER BY|Sort|hashed SubPlan", walk), walk
            # Each order's test reads that order's lines, never the SKU index's range of
            # every matching line (1.8 s at a million orders on PostgreSQL).
            assert "ix_order_lines_sku_lower" not in walk, walk
            assert not any(WHOLE_TABLE.search(p.replace("SCAN orders USING INDEX "
                                                        "ix_orders_order_date", "")) for p in plans)
