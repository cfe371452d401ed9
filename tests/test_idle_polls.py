"""Lists people keep open (Orders, Stock, Returns) poll while idle: 204 while nothing they show
changed, the refreshed list after a change made elsewhere — by a colleague, the CLI, a worker."""

from __future__ import annotations

import re

from sqlalchemy import select

HX = {"HX-Request": "true"}


def _poll_url(html: str) -> str:
    return re.search(r'hx-get="([^"]*poll=1[^"]*)"', html).group(1).replace("&amp;", "&")


def _open_order(app):
    """(id, number, {line: open units}) of an open order with no buyer cancel request."""
    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        order = db.session.scalars(select(Order).where(
            Order.status == "Open", Order.intent_to_cancel.is_(False))
            .order_by(Order.id.desc())).first()
        return order.id, order.number, {x.line_number: x.open_qty for x in order.lines}


def test_orders_poll_answers_204_until_the_cli_ships(app, signed_in, client, runner, shop):
    """An Orders page left open (nothing in flight: the idle poll) answers 204 while nothing
    changed; a ship made with the CLI (another session) shows at its next poll."""
    order_id, number, lines = _open_order(app)
    signed_in("viewer")
    html = client.get("/orders/", headers=HX).text
    assert 'hx-trigger="every 15000ms, wake"' in html
    poll = _poll_url(html)
    assert "watch=" not in poll and "v=" in poll
    assert client.get(poll, headers=HX).status_code == 204
    assert client.get(poll, headers=HX).status_code == 204  # still nothing new
    line, quantity = next(iter(lines.items()))
    result = runner.invoke(args=["orders", "ship", number, "--line", f"{line}:{quantity}",
                                 "--carrier", "UPS", "--tracking", "1Z999AA10123456784"])
    assert result.exit_code == 0, result.output
    fresh = client.get(poll, headers=HX)
    assert fresh.status_code == 200
    row = re.search(rf'<tr id="order-{order_id}".*?</tr>', fresh.text, re.S).group(0)
    assert "Shipped" in row and "Sending shipment to Walmart" in row
    # the shipment is in flight now: the fast poll, watching that row
    assert 'hx-trigger="every 500ms, wake"' in fresh.text and "watch=" in _poll_url(fresh.text)


def test_an_order_changed_by_a_worker_shows_and_a_full_page_never_gets_204(
        app, signed_in, client, shop):
    from webapp.extensions import db
    from webapp.models import Order

    order_id, _number, _lines = _open_order(app)
    signed_in("viewer")
    poll = _poll_url(client.get("/orders/", headers=HX).text)
    assert client.get(poll.replace("poll=1", "poll=")).status_code == 200  # not a poll
    assert client.get(poll).status_code == 200  # not htmx: the whole page
    with app.app_context():  # as a worker's job would: its own app context and session
        db.session.get(Order, order_id).status_details = "Read back from Walmart"
        db.session.commit()
    fresh = client.get(poll, headers=HX)
    assert fresh.status_code == 200 and "Read back from Walmart" in fresh.text
    assert client.get(_poll_url(fresh.text), headers=HX).status_code == 204


def test_work_that_changes_nothing_shown_keeps_the_lists_quiet(app, shop):
    """Claims, counted attempts and leases of sync tasks, and writes that are rolled back,
    move no list's marker; a stock push's new state moves the Stock list's only."""
    from datetime import timedelta

    from webapp import list_versions
    from webapp.extensions import db
    from webapp.models import Order, SyncTask
    from webapp.models.base import utcnow
    from webapp.services.sync.lease import claim, sweep

    store_id, _seller = shop
    with app.test_request_context():
        before = {name: list_versions.current(name) for name in list_versions.LISTS}
        task = SyncTask(store_id=store_id, kind="acknowledge", target="x", state="synced")
        db.session.add(task)
        db.session.commit()
        before = {name: list_versions.current(name) for name in list_versions.LISTS}
        assert before["stock"] and before["orders"]
        db.session.execute(SyncTask.__table__.update().where(SyncTask.id == task.id)
                           .values(state="pending", next_attempt_at=utcnow()))
        db.session.commit()  # (bulk: a state change shown on Stock and Returns)
        moved = {name: list_versions.current(name) for name in list_versions.LISTS}
        assert moved["orders"] == before["orders"] and moved["stock"] != before["stock"]
        assert claim(task.id, utcnow())
        sweep(utcnow() + timedelta(hours=1))
        order = db.session.scalars(select(Order)).first()
        order.status_details = "never committed"
        db.session.flush()
        db.session.rollback()
        order.status_details = order.status_details  # set, but not changed
        db.session.commit()
        assert {name: list_versions.current(name) for name in list_versions.LISTS} == moved


def test_a_redis_restart_never_matches_an_old_marker(app, signed_in, client, shop):
    from redis import Redis

    signed_in("viewer")
    poll = _poll_url(client.get("/orders/", headers=HX).text)
    Redis.from_url(app.config["REDIS_URL"]).flushdb()  # Redis restarted, counters gone
    fresh = client.get(poll, headers=HX)
    assert fresh.status_code == 200 and _poll_url(fresh.text) != poll
    assert client.get(_poll_url(fresh.text), headers=HX).status_code == 204


