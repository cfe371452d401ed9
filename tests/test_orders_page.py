"""The Orders page: status cards, filters, search, keyset pages, polling, CSV; the order page."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select, update

from simulator import control


@pytest.fixture
def imported(app, walmart_store):
    """A store with 120 imported orders (acknowledgements still pending)."""
    from webapp.services.orders.importer import import_store

    store_id, seller = walmart_store(orders=120, seed=5)
    with app.app_context():
        import_store(store_id)
    return store_id, seller


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr id="order-(\d+)"', html)


def _orders(app, **where):
    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        query = select(Order).order_by(Order.id)
        for key, value in where.items():
            query = query.where(getattr(Order, key) == value)
        rows = db.session.scalars(query).unique().all()
        for row in rows:
            _ = row.lines
            db.session.expunge(row)
        return rows


def test_orders_page_full_and_fragment(signed_in, client, imported):
    """The page lists 50 orders with Channel Manager's columns; htmx gets only the results."""
    signed_in("viewer")
    page = client.get("/orders/")
    assert page.status_code == 200 and "<html" in page.text
    for column in ("Walmart Order #", "Order #", "Items", "Order Value", "Ordered", "Ship By",
                   "Deliver By", "Ship Method", "Last Update", "Status", "Status details"):
        assert f"<th>{column}</th>" in page.text or f">{column}</th>" in page.text
    assert len(_rows(page.text)) == 50
    fragment = client.get("/orders/", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and fragment.text.lstrip().startswith(
        '<div id="orders-results"')
    assert len(_rows(fragment.text)) == 50
    assert "HX-Request" in fragment.headers["Vary"]


def test_status_cards_count_and_filter(app, signed_in, client, imported):
    """Cards show live counts per status and filter the table when clicked."""
    orders = _orders(app)
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.orders.queries import invalidate_counts
    with app.app_context():
        db.session.execute(update(Order).where(Order.id.in_([o.id for o in orders[:7]]))
                           .values(status="Error"))
        db.session.commit()
        invalidate_counts()
    signed_in("viewer")
    page = client.get("/orders/").text
    assert re.search(r'<span class="count">7</span><span class="label">Error</span>', page)
    assert re.search(r'<span class="count">113</span><span class="label">Open</span>', page)
    errors = client.get("/orders/?status=error").text
    assert sorted(_rows(errors)) == sorted(str(o.id) for o in orders[:7])


def test_search_by_sku_po_number_and_customer(app, signed_in, client, imported):
    """Search finds orders by SKU, Walmart PO, our number and customer name."""
    orders = _orders(app)
    target = orders[3]
    signed_in("viewer")
    for q in (target.purchase_order_id, target.number, target.customer_order_id):
        assert _rows(client.get("/orders/", query_string={"q": q}).text) == [str(target.id)]
    sku = target.lines[0].sku
    with_sku = {str(o.id) for o in orders if any(x.sku == sku for x in o.lines)}
    found = set(_rows(client.get("/orders/", query_string={"q": sku}).text))
    assert found == with_sku if len(with_sku) <= 50 else len(found) == 50
    name = target.customer_name.split()[-1]
    by_name = _rows(client.get("/orders/", query_string={"q": name.lower()}).text)
    assert str(target.id) in by_name
    assert "No order matches" in client.get("/orders/?q=zzzz-nothing").text


def test_keyset_pages_cover_every_order_once(app, signed_in, client, imported):
    """Next/Previous walk the list by keyset: 120 orders in pages of 50, 50, 20, no repeats."""
    signed_in("viewer")
    seen, url = [], "/orders/"
    for _ in range(5):
        html = client.get(url).text
        seen.append(_rows(html))
        match = re.search(r'href="(/orders/\?[^"]*after=[^"]+)"', html)
        if not match:
            break
        url = match.group(1).replace("&amp;", "&")
    assert [len(p) for p in seen] == [50, 50, 20]
    flat = [x for p in seen for x in p]
    assert len(set(flat)) == 120
    back = re.search(r'href="(/orders/\?[^"]*before=[^"]+)"', html).group(1).replace("&amp;", "&")
    assert _rows(client.get(back).text) == seen[1]


def test_sort_by_ship_by_puts_the_most_urgent_first(app, signed_in, client, imported):
    """Sorting by Ship By lists the soonest ship-by date first."""
    signed_in("viewer")
    ids = _rows(client.get("/orders/?sort=ship_by").text)
    orders = {str(o.id): o for o in _orders(app)}
    dates = [orders[i].ship_by for i in ids]
    assert dates == sorted(dates)


def test_rows_in_flight_poll_once_per_page_then_idle(app, signed_in, client, imported,
                                                     worker):
    """While acknowledgements are in flight the results poll (one element) every 500 ms;
    while nothing changed a poll answers 204 (nothing to swap); once synced the results come
    back with the idle poll (changes made elsewhere), which answers 204 too."""
    signed_in("viewer")
    html = client.get("/orders/").text
    assert html.count('hx-trigger="every 500ms, wake"') == 1
    assert "Acknowledging with Walmart" in html
    poll = re.search(r'hx-get="([^"]*poll=1[^"]*)"', html).group(1).replace("&amp;", "&")
    assert "watch=" in poll and "since=" in poll
    still = client.get(poll, headers={"HX-Request": "true"})
    assert still.status_code == 204 and still.data == b""
    worker()
    done = client.get(poll, headers={"HX-Request": "true"})
    assert done.status_code == 200 and "Acknowledging with Walmart" not in done.text
    assert 'hx-trigger="every 500ms' not in done.text
    assert done.text.count('hx-trigger="every 15000ms, wake"') == 1
    idle = re.search(r'hx-get="([^"]*poll=1[^"]*)"', done.text).group(1).replace("&amp;", "&")
    assert "watch=" not in idle and "v=" in idle
    assert client.get(idle, headers={"HX-Request": "true"}).status_code == 204


FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3",
            "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


def test_a_row_shows_what_changed_even_when_nothing_else_did(app, signed_in, client,
                                                              imported):
    """Rows are rendered once and kept by their content: any change to what a row shows —
    even by a writer that leaves the order's last-update time alone — shows at once."""
    from webapp.extensions import db
    from webapp.models import Order
    order = _orders(app)[-1]  # the newest: on the first page
    signed_in("viewer")
    first = client.get("/orders/").text
    assert f'id="order-{order.id}"' in first and "Checked by hand" not in first
    assert client.get("/orders/").text.count(f'id="order-{order.id}"') == 1
    with app.app_context():
        db.session.execute(update(Order).where(Order.id == order.id).values(
            status_details="Checked by hand", updated_at=order.updated_at))
        db.session.commit()
    html = client.get("/orders/").text
    row = re.search(rf'<tr id="order-{order.id}".*?</tr>', html, re.S).group(0)
    assert "Checked by hand" in row


def test_csv_export_is_safe_for_spreadsheets(app, signed_in, client, imported):
    """Export gives every matching order, as a download; no cell starts with = + - @ tab or CR
    (OWASP's CSV injection list), whichever Walmart field or status text carried it."""
    orders = _orders(app)
    from webapp.extensions import db
    from webapp.models import Order, OrderLine
    with app.app_context():
        for order, formula in zip(orders, FORMULAS, strict=False):
            db.session.execute(update(Order).where(Order.id == order.id).values(
                customer_name=formula, status_details=formula, ship_method=formula[:20]))
            db.session.execute(update(OrderLine).where(OrderLine.order_id == order.id)
                               .values(sku=formula))
        db.session.commit()
    signed_in("viewer")
    response = client.get("/orders.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:2] == ["Walmart Order #", "Order #"] and len(rows) == 121
    assert [cell for row in rows for cell in row if cell[:1] in ("=", "+", "-", "@", "\t",
                                                                   "\r")] == []
    for order, formula in zip(orders, FORMULAS, strict=False):
        evil = next(r for r in rows if r[0] == order.purchase_order_id)
        assert evil[-1] == "'" + formula and evil[-2] == "'" + formula  # customer, details
        assert evil[3].startswith("'" + formula) and evil[9] == "'" + formula[:20]
    filtered = client.get(f"/orders.csv?q={orders[1].purchase_order_id}").get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(filtered)))) == 2


