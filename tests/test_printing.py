"""Pick lists and packing slips: what goes on paper (and what never does), which orders a
print covers, recording prints (viewers too), "Not yet printed", and the CLI."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import csrf_from

RETURN_CENTRE = {"name": "Acme Returns", "address1": "12 Dock Road", "address2": "Bay 4",
                 "city": "Reno", "state": "NV", "postalCode": "89501", "country": "USA",
                 "dayPhone": "775-555-0142", "emailId": "returns@acme.example"}


@pytest.fixture
def store(walmart_store):
    """A simulator store with no orders yet: (store_id, seller)."""
    return walmart_store()


def _order(app, order_id: int):
    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        order = db.session.get(Order, order_id)
        db.session.expunge(order)
        return order


def _slips(app, *order_ids, package_id=None):
    from webapp.services.printing import documents

    with app.app_context():
        return documents.slips(list(order_ids), package_id)


def _print(client, **data):
    """Post a print as the pages' forms do; the response (303 to the print, or the refusal)."""
    token = csrf_from(client.get("/orders/").text)
    return client.post("/print/", data={"csrf_token": token, **data})


def _document(client, response) -> str:
    assert response.status_code == 303, response.text
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return page.text


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _slip_parts(page: str) -> list[str]:
    return re.findall(r'<article class="slip".*?</article>', page, re.S)


def test_a_slip_shows_what_the_buyer_needs_and_never_the_phone_or_e_mail(
        app, client, signed_in, store, walmart_order):
    """One order's slip: the customer order number (with its barcode), order date, ship-to
    name and address, ship method, Ship By, each line's SKU, product and quantity, and
    Walmart's return instruction — never the buyer's phone or relay e-mail, no URL, no
    prices (off by default) and not the store's internal name."""
    signed_in("operator")
    order_id, _po = walmart_order(store, [("MUG-CER-12", 2), ("CAB-HDMI-6FT", 1)])
    order = _order(app, order_id)
    assert order.phone and order.customer_email  # Walmart sent both: they must stay off
    page = _document(client, _print(client, kind="slips", order=order_id))
    [slip] = _slip_parts(page)
    text = " ".join(_text(slip).split())
    assert order.customer_order_id in text
    assert 'class="barcode"' in slip and "<svg" in slip
    for shown in (order.ship_name, order.address1, order.city, order.postal_code,
                  order.ship_method, "MUG-CER-12", "Ceramic Coffee Mug", "CAB-HDMI-6FT"):
        assert shown in text, shown
    assert re.search(r"MUG-CER-12 Ceramic Coffee Mug[^|]*? 2 ", text)
    assert "start your return on Walmart.com" in text
    digits = re.sub(r"\D", "", order.phone)
    assert order.customer_email not in slip and digits not in re.sub(r"\D", "", text)
    assert "http" not in slip and "www." not in slip and "<img" not in slip
    assert "$" not in text and order.store.name not in text
    assert order.purchase_order_id not in text  # the buyer never sees Walmart's PO


def test_the_slip_names_the_return_centre_walmart_sends(app, client, signed_in, store,
                                                         walmart_order):
    """A line whose return centre Walmart names (returnCenterAddress, kept at import) prints
    that address — not the centre's phone or e-mail — instead of the general instruction."""
    signed_in("viewer")
    order_id, _po = walmart_order(store, [("TWL-BTH-2PK", 1)], return_center=RETURN_CENTRE)
    page = _document(client, _print(client, kind="slips", order=order_id))
    text = " ".join(_text(_slip_parts(page)[0]).split())
    assert "Acme Returns 12 Dock Road Bay 4 Reno, NV 89501 USA" in text
    assert "555" not in text and "acme.example" not in text
    assert "the items go back to" in text


def test_store_settings_put_a_name_and_prices_on_slips(app, client, signed_in, store,
                                                        walmart_order):
    """"Name on slips" heads each slip and "Show prices on slips" adds unit price and amount;
    both are set on the store form."""
    from webapp.extensions import db
    from webapp.models import Store

    email = signed_in("admin")
    assert email
    store_id, seller = store
    order_id, _po = walmart_order(store, [("MUG-CER-12", 2)])
    form = client.get(f"/stores/{store_id}/edit").text
    assert "Name on slips" in form and "Show prices on slips" in form
    with app.app_context():
        saved = db.session.get(Store, store_id)
        data = {"csrf_token": csrf_from(form), "name": saved.name,
                "environment": "simulator", "base_url": saved.base_url,
                "client_id": saved.client_id, "client_secret": "", "import_enabled": "y",
                "rate_limits": "", "slip_name": "  Maple   Goods ", "slip_prices": "y"}
    assert client.post(f"/stores/{store_id}/edit", data=data).status_code == 302
    with app.app_context():
        saved = db.session.get(Store, store_id)
        assert (saved.slip_name, saved.slip_prices) == ("Maple Goods", True)
    text = " ".join(_text(_slip_parts(_document(
        client, _print(client, kind="slips", order=order_id)))[0]).split())
    assert text.startswith("Maple Goods Packing slip")
    assert "$12.99 $25.98" in text


