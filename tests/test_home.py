"""The Home page: what needs doing now (each count a link to the matching orders), each
store's last import, refund deadlines and the 30-day chart; and its empty states."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update


@pytest.fixture
def shop_day(app, walmart_store):
    """20 imported orders (acknowledgements not sent yet), all due in five days except:
    one overdue, one due later today, one the buyer asked to cancel, one shipped on time
    yesterday; one sync task in error and one return waiting for its refund."""
    from webapp.extensions import db
    from webapp.models import Order, OrderLine, Return, Shipment, SyncTask
    from webapp.models.base import utcnow
    from webapp.services.orders.importer import import_store

    store_id, _seller = walmart_store(orders=20, seed=3)
    with app.app_context():
        import_store(store_id)
        now = utcnow()
        zone = ZoneInfo(app.config["TIMEZONE"])
        tomorrow = datetime.combine(now.astimezone(zone).date() + timedelta(days=1), time.min,
                                    zone)
        ids = db.session.scalars(select(Order.id).order_by(Order.id)).all()
        overdue, today, asked, shipped = ids[:4]
        db.session.execute(update(Order).values(ship_by=now + timedelta(days=5),
                                                intent_to_cancel=False))
        db.session.execute(update(Order).where(Order.id == overdue)
                           .values(ship_by=now - timedelta(hours=1)))
        db.session.execute(update(Order).where(Order.id == today)
                           .values(ship_by=now + (tomorrow - now) / 2))
        db.session.execute(update(Order).where(Order.id == asked).values(intent_to_cancel=True))
        # Shipped (and acknowledged) an hour before a Ship By that has passed.
        db.session.execute(update(Order).where(Order.id == shipped)
                           .values(ship_by=now - timedelta(hours=20)))
        db.session.execute(update(OrderLine).where(OrderLine.order_id == shipped)
                           .values(shipped_qty=OrderLine.quantity, acknowledged=True))
        db.session.add(Shipment(order_id=shipped, ship_time=now - timedelta(hours=21),
                                created_by="test"))
        task = db.session.scalars(select(SyncTask).where(SyncTask.order_id == shipped)).first()
        task.state, task.last_error_message = "error", "Walmart refused it"
        db.session.add(Return(store_id=store_id, rma="RMA-77", customer_order_id="C-77",
                              return_by=now + timedelta(days=1), status="Received",
                              total_refund_amount=Decimal("12.50")))
        db.session.commit()
    return {"overdue": overdue, "today": today, "asked": asked, "shipped": shipped}


def _tile(html: str, label: str) -> tuple[int, str]:
    """The count and link of the Home tile named `label`."""
    match = re.search(r'<a href="([^"]+)"><span class="count">(\d+)</span> '
                      rf'<span class="label">{re.escape(label)}</span></a>', html)
    assert match, f"no tile {label!r}"
    return int(match.group(2)), match.group(1).replace("&amp;", "&")


def _rows(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<tr id="order-(\d+)"', html)]


def test_home_counts_what_needs_doing_and_links_to_those_orders(shop_day, signed_in, client):
    signed_in("viewer")
    html = client.get("/").text
    assert "<h1>Home</h1>" in html
    expected = {"Overdue (past Ship By)": [shop_day["overdue"]],
                "Ship by today": [shop_day["today"]],
                "Buyer asked to cancel": [shop_day["asked"]]}
    for label, ids in expected.items():
        count, url = _tile(html, label)
        assert count == len(ids), label
        assert sorted(_rows(client.get(url).text)) == ids, label
    count, url = _tile(html, "Waiting for acknowledgement")
    assert count == 19  # every imported order but the one shipped
    assert shop_day["shipped"] not in _rows(client.get(url).text)
    count, url = _tile(html, "Failed updates to Walmart")
    assert count == 1 and url == "/sync/?state=error"
    count, url = _tile(html, "Awaiting refund")
    assert count == 1 and url == "/returns/?status=awaiting"
    assert "RMA-77" in client.get(url).text
    assert "RMA RMA-77" in html and "Soon" in html  # its deadline is tomorrow
    assert "Act now" in html  # the overdue order and the failed update say so in words


def test_the_orders_page_filter_says_what_it_shows(shop_day, signed_in, client):
    signed_in("viewer")
    html = client.get("/orders/?needs=overdue").text
    assert '<option value="overdue" selected>Overdue (past Ship By)</option>' in html
    assert _rows(html) == [shop_day["overdue"]]
    assert len(_rows(client.get("/orders/?needs=nonsense").text)) == 20  # ignored


def test_chart_counts_orders_per_day_and_the_on_time_rate(shop_day, signed_in, client):
    signed_in("viewer")
    html = client.get("/").text
    # Two orders were due: one shipped an hour early, one not shipped at all.
    assert "20 orders placed;" in html
    assert "50% of the orders due shipped by their Ship By date." in html
    svg = re.search(r"<svg .*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert len(re.findall(r'<rect class="bar"', svg)) == 30
    assert sum(int(n) for n in re.findall(r": (\d+) orders?</title></rect>", svg)) == 20
    # The same numbers, as a table, without JavaScript.
    assert "<summary>The numbers, day by day</summary>" in html
    table = re.search(r"<summary>The numbers, day by day</summary>.*?</table>", html, re.S)
    cells = re.findall(r'<td class="num">(\d+)</td><td class="num">(\d+)</td>'
                       r'<td class="num">(?:(\d+) \(\d+%\)|—)</td>', table.group(0))
    assert len(cells) == 30
    assert sum(int(placed) for placed, _, _ in cells) == 20
    assert sum(int(due) for _, due, _ in cells) == 2
    assert sum(int(on_time or 0) for _, _, on_time in cells) == 1


def test_home_shows_each_stores_last_import(shop_day, signed_in, client):
    signed_in("viewer")
    html = client.get("/").text
    assert re.search(r"Store \d+</a>:\s*last successful import (just now|\d+ min ago)", html)


def test_home_without_a_store_says_how_to_start(signed_in, client):
    signed_in("admin")
    html = client.get("/").text
    assert "No store yet" in html and 'href="/stores/new"' in html


def test_home_without_a_store_tells_a_viewer_who_adds_one(signed_in, client):
    signed_in("viewer")
    html = client.get("/").text
    assert "No store yet" in html and 'href="/stores/new"' not in html
    assert "An admin connects the Walmart seller account" in html


def test_home_with_a_store_and_no_orders_yet(app, signed_in, client, walmart_store):
    walmart_store()
    signed_in("viewer")
    html = client.get("/").text
    assert "No orders in the last 30 days yet." in html
    assert "no successful import yet" in html
    assert "No return waits for a refund." in html


def test_an_empty_orders_list_says_why(app, signed_in, client, walmart_store):
    """No orders yet: the first import is coming; then Walmart unreachable (a real failed
    import, with its error); then an import running."""
    from webapp.extensions import db
    from webapp.models import ImportRun, Store
    from webapp.models.base import utcnow
    from webapp.services.orders.importer import import_store
    from webapp.walmart import WalmartError

    store_id, _seller = walmart_store()
    signed_in("viewer")
    html = client.get("/orders/").text
    assert "No orders yet." in html and "the first import starts within a few minutes" in html
    with app.app_context():
        db.session.get(Store, store_id).base_url = "http://127.0.0.1:9"  # nothing listens
        db.session.commit()
        with pytest.raises(WalmartError):
            import_store(store_id)
    html = client.get("/orders/").text
    assert "Walmart unreachable" in html and "the last import failed" in html
    assert "No store" not in html
    with app.app_context():
        db.session.add(ImportRun(store_id=store_id, started_at=utcnow(), seen=12))
        db.session.commit()
    assert "Importing…" in client.get("/orders/").text
    assert "12 orders read so far" in client.get("/orders/").text


def test_the_chart_kept_rendered_still_follows_every_write(shop_day, app, signed_in, client):
    """Home keeps its chart's HTML by the figures it draws (webapp/row_cache.py): an order
    placed now is in the next Home's chart, and its day's row of the table, at once."""
    from sqlalchemy import insert, select

    from webapp.extensions import db
    from webapp.models import Order
    from webapp.models.base import utcnow

    signed_in("viewer")

    def placed(html: str) -> int:
        return int(re.search(r"(\d+) orders? placed;", html).group(1))

    before = client.get("/").text
    assert placed(client.get("/").text) == placed(before)  # the kept one, the same
    with app.app_context():
        store_id = db.session.scalar(select(Order.store_id).limit(1))
        db.session.execute(insert(Order), [{"store_id": store_id, "purchase_order_id": po,
                                            "currency": "USD", "status": "Open",
                                            "order_date": utcnow()} for po in ("77001", "77002")])
        db.session.commit()
    assert placed(client.get("/").text) == placed(before) + 2