def test_csv_export_starts_as_fast_as_the_page(app, signed_in, client, imported, monkeypatch):
    """The download starts once as many orders as the Orders page shows are read (not 500:
    4–7× the bare page at a million orders); the rest follow in batches, none lost or doubled
    at the seam."""
    from webapp.services.orders import export

    sizes, real = [], export.page
    monkeypatch.setattr(export, "page", lambda f, **kw: sizes.append(kw["size"]) or real(f, **kw))
    signed_in("viewer")
    response = client.get("/orders.csv", buffered=False)
    assert response.status_code == 200 and sizes == [export.FIRST_ROWS] == [50]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert sizes == [50, 500]
    assert len(rows) == 121 and len({r[0] for r in rows[1:]}) == 120


def test_order_page_shows_lines_customer_and_sync_history(app, signed_in, client, imported,
                                                          worker):
    """The order page has the customer, lines with quantities, payment and sync history."""
    worker()
    order = _orders(app)[0]
    signed_in("viewer")
    html = client.get(f"/orders/{order.id}").text
    assert f"Order {order.number}" in html and order.purchase_order_id in html
    assert order.customer_name.split()[0] in html and order.lines[0].sku in html
    assert "Paid through Walmart" in html and "Sync history" in html
    assert "Acknowledge" in html and "Synced" in html
    fragment = client.get(f"/orders/{order.id}?poll=1", headers={"HX-Request": "true"})
    assert fragment.status_code == 286 and '<section id="order-live"' in fragment.text
    assert client.get("/orders/999999").status_code == 404