def test_a_slip_holds_the_units_still_to_ship_or_those_of_one_package(
        app, client, signed_in, store, walmart_order):
    """After a partial shipment the slip lists what is left to ship; the package's own slip
    (from the order page) lists that package's units; shipped in full, a slip printed again
    lists what was shipped."""
    from tests.factories import make_shipment
    from webapp.extensions import db
    from webapp.models import ShipmentPackage

    signed_in("operator")
    order_id, _po = walmart_order(store, [("MUG-CER-12", 3), ("CAB-HDMI-6FT", 1)])
    with app.app_context():
        make_shipment(order_id, {"1": 2})
        package_id = db.session.scalar(select(ShipmentPackage.id))
    [left] = _slips(app, order_id).slips
    assert [(x.sku, x.quantity) for x in left.lines] == [("MUG-CER-12", 1), ("CAB-HDMI-6FT", 1)]
    order_page = client.get(f"/orders/{order_id}").text
    assert f'name="package" value="{package_id}"' in order_page
    page = _document(client, _print(client, scope="package", package=package_id))
    text = " ".join(_text(page).split())
    assert "In this package" in text and "MUG-CER-12 Ceramic Coffee Mug, 12 oz, Stoneware " \
        "White 2" in text and "CAB-HDMI-6FT" not in text
    with app.app_context():
        make_shipment(order_id, tracking="1Z999AA10123456791")
    [shipped] = _slips(app, order_id).slips
    assert [(x.sku, x.quantity) for x in shipped.lines] == [("MUG-CER-12", 3),
                                                            ("CAB-HDMI-6FT", 1)]


def test_slips_come_most_urgent_first_and_canceled_orders_are_left_out(
        app, client, signed_in, store, walmart_order, worker):
    """Slips are in Ship By order (soonest first, then by order date): the box due first is
    packed first. An order with nothing to ship is left out, and the print says so."""
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.stock.cancelling import cancel_order

    signed_in("operator")
    ids = [walmart_order(store, [("MUG-CER-12", 1)])[0] for _ in range(3)]
    canceled, _po = walmart_order(store, [("PAN-NS-10", 1)])
    now = datetime.now(UTC)
    with app.app_context():
        for days, order_id in zip((3, 1, 2), ids, strict=True):
            db.session.execute(update(Order).where(Order.id == order_id)
                               .values(ship_by=now + timedelta(days=days)))
        db.session.commit()
        cancel_order(canceled, "SELLER_CANCEL_OUT_OF_STOCK", by=None, actor="test")
    worker()
    document = _slips(app, *ids, canceled)
    assert [s.order_id for s in document.slips] == [ids[1], ids[2], ids[0]]
    assert document.order_ids == [ids[1], ids[2], ids[0]]
    assert [x.reason for x in document.left_out] == ["canceled: nothing to ship"]
    response = _print(client, kind="slips", order=[*ids, canceled])
    page = _document(client, response)
    assert [int(x) for x in re.findall(r'<article class="slip" id="slip-(\d+)"', page)] == \
        [ids[1], ids[2], ids[0]]
    assert "1 order(s) left out" in page and "canceled: nothing to ship" in page


