"""The people of bench.load: one signed-in `requests.Session` each, clicking what the pages offer.

Every URL after the first comes from the pages themselves, as a browser with htmx would take it:
status cards and the next page from the `hx-get` of the last list shown, the polls from the
`hx-get` of `#orders-results` and `#order-live`, order pages from the rows' links, the Ship form
with its own fields and CSRF token. Each request is timed from this process (the client) and
kept as a Sample; a poll's kind says what it answered (unchanged, changed, settled).
"""

from __future__ import annotations

import itertools
import queue
import random
import re
import time
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

PASSWORD = "correct horse battery"
HX = {"HX-Request": "true"}
TIMEOUT = 60
# Walmart accepts 1Z + 16 characters for UPS: unique per shipment over the whole run.
_tracking = itertools.count(1)

SEARCHES = ("PO", "SKU prefix", "name fragment")
POLL_KINDS = ("poll: Orders page, unchanged (204)", "poll: Orders list, changed (200)",
              "poll: Orders search, changed (200)", "poll: order page, in flight (204)",
              "poll: order page, settled (286)")


@dataclass
class Sample:
    kind: str
    status: int  # 0: no answer (connection error, timeout)
    seconds: float
    started: float  # time.monotonic()
    error: str | None = None


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _hx_get(html: str, element_id: str) -> str | None:
    found = re.search(rf'id="{element_id}"[^>]*?hx-get="([^"]+)"', html)
    return unescape(found.group(1)) if found else None


class ListState:
    """What the last Orders list shown offers: its status cards, next page and rows."""

    def __init__(self, html: str) -> None:
        self.cards = [unescape(u) for u in re.findall(r'<a id="card-[a-z-]+"[^>]*?hx-get="([^"]+)"',
                                                       html)]
        self.next = _hx_get(html, "page-next")
        self.rows = [int(n) for n in re.findall(r'<tr id="order-(\d+)"', html)]