def test_buyer_cancellation_request_stands_out(app, signed_in, client, imported):
    """A buyer's cancellation request is flagged on the list and the order page."""
    from webapp.services.orders.importer import import_store

    store_id, seller = imported
    order = _orders(app)[0]
    control.intent_to_cancel(seller.sim.conn, seller.seller_id, order.purchase_order_id)
    with app.app_context():
        import_store(store_id)
    signed_in("viewer")
    html = client.get("/orders/", query_string={"q": order.purchase_order_id}).text
    assert "Cancel requested" in html and "buyer-cancel" in html
    assert "The buyer asked Walmart to cancel" in client.get(f"/orders/{order.id}").text


def test_import_now_starts_an_import_the_page_follows(app, signed_in, client, walmart_store,
                                                      worker):
    """Import now queues the import; the Stores page shows it running, then its result."""
    store_id, _seller = walmart_store(orders=15)
    signed_in("operator")
    page = client.get("/stores/").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(f"/stores/{store_id}/import", data={"csrf_token": token},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Importing…" in response.text
    assert 'hx-trigger="every 2s"' in response.text
    worker()
    done = client.get("/stores/?poll=1", headers={"HX-Request": "true"})
    assert done.status_code == 286 and "just now" in done.text
    assert re.search(r'<td class="num">15</td>', done.text)  # orders imported today
    assert len(_orders(app)) == 15


def test_failing_import_is_shown_and_raises_the_banner(app, signed_in, client, walmart_store):
    """An import that fails records the error on the store; a store with no successful import
    for the configured time shows a banner on every page."""
    from datetime import timedelta

    from webapp.extensions import db
    from webapp.models import Store
    from webapp.models.base import utcnow
    from webapp.services.orders.importer import import_store
    from webapp.walmart import TransientError

    store_id, seller = walmart_store(orders=2)
    control.set_faults(seller.sim.conn, "released", down=True)
    with app.app_context(), pytest.raises(TransientError):
        import_store(store_id)
    with app.app_context():
        store = db.session.get(Store, store_id)
        assert store.import_failures == 1 and "503" in store.last_import_error
        store.created_at = utcnow() - timedelta(hours=1)
        db.session.commit()
    signed_in("viewer")
    stores = client.get("/stores/").text
    assert "Walmart answered 503" in stores
    assert "No successful import from" in client.get("/orders/").text