def test_the_pick_list_sums_each_sku_sorted_with_its_orders_and_stock_on_hand(
        app, client, signed_in, store, walmart_order):
    """One sheet: every SKU still to ship in the selection, summed across orders, sorted by
    SKU, with the customer order numbers needing it and the units on hand where tracked."""
    from webapp.services.stock.levels import set_on_hand

    signed_in("operator")
    first, _ = walmart_order(store, [("TWL-BTH-2PK", 2), ("CAB-HDMI-6FT", 1)])
    second, _ = walmart_order(store, [("CAB-HDMI-6FT", 3)])
    third, _ = walmart_order(store, [("MUG-CER-12", 1), ("TWL-BTH-2PK", 1)])
    with app.app_context():
        set_on_hand(store[0], "CAB-HDMI-6FT", 40, by=None, actor="test")
    numbers = {i: _order(app, i).customer_order_id for i in (first, second, third)}
    page = _document(client, _print(client, kind="pick-list", order=[first, second, third]))
    rows = [" ".join(_text(row).split()) for row in
            re.findall(r"<tr><td class=\"sku\">.*?</tr>", page, re.S)]
    assert [row.split()[0] for row in rows] == ["CAB-HDMI-6FT", "MUG-CER-12", "TWL-BTH-2PK"]
    cable, mug, towel = rows  # (the orders in each row in the slips' order: Ship By)
    assert "6 ft 4 40 " in cable and f"{numbers[second]} ×3" in cable
    assert re.search(rf"\b{numbers[first]}(,|$)", cable)
    assert f"Stoneware White 1 — {numbers[third]}" in mug
    assert "Navy 3 — " in towel and f"{numbers[first]} ×2" in towel and numbers[third] in towel
    assert numbers[third] not in cable and numbers[second] not in towel
    assert "3 orders · 8 units · 3 SKUs" in " ".join(_text(page).split())


def test_printing_records_who_when_and_which_and_feeds_not_yet_printed(
        app, client, signed_in, store, walmart_order):
    """Printing slips records the print (who, when, which orders, in order) and marks the
    orders printed, leaving Last Update alone; "Not yet printed" then lists only the others;
    a pick list marks nothing printed."""
    from webapp.extensions import db
    from webapp.models import Order, PrintKind, PrintRecord
    from webapp.services.orders import queries

    email = signed_in("operator")
    ids = [walmart_order(store, [("MUG-CER-12", 1)])[0] for _ in range(3)]
    before = {i: _order(app, i).updated_at for i in ids}
    _document(client, _print(client, kind="pick-list", order=ids))
    _document(client, _print(client, kind="slips", order=ids[:2]))
    with app.app_context():
        pick, slips = db.session.scalars(select(PrintRecord).order_by(PrintRecord.id)).all()
        assert (pick.kind, pick.actor, pick.order_count) == (PrintKind.PICK_LIST, email, 3)
        assert (slips.kind, slips.actor) == (PrintKind.SLIPS, email)
        assert sorted(x.order_id for x in slips.orders) == ids[:2]
        printed = dict(db.session.execute(select(Order.id, Order.printed_at)).all())
        assert printed[ids[0]] == printed[ids[1]] == slips.created_at
        assert printed[ids[2]] is None
        assert {o.id: o.updated_at for o in db.session.scalars(select(Order))} == before
        unprinted = queries.page(queries.OrderFilter(unprinted=True))
        assert [row.id for row in unprinted.orders] == [ids[2]]
        assert queries.count(queries.OrderFilter(unprinted=True)) == 1
    listed = client.get("/orders/", query_string={"printed": "no"})
    assert f'id="order-{ids[2]}"' in listed.text and f'id="order-{ids[0]}"' not in listed.text
    assert 'name="printed" value="no" checked' in listed.text
    everything = client.get("/orders/").text
    assert everything.count(">Printed</span>") == 2


def test_a_slip_can_be_printed_again(app, client, signed_in, store, walmart_order):
    """Print again (from Prints, or the order page's button once more) is a new record of
    the same orders; the order page counts its prints."""
    from webapp.extensions import db
    from webapp.models import Order, PrintRecord

    signed_in("operator")
    order_id, _po = walmart_order(store, [("MUG-CER-12", 1)])
    _document(client, _print(client, kind="slips", order=order_id))
    with app.app_context():
        first = db.session.scalar(select(PrintRecord))
        first_id, first_at = first.id, first.created_at
    history = client.get("/print/").text
    assert f'id="print-{first_id}"' in history and "Print again" in history
    _document(client, _print(client, scope="again", record=first_id))
    with app.app_context():
        records = db.session.scalars(select(PrintRecord).order_by(PrintRecord.id)).all()
        assert len(records) == 2 and records[1].orders[0].order_id == order_id
        assert db.session.get(Order, order_id).printed_at == records[1].created_at > first_at
    assert "Printed 2 times" in client.get(f"/orders/{order_id}").text