def test_stock_poll_shows_a_quantity_set_elsewhere(app, signed_in, client, shop):
    from webapp.extensions import db
    from webapp.models import SkuStock
    from webapp.services.stock.levels import set_on_hand

    store_id, _seller = shop
    with app.app_context():
        sku = db.session.scalars(select(SkuStock.sku).where(SkuStock.store_id == store_id)
                                 .order_by(SkuStock.sku)).first()
    signed_in("operator")
    html = client.get(f"/stock/?store={store_id}", headers=HX).text
    assert html.lstrip().startswith('<div id="stock-results"')
    assert 'hx-trigger="every 15000ms, wake"' in html
    poll = _poll_url(html)
    assert client.get(poll, headers=HX).status_code == 204
    with app.app_context():
        set_on_hand(store_id, sku, 4321, by=None, actor="cli")
    fresh = client.get(poll, headers=HX)
    assert fresh.status_code == 200 and ">4321<" in fresh.text
    assert "Sending to Walmart" in fresh.text and 'every 500ms, wake' in fresh.text


def test_returns_poll_shows_a_return_changed_elsewhere(app, signed_in, client, returned):
    """Returns left open poll every 15 s (204 while nothing changed), show a return changed
    elsewhere, and poll fast only while a refund is on its way."""
    from webapp.extensions import db
    from webapp.models import Return
    from webapp.services.returns.refunding import refund_return

    signed_in("viewer")
    page = client.get("/returns/")
    assert page.status_code == 200 and 'id="returns-results"' in page.text
    assert 'hx-trigger="every 15000ms, wake"' in page.text
    poll = _poll_url(page.text)
    assert client.get(poll, headers=HX).status_code == 204
    with app.app_context():
        ret = db.session.scalars(select(Return)).one()
        ret.status_details = "Walmart refunded it itself"
        db.session.commit()
        return_id = ret.id
    fresh = client.get(poll, headers=HX)
    assert fresh.status_code == 200 and "Walmart refunded it itself" in fresh.text
    assert fresh.text.lstrip().startswith('<div id="returns-results"')
    assert 'hx-trigger="every 15000ms, wake"' in fresh.text
    with app.app_context():
        refund_return(return_id, {1: 1}, by=None, actor="cli")
    sending = client.get(_poll_url(fresh.text), headers=HX)
    assert sending.status_code == 200 and 'hx-trigger="every 500ms, wake"' in sending.text


def test_a_colleagues_ship_shows_while_this_pages_own_rows_are_in_flight(
        app, signed_in, client, shop):
    """The fast poll of rows in flight (a shipment waiting out a retry, say) does not hide
    other orders' changes until they settle."""
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order

    with app.app_context():
        first, second = [(o.id, {x.line_number: x.open_qty for x in o.lines})
                         for o in db.session.scalars(select(Order).where(
                             Order.status == "Open", Order.intent_to_cancel.is_(False))
                             .order_by(Order.id.desc()).limit(2)).unique()]
        ship_order(first[0], [PackageInput("1Z999AA10123456784", "Standard", first[1], "UPS")],
                   utcnow(), by=None, actor="test")
    signed_in("viewer")
    html = client.get("/orders/", headers=HX).text
    poll = _poll_url(html)
    assert f"watch={first[0]}" in poll and 'every 500ms, wake' in html
    assert client.get(poll, headers=HX).status_code == 204
    with app.app_context():
        ship_order(second[0], [PackageInput("1Z999AA10123456785", "Standard", second[1],
                                            "UPS")], utcnow(), by=None, actor="colleague")
    fresh = client.get(poll, headers=HX)
    assert fresh.status_code == 200
    assert "Sending shipment" in _row_of(fresh.text, second[0])


def _row_of(html: str, order_id: int) -> str:
    return re.search(rf'<tr id="order-{order_id}".*?</tr>', html, re.S).group(0)


def test_without_redis_polls_refresh_and_rows_in_flight_use_their_last_update(
        app, signed_in, client, shop, monkeypatch):
    """Redis down: an idle poll always refreshes (nothing says the list is unchanged); the
    fast poll still answers 204 while the rows it watches are unchanged (one indexed query)."""
    from webapp import list_versions
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order

    signed_in("viewer")
    monkeypatch.setattr(list_versions, "current", lambda name: None)
    idle = _poll_url(client.get("/orders/", headers=HX).text)
    assert "v=" not in idle and "watch=" not in idle
    assert client.get(idle, headers=HX).status_code == 200
    with app.app_context():
        order = db.session.scalars(select(Order).where(
            Order.status == "Open", Order.intent_to_cancel.is_(False))).first()
        ship_order(order.id, [PackageInput("1Z999AA10123456784", "Standard",
                                           {x.line_number: x.open_qty for x in order.lines},
                                           "UPS")], utcnow(), by=None, actor="test")
    fast = _poll_url(client.get("/orders/", headers=HX).text)
    assert "watch=" in fast and client.get(fast, headers=HX).status_code == 204
