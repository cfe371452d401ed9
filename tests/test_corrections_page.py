"""Correct and send again on the order and Sync pages: who sees it, the form pre-filled with
what Walmart refused (full page and fragment), 422 and nothing changed on bad input, a correction
that reaches Walmart, and the same form posted twice at once."""

from __future__ import annotations

import threading
from html.parser import HTMLParser

import requests
from sqlalchemy import func, select

from tests.conftest import http_session
from tests.test_corrections import BAD_NUMBER, GOOD_NUMBER, _pick, _ship, _task
from tests.test_security import changed, snapshot


class _Form(HTMLParser):
    """The fields of the form posting to `action`, as a browser would send them."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.select = action, False, None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("action") == self.action
        elif self.inside and tag == "input" and a.get("name"):
            if a.get("type") != "checkbox" or "checked" in a:
                self.fields[a["name"]] = a.get("value") or ""
        elif self.inside and tag == "select":
            self.select = a.get("name")
            self.fields.setdefault(self.select, "")
        elif self.inside and tag == "option" and self.select and "selected" in a:
            self.fields[self.select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


def fields(html: str, action: str) -> dict[str, str]:
    parser = _Form(action)
    parser.feed(html)
    assert parser.fields, f"no form posting to {action}"
    return parser.fields


def _refused_shipment(app, worker) -> tuple[int, int]:
    order_id, _po, _sku = _pick(app, qty=2)
    task_id = _ship(app, order_id, BAD_NUMBER, {"1": 2})
    worker()
    assert _task(app, task_id).state == "error"
    return order_id, task_id


def _tasks(app) -> int:
    from webapp.extensions import db
    from webapp.models import SyncTask

    with app.app_context():
        return db.session.scalar(select(func.count(SyncTask.id)))


def test_operators_are_offered_the_correction_viewers_are_not(app, client, auth, make_user,
                                                              shop, worker):
    """The refused shipment's Error (Shipments, Sync history) and the Sync page link to
    Correct and send again for an operator; a viewer sees no link and gets 403 on the form."""
    order_id, task_id = _refused_shipment(app, worker)
    link = f"/sync/tasks/{task_id}/correct"
    auth.login(make_user(role="operator").email)
    assert client.get(f"/orders/{order_id}").text.count(link) == 2
    assert link in client.get("/sync/?state=error").text
    auth.logout()
    auth.login(make_user(role="viewer").email)
    assert link not in client.get(f"/orders/{order_id}").text
    assert link not in client.get("/sync/").text
    assert client.get(link).status_code == 403


def test_the_form_holds_what_walmart_refused(app, client, signed_in, shop, worker):
    """The form (full page, and the fragment htmx gets) is pre-filled: carrier, the refused
    tracking number, the quantities, no tracking URL (UPS's follows the number), and
    Walmart's message."""
    order_id, task_id = _refused_shipment(app, worker)
    signed_in("operator")
    url = f"/sync/tasks/{task_id}/correct"
    page = client.get(url)
    assert page.status_code == 200 and "<html" in page.text
    assert "Correct the refused shipment" in page.text and "letters and digits" in page.text
    form = fields(page.text, url)
    assert (form["packages-0-carrier"], form["packages-0-tracking_number"],
            form["packages-0-tracking_url"], form["packages-0-lines-0-quantity"]) == (
        "UPS", BAD_NUMBER, "", "2")
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "HX-Request" in fragment.headers.get("Vary", "")
    assert fields(fragment.text, url)["packages-0-tracking_number"] == BAD_NUMBER


BAD_FORMS = [
    ({"packages-0-lines-0-quantity": "abc"}, "Quantities are whole numbers"),
    ({"packages-0-lines-0-quantity": "3"}, "only 2 unit(s) left to ship, not 3"),
    ({"packages-0-lines-0-quantity": "0"}, "Put at least one unit in the package"),
    ({"packages-0-tracking_number": ""}, "Enter the tracking number"),
    ({"packages-0-carrier": "Pigeon"}, "is not one of Walmart&#39;s carriers"),
    ({}, "exactly what Walmart refused"),
]


def test_bad_corrections_answer_422_and_change_nothing(app, client, signed_in, shop, worker):
    """Odd numbers, too many units, none, no tracking number, an unknown carrier, or the
    refused content sent as it is: 422 with the reason in the form, and nothing changes."""
    _order_id, task_id = _refused_shipment(app, worker)
    signed_in("operator")
    url = f"/sync/tasks/{task_id}/correct"
    form = {**fields(client.get(url).text, url), "confirm_warnings": "y"}
    before = snapshot(app)
    for change, message in BAD_FORMS:
        for htmx in (False, True):
            response = client.post(url, data={**form, **change},
                                   headers={"HX-Request": "true"} if htmx else {})
            assert (response.status_code, message in response.text) == (422, True), change
    assert changed(before, snapshot(app)) == []


def test_a_corrected_shipment_reaches_walmart_and_the_refusal_stays_in_the_history(
        app, client, signed_in, shop, worker):
    """Corrected in the form: 303 to the order, the new update syncs; the sync history keeps
    the refused one as Corrected, with Walmart's message and what it refused."""
    order_id, task_id = _refused_shipment(app, worker)
    signed_in("operator")
    url = f"/sync/tasks/{task_id}/correct"
    form = {**fields(client.get(url).text, url), "packages-0-tracking_number": GOOD_NUMBER}
    response = client.post(url, data=form)
    assert response.status_code == 303 and response.headers["Location"].endswith(
        f"/orders/{order_id}")
    worker()
    page = client.get(f"/orders/{order_id}").text
    history = page[page.index(f'id="history-{task_id}"'):]
    history = history[:history.index("</tr>")]
    assert "Corrected" in history and "letters and digits" in history
    assert BAD_NUMBER in history  # what Walmart refused
    assert "Synced" in page and GOOD_NUMBER in page
    # the new update itself carried the corrected number and synced (the page's "Synced" may
    # be another update's: the acknowledgement)
    new = _task(app, _task(app, task_id).replaced_by_id)
    assert (new.state, GOOD_NUMBER in str(new.payload)) == ("synced", True)
    assert BAD_NUMBER not in str(new.payload)
    assert client.get(url).status_code == 200  # the link still answers, saying why not
    assert "corrected already" in client.get(url).text


def test_a_refused_cancellation_is_corrected_from_its_form(app, client, signed_in, shop,
                                                           worker):
    """The refused cancellation's form holds its reason and quantities; an empty reason or
    more units than it may cancel answer 422 and change nothing; a fewer-units correction
    goes to Walmart."""
    from simulator import control
    from webapp.services.stock.cancelling import cancel_order

    _store_id, seller = shop
    order_id, po, _sku = _pick(app, qty=2)
    control.seller_center_ship(seller.sim.conn, seller.seller_id, po, "1ZSELLERCENTER0001",
                               lines={"1": 1})
    with app.app_context():
        task_id = cancel_order(order_id, "SELLER_CANCEL_OUT_OF_STOCK", by=None,
                               actor="test").task_id
    worker()
    signed_in("operator")
    url = f"/sync/tasks/{task_id}/correct"
    page = client.get(url).text
    assert "Correct the refused cancellation" in page
    form = fields(page, url)
    assert (form["reason"], form["lines-0-quantity"]) == ("SELLER_CANCEL_OUT_OF_STOCK", "2")
    before = snapshot(app)
    for change, message in (({"reason": ""}, "Choose a cancellation reason"),
                            ({"lines-0-quantity": "3"}, "only 2 unit(s) can be canceled"),
                            ({"lines-0-quantity": "-1"}, "Quantities are whole numbers")):
        response = client.post(url, data={**form, **change})
        assert (response.status_code, message in response.text) == (422, True), change
    assert changed(before, snapshot(app)) == []
    assert client.post(url, data={**form, "lines-0-quantity": "1"}).status_code == 303
    worker()
    assert _task(app, task_id).state == "corrected"
    assert _task(app, _task(app, task_id).replaced_by_id).state == "synced"


def test_the_same_correction_posted_twice_at_once_is_sent_once(app, make_user, shop, worker,
                                                               live_server):
    """The correction form posted twice at the same instant over HTTP: one 303, one 422 saying
    the update was acted on; exactly one new update."""
    _order_id, task_id = _refused_shipment(app, worker)
    session = http_session(live_server, make_user(role="operator").email)
    url = f"/sync/tasks/{task_id}/correct"
    form = {**fields(session.get(live_server + url).text, url),
            "packages-0-tracking_number": GOOD_NUMBER}
    other = requests.Session()
    other.cookies.update(session.cookies)
    tasks = _tasks(app)
    barrier, results = threading.Barrier(2), []

    def post(s):
        barrier.wait()
        results.append(s.post(live_server + url, data=form, allow_redirects=False))

    threads = [threading.Thread(target=post, args=(s,)) for s in (session, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r.status_code for r in results) == [303, 422]
    refused = next(r for r in results if r.status_code == 422).text
    # Racy by nature: the loser either loads the task after the winner's commit ("corrected
    # already") or loses the conditional UPDATE to it ("Someone else acted"); both refuse.
    assert "Someone else acted on this update" in refused or "corrected already" in refused
    assert _tasks(app) == tasks + 1