def test_all_matching_the_filter_and_homes_ship_by_today_print_within_a_cap(
        app, client, signed_in, store, walmart_order, monkeypatch):
    """"All matching the filter" prints every order the Orders page lists for it (over all
    its pages); more than the cap is refused with a message and records nothing; Home's
    "Open orders shipping by today" prints the orders its tile counts."""
    from webapp.extensions import db
    from webapp.models import Order, PrintRecord
    from webapp.services.printing import selection

    signed_in("operator")
    ids = [walmart_order(store, [("MUG-CER-12", 1)])[0] for _ in range(3)]
    with app.app_context():
        db.session.execute(update(Order).where(Order.id == ids[0])
                           .values(ship_by=datetime.now(UTC) + timedelta(minutes=5)))
        db.session.commit()
    listed = client.get("/orders/", query_string={"q": "MUG-CER-12"}).text
    assert '<input type="hidden" name="q" value="MUG-CER-12">' in listed
    page = _document(client, _print(client, scope="filter", kind="slips", q="MUG-CER-12"))
    assert len(_slip_parts(page)) == 3
    home = client.get("/").text
    assert 'id="print-today"' in home and 'name="needs" value="ship-today"' in home
    page = _document(client, _print(client, scope="filter", kind="slips", needs="ship-today"))
    assert re.findall(r'id="slip-(\d+)"', page) == [str(ids[0])]
    monkeypatch.setattr(selection, "MAX_ORDERS", 2)
    refused = _print(client, scope="filter", kind="slips")
    assert refused.status_code == 422
    assert "More than 2 orders match this filter" in refused.text
    refused = _print(client, kind="slips", order=ids)
    assert refused.status_code == 422 and "3 orders are ticked" in refused.text
    with app.app_context():
        assert db.session.scalar(select(PrintRecord.id).order_by(PrintRecord.id.desc())) == 2


def test_nothing_ticked_or_nothing_matching_is_a_message(app, client, signed_in, store):
    """Printing with no order ticked, or a filter matching nothing, says so and records
    nothing; a made-up kind is a 400."""
    from webapp.extensions import db
    from webapp.models import PrintRecord

    signed_in("viewer")
    refused = _print(client, kind="slips")
    assert refused.status_code == 422 and "Tick the orders to print first" in refused.text
    refused = _print(client, scope="filter", kind="pick-list", q="NOTHING-LIKE-THIS")
    assert refused.status_code == 422 and "No order matches this filter" in refused.text
    assert _print(client, kind="poster", order="1").status_code == 400
    with app.app_context():
        assert db.session.scalar(select(PrintRecord.id)) is None


def test_a_viewer_prints_and_changes_nothing_else(app, client, signed_in, store, walmart_order):
    """A viewer can print packing slips and a pick list (the one write besides signing out)
    and sees the print buttons; every other changing route still answers 403
    (tests/test_security.py proves each one with a real request)."""
    from webapp.extensions import db
    from webapp.models import PrintRecord
    from webapp.security import VIEWER_WRITABLE

    order_id, _po = walmart_order(store, [("MUG-CER-12", 1)])
    signed_in("viewer")
    order_page = client.get(f"/orders/{order_id}").text
    assert "Print packing slip" in order_page and "New shipment" not in order_page
    assert 'form="print-ticked"' in client.get("/orders/").text
    _document(client, _print(client, kind="slips", order=order_id))
    _document(client, _print(client, kind="pick-list", order=order_id))
    with app.app_context():
        assert db.session.query(PrintRecord).count() == 2
    assert VIEWER_WRITABLE == {"auth.logout", "printing.create"}
    token = csrf_from(client.get("/orders/").text)
    assert client.post(f"/orders/{order_id}/cancel", data={"csrf_token": token}
                       ).status_code in (403, 405)
    assert client.post("/stock/", data={"csrf_token": token}).status_code in (403, 405)


def test_the_print_page_has_no_navigation_and_a_print_stylesheet(app, client, signed_in, store,
                                                                 walmart_order):
    """The print is its own page: no navigation, the print stylesheet (a page per slip, black
    on white, Letter and A4), a Print button for the browser's print; the stylesheet has the
    rules."""
    signed_in("operator")
    order_id, _po = walmart_order(store, [("MUG-CER-12", 1)])
    page = _document(client, _print(client, kind="slips", order=order_id))
    assert 'class="nav"' not in page and "topbar" not in page
    assert "css/print.css" in page and "data-print" in page
    with client.get("/static/css/print.css") as response:
        css = response.text
    assert "@page { size: auto;" in css and ".slip + .slip { break-before: page;" in css
    assert ".print-toolbar { display: none; }" in css and "color: #000 !important" in css