class FormFields(HTMLParser):
    """The fields a browser would submit from the first <form> of a fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, str]] = []
        self.action: str | None = None
        self._select: str | None = None
        self._selected: str | None = None
        self._first: str | None = None
        self._done = False

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if self._done:
            return
        if tag == "form" and self.action is None:
            self.action = a.get("hx-post") or a.get("action")
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value") or ("y" if kind == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self._select, self._selected, self._first = a["name"], None, None
        elif tag == "option" and self._select:
            value = a.get("value") or ""
            if self._first is None:
                self._first = value
            if "selected" in a:
                self._selected = value

    def handle_endtag(self, tag) -> None:
        if tag == "select" and self._select:
            self.fields.append((self._select, self._selected if self._selected is not None
                                else self._first or ""))
            self._select = None
        elif tag == "form":
            self._done = True


def ship_form(html: str) -> FormFields:
    start = html.find('<section id="ship-form"')
    parser = FormFields()
    parser.feed(html[start:] if start >= 0 else "")
    return parser


class Person:
    """One person at the dashboard: their session, what their pages show, their samples."""

    def __init__(self, base_url: str, email: str, rng: random.Random, searches: dict,
                 order_ids: tuple[int, int], to_ship: queue.Queue) -> None:
        self.base, self.email, self.rng = base_url, email, rng
        self.searches, self.order_ids, self.to_ship = searches, order_ids, to_ship
        self.http = requests.Session()
        self.samples: list[Sample] = []
        self.csrf: str | None = None
        self.results_poll: str | None = None  # #orders-results of the list on screen
        self.list: ListState | None = None  # the last list that was not a search
        self.order_poll: str | None = None  # #order-live of an order in flight
        self.shipped: list[tuple[int, str]] = []  # (order id, tracking number)
        self.no_order_left = 0
        self.resent = 0  # GETs sent again after the server closed an idle connection

    # -- plumbing ---------------------------------------------------------------------------
    def _request(self, kind: str, method: str, path: str, *, htmx: bool = False,
                 data=None, poll: bool = False) -> requests.Response | None:
        headers = dict(HX) if htmx else {}
        if method == "POST" and self.csrf:
            headers["X-CSRFToken"] = self.csrf  # htmx sends <body hx-headers> with every request
        started = time.monotonic()
        t0 = time.perf_counter()
        for attempt in (1, 2):
            try:
                response = self.http.request(method, self.base + path, headers=headers,
                                             data=data, allow_redirects=False, timeout=TIMEOUT)
                break
            except requests.RequestException as exc:
                # gunicorn closes a keep-alive connection idle for 2 s, and people pause 1–3 s:
                # a GET sent just as it closes is sent again on a new connection, as browsers
                # do (counted). A POST always follows another request at once: never resent.
                if attempt == 1 and method == "GET" and "Connection aborted" in str(exc):
                    self.resent += 1
                    continue
                self.samples.append(Sample(kind, 0, time.perf_counter() - t0, started,
                                           f"{type(exc).__name__}: {exc}"[:200]))
                return None
        elapsed = time.perf_counter() - t0
        status = response.status_code
        if poll:
            kind = self._poll_kind(kind, path, status)
        error = None
        if status >= 400 or status < 200 or (status == 204 and not poll):
            error = f"{status} {_text(response.text)[:200]}"
        elif 300 <= status < 400 and "/login" in response.headers.get("Location", ""):
            error = f"{status} to sign-in: the session was lost"
        self.samples.append(Sample(kind, status, elapsed, started, error))
        return None if error else response

    @staticmethod
    def _poll_kind(kind: str, path: str, status: int) -> str:
        if kind == "orders":
            if status == 204:
                return POLL_KINDS[0]
            return POLL_KINDS[2] if "q=" in path else POLL_KINDS[1]
        return POLL_KINDS[3] if status == 204 else POLL_KINDS[4]

    def _shown_list(self, html: str, search: bool) -> None:
        self.order_poll = None  # the list is on screen now, not an order
        self.results_poll = _hx_get(html, "orders-results") or self.results_poll
        if not search:
            self.list = ListState(html)

    def sign_in(self) -> None:
        page = self.http.get(self.base + "/login", timeout=TIMEOUT).text
        token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page).group(1)
        response = self.http.post(self.base + "/login", allow_redirects=False, timeout=TIMEOUT,
                                  data={"csrf_token": token, "email": self.email,
                                        "password": PASSWORD})
        if response.status_code != 302:
            raise RuntimeError(f"{self.email} could not sign in ({response.status_code})")
        html = self.http.get(self.base + "/orders/", timeout=TIMEOUT).text
        self._remember_csrf(html)
        self._shown_list(html, search=False)

    def _remember_csrf(self, html: str) -> None:
        found = re.search(r'"X-CSRFToken": "([^"]+)"', html)
        if found:
            self.csrf = found.group(1)

    # -- what a person does ------------------------------------------------------------------
    def first_page(self) -> None:
        if response := self._request("Orders: first page", "GET", "/orders/"):
            self._remember_csrf(response.text)
            self._shown_list(response.text, search=False)

    def status_card(self) -> None:
        if not self.list or not self.list.cards:
            return self.first_page()
        url = self.rng.choice(self.list.cards)
        if response := self._request("Orders: status card", "GET", url, htmx=True):
            self._shown_list(response.text, search=False)

    def next_page(self) -> None:
        if not self.list or not self.list.next:
            return self.first_page()
        if response := self._request("Orders: next page", "GET", self.list.next, htmx=True):
            self._shown_list(response.text, search=False)

    def search(self, meaning: str | None = None) -> None:
        meaning = meaning or self.rng.choice(SEARCHES)
        value = self.rng.choice(self.searches[meaning])
        # The filter form's fields, as htmx sends them when the search box changes.
        query = urlencode({"q": value, "store": "", "from": "", "to": "", "needs": "",
                           "sort": "ordered"})
        if response := self._request(f"Orders: search by {meaning}", "GET",
                                     f"/orders/?{query}", htmx=True):
            self._shown_list(response.text, search=True)

    def orders_page(self) -> None:
        """Half the requests: a fifth searches, the rest first pages, status cards, next pages."""
        if self.rng.random() < 0.2:
            return self.search()
        self.rng.choice((self.first_page, self.status_card, self.next_page))()

    def order_page(self, order_id: int | None = None, kind: str = "order page") -> str | None:
        if order_id is None:
            rows = self.list.rows if self.list else []
            order_id = self.rng.choice(rows) if rows and self.rng.random() < 0.7 else \
                self.rng.randint(*self.order_ids)  # a row of the list, or one looked up
        response = self._request(kind, "GET", f"/orders/{order_id}")
        if response is None:
            return None
        self._remember_csrf(response.text)
        self.order_poll = _hx_get(response.text, "order-live")
        return response.text

    def poll(self) -> None:
        """What the screen polls: the order page's live block while the order on screen is in
        flight (after this person shipped it, mostly), else the Orders page's results."""
        if self.order_poll:
            return self.poll_order()
        self.poll_orders()

    def poll_orders(self, changed: bool = False) -> None:
        url = self.results_poll
        if changed:  # as if an order had changed since the list was shown (unloaded only)
            parts = urlsplit(url)
            args = [(k, "stale" if k == "v" else v) for k, v in parse_qsl(parts.query)]
            url = urlunsplit(parts._replace(query=urlencode(args)))
        response = self._request("orders", "GET", url, htmx=True, poll=True)
        if response is not None and response.status_code == 200:
            self.results_poll = _hx_get(response.text, "orders-results") or self.results_poll

    def poll_order(self) -> int:
        response = self._request("order", "GET", self.order_poll, htmx=True, poll=True)
        if response is None or response.status_code == 286:
            self.order_poll = None  # htmx stops polling on 286
        elif response.status_code == 200:
            self.order_poll = _hx_get(response.text, "order-live")
        return response.status_code if response is not None else 0

    def ship(self) -> bool:
        """Open an order of the simulator store that nobody shipped, press Add tracking number,
        fill the carrier and a new tracking number, press Ship."""
        try:
            order_id = self.to_ship.get_nowait()
        except queue.Empty:
            self.no_order_left += 1
            return False
        html = self.order_page(order_id, kind="ship: the order page")
        if html is None:
            return False
        form = ship_form(html)
        if not form.action:  # a viewer's order page has no Ship form
            self.samples.append(Sample("ship: Add tracking number", 0, 0.0, time.monotonic(),
                                       "no Ship form on the order page"))
            return False
        response = self._request("ship: Add tracking number", "POST", form.action, htmx=True,
                                 data=form.fields + [("add_package", "1")])
        if response is None:
            return False
        form = ship_form(response.text)
        tracking = f"1Z999AA1{next(_tracking):010d}"
        fields = [(k, v) for k, v in form.fields
                  if k not in ("packages-0-carrier", "packages-0-tracking_number")]
        fields += [("packages-0-carrier", "UPS"), ("packages-0-tracking_number", tracking)]
        response = self._request("ship: Ship", "POST", form.action, htmx=True, data=fields)
        if response is None:
            return False
        self.shipped.append((order_id, tracking))
        self.order_poll = _hx_get(response.text, "order-live")
        return True

    def act(self) -> None:
        """One request of the mix: 50% Orders pages, 25% order pages, 20% polls, 5% shipments."""
        r = self.rng.random()
        if r < 0.50:
            self.orders_page()
        elif r < 0.75:
            self.order_page()
        elif r < 0.95:
            self.poll()
        else:
            self.ship()

    def run(self, until: float) -> None:
        """Pause 1–3 s, act; until the time is up."""
        while True:
            time.sleep(self.rng.uniform(1.0, 3.0))
            if time.monotonic() >= until:
                return
            self.act()
