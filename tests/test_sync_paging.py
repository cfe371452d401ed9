"""The Sync page at any size: keyset pages across the state groups (errors, then pending, then
settled), search by target or order number, and cards that count a settled state up to a cap."""

from __future__ import annotations

import html as htmllib
import re

from sqlalchemy import select, update

ROW = re.compile(r'<tr id="task-(\d+)"')
NEXT = re.compile(r'href="([^"]+)"[^>]*>Next →</a>')
PREVIOUS = re.compile(r'href="([^"]+)"[^>]*>← Previous</a>')
GROUP = {"error": 0, "pending": 1, "synced": 2, "resolved": 2, "corrected": 2}


def _store(app) -> int:
    from tests.factories import make_store

    with app.app_context():
        return make_store().id


def _add(app, store_id: int, specs) -> list[int]:
    """Tasks (kind, state, target) in this order, as rows: the list only reads them."""
    from webapp.extensions import db
    from webapp.models import Order, SyncTask

    with app.app_context():
        tasks = [SyncTask(store_id=store_id, kind=kind, target=target, state=state)
                 for kind, state, target in specs]
        corrected = [t for t in tasks if t.state == "corrected"]
        if corrected:  # a corrected shipment is an order's (the page links to it)
            order = Order(store_id=store_id, purchase_order_id=f"PO-C{store_id}")
            for task in corrected:
                task.order = order
        db.session.add_all(tasks)
        db.session.commit()
        return [t.id for t in tasks]


def _set_state(app, ids, state: str) -> None:
    from webapp.extensions import db
    from webapp.models import SyncTask

    with app.app_context():
        db.session.execute(update(SyncTask).where(SyncTask.id.in_(ids)).values(state=state))
        db.session.commit()


def _states(app) -> dict[int, str]:
    from webapp.extensions import db
    from webapp.models import SyncTask

    with app.app_context():
        return dict(db.session.execute(select(SyncTask.id, SyncTask.state)).all())


def _listed(html: str) -> list[int]:
    return [int(x) for x in ROW.findall(html)]


def _link(pattern, html: str) -> str | None:
    found = pattern.search(html)
    return htmllib.unescape(found.group(1)) if found else None


def _in_list_order(states: dict[int, str]) -> list[int]:
    """Errors, then pending, then settled; newest first within each."""
    return sorted(states, key=lambda i: (GROUP[states[i]], -i))


def _mixed(app, store_id: int, count: int = 150) -> list[int]:
    """`count` tasks whose states interleave by id: a fifth errors, a fifth pending, the rest
    synced, fixed in Seller Center or corrected."""
    cycle = ["error", "pending", "synced", "resolved", "synced", "error", "corrected",
             "pending", "synced", "synced"]
    return _add(app, store_id, [("ship", cycle[n % len(cycle)], f"PO-{n}") for n in range(count)])


def test_pages_run_through_errors_then_pending_then_settled_and_back(app, signed_in, client):
    """Next walks every task once in the list's order across the three groups (pages of 50
    that straddle them); Previous walks back through the same pages; the poll of a page asks
    for that page again."""
    _mixed(app, _store(app))
    signed_in("viewer")
    pages, url, html = [], "/sync/", ""
    while url:
        html = client.get(url).text
        pages.append(_listed(html))
        url = _link(NEXT, html)
        if len(pages) == 2:  # straddles pending and settled; pending tasks shown: it polls
            assert 'hx-get="/sync/?after=' in html and "poll=1" in html
    assert [len(p) for p in pages] == [50, 50, 50]
    assert sum(pages, []) == _in_list_order(_states(app))
    back = [pages[-1]]
    while (previous := _link(PREVIOUS, html)):
        html = client.get(previous).text
        back.insert(0, _listed(html))
    assert back == pages


def test_no_task_is_repeated_or_skipped_while_others_change_state(app, signed_in, client):
    """Between two pages, errors shown on the first are fixed, an unseen pending update fails
    and new updates arrive: every task that kept its state is still listed exactly once
    (with OFFSET pages, the fixed errors would shift unseen pending updates onto page 1)."""
    store_id = _store(app)
    _mixed(app, store_id)
    before = _states(app)
    signed_in("viewer")
    html = client.get("/sync/").text
    seen = _listed(html)
    url = _link(NEXT, html)
    pending_unseen = [i for i in _in_list_order(before)[50:] if before[i] == "pending"]
    _set_state(app, [i for i in seen if before[i] == "error"][:5], "synced")
    _set_state(app, pending_unseen[-1:], "error")
    _add(app, store_id, [("ship", "error", "PO-new-1"), ("ship", "pending", "PO-new-2"),
                         ("ship", "synced", "PO-new-3")])
    while url:
        html = client.get(url).text
        seen += _listed(html)
        url = _link(NEXT, html)
    after = _states(app)
    kept = [i for i in before if after[i] == before[i]]
    assert all(seen.count(i) == 1 for i in kept), [i for i in kept if seen.count(i) != 1]