def _read_code128(svg: str) -> str:
    """Decode our SVG barcode bar by bar (an independent reader): the quiet zones, the start
    code, each symbol by its pattern, the check symbol and the stop pattern."""
    from barcode.charsets import code128

    from webapp.services.printing.barcode import QUIET_MODULES

    width = int(re.search(r'viewBox="0 0 (\d+) 1"', svg).group(1))
    modules = ["0"] * width
    for x, w in re.findall(r"M(\d+) 0h(\d+)v1", svg):
        modules[int(x):int(x) + int(w)] = ["1"] * int(w)
    bits = "".join(modules)
    assert bits[:QUIET_MODULES] == bits[-QUIET_MODULES:] == "0" * QUIET_MODULES
    body = bits[QUIET_MODULES:-QUIET_MODULES]
    assert body.endswith(code128.STOP + "11")  # the stop pattern and its final bar
    start, *data, check = [code128.CODES.index(body[i:i + 11])
                           for i in range(0, len(body) - 13, 11)]
    assert check == (start + sum(i * v for i, v in enumerate(data, 1))) % 103
    codeset, text = {103: "A", 104: "B", 105: "C"}[start], ""
    for value in data:
        switch = {99: "C", 100: "B", 101: "A"}.get(value)
        if codeset == "C" and value < 100:
            text += f"{value:02d}"
        elif switch and switch != codeset:
            codeset = switch
        else:
            text += chr(value + 32)
    return text


@pytest.mark.parametrize("number", ["5432109876543", "1234567890123456", "PO-7 / a"])
def test_the_barcode_encodes_the_customer_order_number(number):
    """The slip's SVG barcode reads back as Code 128 of the customer order number."""
    from webapp.services.printing.barcode import code128_svg

    assert _read_code128(code128_svg(number)) == number


def test_no_barcode_for_text_that_cannot_be_one():
    """Empty, non-ASCII or over-long text gives no barcode (the number still prints)."""
    from webapp.services.printing.barcode import code128_svg

    assert code128_svg("") is None and code128_svg("é") is None and code128_svg("1" * 41) is None


def test_cli_writes_slips_and_records_them_as_by_cli(app, runner, store, walmart_order,
                                                     tmp_path):
    """`flask orders slips ORDER… --output FILE` (our number or the PO) writes one HTML file
    with a slip per order and the print stylesheet inside, recorded as printed by "cli";
    an unknown order is refused before anything is recorded."""
    from webapp.extensions import db
    from webapp.models import PrintRecord

    first, po = walmart_order(store, [("MUG-CER-12", 1)])
    second, _ = walmart_order(store, [("CAB-HDMI-6FT", 2)])
    numbers = [_order(app, i) for i in (first, second)]
    out = tmp_path / "slips.html"
    result = runner.invoke(args=["orders", "slips", po, numbers[1].number, "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote packing slips of 2 order(s)" in result.output
    page = out.read_text()
    assert len(_slip_parts(page)) == 2 and "<style>" in page and "break-before: page" in page
    assert all(o.customer_order_id in page for o in numbers) and "<script" not in page
    assert 'class="print-toolbar"' not in page
    with app.app_context():
        record = db.session.scalar(select(PrintRecord))
        assert (record.actor, record.user_id, record.order_count) == ("cli", None, 2)
    result = runner.invoke(args=["orders", "slips", "NO-SUCH", "--output", str(out)])
    assert result.exit_code != 0 and "No order NO-SUCH" in result.output
    result = runner.invoke(args=["orders", "slips", po, "--pick-list", "-o", str(out)])
    assert result.exit_code == 0 and "pick list" in result.output
    assert "Pick list" in out.read_text()
    with app.app_context():
        assert db.session.query(PrintRecord).count() == 2


def test_cli_sets_the_slip_settings(app, runner, store):
    """`flask stores set NAME --slip-name … --slip-prices` changes what slips show."""
    from webapp.extensions import db
    from webapp.models import Store

    with app.app_context():
        name = db.session.get(Store, store[0]).name
    result = runner.invoke(args=["stores", "set", name, "--slip-name", "Maple Goods",
                                 "--slip-prices"])
    assert result.exit_code == 0 and "Maple Goods, with prices" in result.output
    result = runner.invoke(args=["stores", "set", name, "--slip-name", "", "--no-slip-prices"])
    assert result.exit_code == 0 and "no name, without prices" in result.output
    with app.app_context():
        saved = db.session.get(Store, store[0])
        assert (saved.slip_name, saved.slip_prices) == (None, False)