def test_a_page_past_every_task_says_so_and_a_forged_cursor_is_the_first_page(
        app, signed_in, client):
    """A cursor beyond the last task gives an empty page that links back to the first; a
    cursor that is not one is ignored."""
    ids = _add(app, _store(app), [("ship", "synced", "PO-1"), ("ship", "error", "PO-2")])
    signed_in("viewer")
    html = client.get(f"/sync/?after=settled-{min(ids)}").text
    assert not _listed(html) and "No more updates past this point" in html
    assert 'href="/sync/">Back to the first page</a>' in html
    for forged in ("settled-x", "nothing-5", "error-99999999999", "<b>"):
        assert _listed(client.get("/sync/", query_string={"after": forged}).text) == \
            [ids[1], ids[0]]


def test_search_finds_by_target_with_the_kind_and_store_filters(app, signed_in, client):
    """A SKU or purchase order is sought by target in every state, listed in the list's
    order and counted on the cards; kind and store narrow it."""
    store_a, store_b = _store(app), _store(app)
    ids = _add(app, store_a, [("inventory", "synced", "SKU-1"), ("inventory", "error", "SKU-1"),
                              ("inventory", "synced", "SKU-2"), ("ship", "pending", "SKU-1"),
                              ("inventory", "resolved", "SKU-1")])
    other = _add(app, store_b, [("inventory", "pending", "SKU-1")])
    signed_in("viewer")
    html = client.get("/sync/?q=SKU-1").text
    assert _listed(html) == [ids[1], other[0], ids[3], ids[4], ids[0]]
    assert re.search(r'<span class="count">5</span><span class="label">All</span>', html)
    assert re.search(r'<span class="count">2</span><span class="label">Pending</span>', html)
    assert _listed(client.get("/sync/?q=SKU-1&kind=inventory").text) == \
        [ids[1], other[0], ids[4], ids[0]]
    assert _listed(client.get(f"/sync/?q=SKU-1&store={store_a}").text) == \
        [ids[1], ids[3], ids[4], ids[0]]
    assert _listed(client.get(f"/sync/?q=SKU-1&store={store_a}&kind=inventory&state=synced")
                   .text) == [ids[0]]
    assert _listed(client.get(f"/sync/?kind=inventory&store={store_b}").text) == other


def test_search_by_order_number_lists_the_orders_updates(app, signed_in, client, walmart_store):
    """Our order number finds the order's updates (their target is Walmart's purchase order);
    the order page's link to its failed update (state=error&q=number) lists just that."""
    from webapp.extensions import db
    from webapp.models import Order, SyncTask
    from webapp.services.orders.importer import import_store

    store_id, _seller = walmart_store(orders=2)
    with app.app_context():
        import_store(store_id)
        order = db.session.scalars(select(Order).order_by(Order.id)).first()
        number = order.number
        acks = db.session.scalars(select(SyncTask.id).where(SyncTask.order_id == order.id)).all()
        others = db.session.scalars(select(SyncTask.id).where(
            SyncTask.order_id != order.id)).all()
    assert acks and others
    ids = _add(app, store_id, [("ship", "synced", order.purchase_order_id)])
    with app.app_context():
        db.session.execute(update(SyncTask).where(SyncTask.id == ids[0])
                           .values(order_id=order.id))
        db.session.commit()
    _set_state(app, acks, "error")
    signed_in("viewer")
    assert _listed(client.get("/sync/", query_string={"q": number}).text) == \
        sorted(acks, reverse=True) + ids
    assert _listed(client.get("/sync/", query_string={"q": number, "state": "error"}).text) == \
        sorted(acks, reverse=True)


def test_cards_count_errors_and_pending_exactly_and_settled_up_to_a_cap(
        app, signed_in, client, monkeypatch):
    """Error and Pending are exact; a settled state counts up to COUNT_CAP and then says
    "N+" (a floor, never a wrong number), and so does All."""
    from webapp.services.sync import queries

    monkeypatch.setattr(queries, "COUNT_CAP", 5)
    store_id = _store(app)
    _add(app, store_id, [("ship", "error", "PO-1")] * 7 + [("ship", "pending", "PO-2")] * 6
         + [("ship", "synced", "PO-3")] * 9 + [("refund", "resolved", "RMA-1")] * 2)
    signed_in("viewer")
    html = client.get("/sync/").text

    def card(label: str) -> str:
        return re.search(r'<span class="count"[^>]*>([^<]+)</span><span class="label">'
                         + re.escape(label), html).group(1)

    assert [card(x) for x in ("All", "Error", "Pending", "Synced", "Fixed in Seller Center",
                              "Corrected")] == ["20+", "7", "6", "5+", "2", "0"]
    assert 'title="More than 5: counted up to there"' in html
    with app.app_context():
        counts = queries.state_counts(queries.TaskFilter(kind="refund"))
        assert (counts.get("resolved"), counts.shown(), counts.at_least()) == (2, "2", False)
        counts = queries.state_counts(queries.TaskFilter(store_id=store_id, q="PO-3"))
        assert (counts.get("synced"), counts.shown("synced")) == (5, "5+")
