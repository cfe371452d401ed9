"""Hostile numbers ("²", "٣", 25 and 5,000 digits, "-1", "1e9" …) in every parameter of every
route — path, query, form field, form field index, numbers inside a value or an uploaded CSV —
and in the CLI commands that read numbers: never a server error.

The routes come from app.url_map and the parameters from what the views really read (recorded
while the requests run), so a new route or parameter is covered without editing this file; a
new changing route needs its request in tests/test_security.py's ACTIONS anyway.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote, urlencode

import pytest
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing.converters import NumberConverter

from tests.test_security import (
    ACTIONS,
    ADMIN,
    MACHINE_ENDPOINTS,
    PUBLIC_ENDPOINTS,
    Call,
    World,
    walmart_event,
)

HOSTILE = ["²", "٣", "-1", "1e9", "9" * 25, "9" * 5000, " 1", "0x10", "", "NaN"]
DIGITS = re.compile(r"[0-9]+")
INDEX = re.compile(r"(?<=-)[0-9]+(?=-)")  # a FieldList index in a field name: packages-0-…
# Values with numbers inside, where the ACTIONS request leaves the field empty.
EXAMPLES = {"rate_limits": "acknowledge=120, shipping=90"}
MARKER = 7654321  # a URL parameter's stand-in, swapped for each hostile value


class Reads(ImmutableMultiDict):
    """request.args / request.form that note every name a view reads."""

    def __init__(self, data, seen: set[str]):
        super().__init__(data)
        self.seen = seen

    def __getitem__(self, key):
        self.seen.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.seen.add(key)
        return super().__contains__(key)

    def get(self, key, default=None, type=None):
        self.seen.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        self.seen.add(key)
        return super().getlist(key, type)


@pytest.fixture
def world(app, returned, make_user, live_server):
    store_id, seller, order_id, _rma = returned
    app.config["PUBLIC_URL"] = live_server  # (Walmart's test notification must reach it)
    return World(app, make_user, store_id, order_id, seller.sim.url)


@pytest.fixture
def reads(app):
    """{(endpoint, "args" | "form"): names read}, recorded on every request from now on."""
    from flask import request

    seen: dict[tuple[str, str], set[str]] = {}

    def record():
        for part in ("args", "form"):
            values = getattr(request, part)
            setattr(request, part, Reads(values.items(multi=True),
                                         seen.setdefault((request.endpoint, part), set())))

    # Straight into the hook list: the app may already have served a request (no setupmethod).
    app.before_request_funcs.setdefault(None, []).append(record)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is a 500 to report, not an exception
    return seen


def _send(world: World, role, call: Call, problems: list[str], what: str, htmx=False) -> None:
    """Send; a 5xx or a response that dies while streaming is a problem."""
    try:
        status = world.send(role, call, htmx=htmx).status_code
    except Exception as exc:  # noqa: BLE001 — a streamed body that raised mid-way
        problems.append(f"{what}: died mid-response ({type(exc).__name__}: {exc!s:.80})")
        return
    if status >= 500:
        problems.append(f"{what}: {status}")


def _label(value: str) -> str:
    return repr(value) if len(value) < 10 else f"<{len(value)} digits>"


def _variants(value: str) -> list[tuple[str, str]]:
    """(label, value): the whole value hostile, then each number inside it hostile."""
    out = [(_label(h), h) for h in HOSTILE]
    if value != "1":
        for match in DIGITS.finditer(value):
            out += [(f"{match.group()[:12]}→{_label(h)}",
                     value[:match.start()] + h + value[match.end():]) for h in HOSTILE]
    return out


def _numeric_args(rule) -> list[str]:
    return [name for name, conv in rule._converters.items() if isinstance(conv, NumberConverter)]


def _path_variants(world: World, rule) -> list[tuple[str, str]]:
    out = []
    for name in _numeric_args(rule):
        url = rule.build({**world.url_args(rule), name: MARKER}, append_unknown=False)[1]
        out += [(f"<{name}>={_label(h)}", url.replace(str(MARKER), quote(h))) for h in HOSTILE]
    return out


def _fuzz_get(world: World, rule, role, reads, problems: list[str]) -> None:
    url = rule.build(world.url_args(rule), append_unknown=False)[1]
    names: set[str] = set()
    for _ in range(4):  # some parameters are read only when others are given (poll → watch)
        world.send(role, Call("GET", f"{url}?{urlencode(dict.fromkeys(names, '1'))}"),
                   token=None, htmx=True)
        found = reads.get((rule.endpoint, "args"), set()) - {"csrf_token"}
        if found <= names:
            break
        names |= found
    for name in sorted(names):
        for label, value in _variants("1"):
            query = urlencode({**dict.fromkeys(names, "1"), name: value})
            _send(world, role, Call("GET", f"{url}?{query}"), problems,
                  f"GET {rule.rule} ?{name}={label}", htmx=True)
    for label, path in _path_variants(world, rule):
        _send(world, role, Call("GET", path), problems, f"GET {rule.rule} {label}")


def _fuzz_post(world: World, rule, role, reads, problems: list[str]) -> None:
    base = ACTIONS[rule.endpoint](world)
    for name, example in EXAMPLES.items():
        if name in base.data and not base.data[name]:
            base.data[name] = example
    world.send(role, base)  # once as sent by the page: learns what else the view reads
    read = reads.get((rule.endpoint, "form"), set()) - {"csrf_token"}
    fields = {name: str(base.data.get(name, "1")) for name in read | base.data.keys()}
    for name, original in sorted(fields.items()):
        if isinstance(base.data.get(name), list):
            continue  # a list of values: fuzzed below, one item at a time
        for label, value in _variants(original):
            call = Call("POST", base.path, {**base.data, name: value}, base.files,
                        base.ends_session)
            _send(world, role, call, problems, f"POST {rule.rule} {name}={label}")
        for match in INDEX.finditer(name):
            for h in HOSTILE:
                renamed = name[:match.start()] + h + name[match.end():]
                data = {renamed if k == name else k: v for k, v in base.data.items()}
                _send(world, role, Call("POST", base.path, data, base.files), problems,
                      f"POST {rule.rule} field {name} index {_label(h)}")
    for name, values in base.data.items():
        if isinstance(values, list):
            for h in HOSTILE:
                call = Call("POST", base.path, {**base.data, name: [*values, h]}, base.files)
                _send(world, role, call, problems, f"POST {rule.rule} {name}+={_label(h)}")
    for name, (content, filename) in base.files.items():
        for label, value in _variants(content.decode())[len(HOSTILE):]:
            call = Call("POST", base.path, base.data, {name: (value.encode(), filename)})
            _send(world, role, call, problems, f"POST {rule.rule} file {name} {label}")
    for label, path in _path_variants(world, rule):
        _send(world, role, Call("POST", path, base.data, base.files, body=base.body,
                                headers=base.headers), problems, f"POST {rule.rule} {label}")


def _json_variants() -> list[tuple[str, object]]:
    """Each hostile number as a JSON string, as a JSON number where it reads as one, and
    values of the wrong JSON type."""
    out: list[tuple[str, object]] = [(_label(h), h) for h in HOSTILE]
    for h in ("-1", "1e9", "9" * 25, "9" * 5000, "NaN"):
        try:
            out.append((f"number {_label(h)}", json.loads(h)))
        except ValueError:  # (NaN is no JSON number)
            out.append((f"float {_label(h)}", float(h)))
    return out + [("null", None), ("true", True), ("[]", []), ("{}", {}), ("[1]", [1])]


def _fuzz_json(world: World, rule, problems: list[str]) -> None:
    """A machine's route (Walmart's notifications): every field of its JSON body — ids,
    types, times, the purchase order, the blocks themselves — hostile, with its password and
    signed out: never a 5xx."""
    base = walmart_event(world)
    body = json.loads(base.body)
    paths = [("source", "eventId"), ("source", "eventType"), ("source", "eventTime"),
             ("payload", "subEventType"), ("payload", "order", "purchaseOrderId"),
             ("payload", "purchaseOrderId"), ("payload", "order"), ("source",), ("payload",)]
    for path in paths:
        for label, value in _json_variants():
            doc = json.loads(json.dumps(body))
            holder = doc
            for key in path[:-1]:
                holder = holder[key]
            holder[path[-1]] = value
            call = Call("POST", base.path, body=json.dumps(doc, allow_nan=True).encode(),
                        headers=base.headers)
            _send(world, None, call, problems, f"POST {rule.rule} {'.'.join(path)}={label}")


def _still_admin(world: World, problems: list[str], after: str) -> None:
    """The admin client still signed in as an admin: else every later request would only
    redirect to sign-in and prove nothing (e.g. "٣" read as user 3, the admin, deactivated)."""
    status = world.send(ADMIN, Call("GET", world.url("users.index")), token=None).status_code
    if status != 200:
        problems.append(f"after {after}: the admin's page answers {status}")
        world._clients.pop(ADMIN, None)  # sign in afresh for the next routes


def test_no_route_answers_5xx_to_hostile_numbers(app, world, reads):
    """Every route in app.url_map (as an admin; the public ones signed out too), with each
    hostile number in each path parameter, query parameter the view reads, form field, form
    field index, number inside a value and number inside an uploaded CSV: never a 5xx, and no
    streamed response (the CSV export) dies mid-way."""
    problems: list[str] = []
    covered = set()
    # Sign-in last: its failed attempts trip the login throttle, which would stop the clients
    # of the other routes from signing in again (after Sign out).
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "auth.login",
                                                                  r.rule)):
        if rule.endpoint == "static":
            continue
        roles = [ADMIN] + ([None] if rule.endpoint in PUBLIC_ENDPOINTS | MACHINE_ENDPOINTS
                           else [])
        for role in roles:
            if "GET" in rule.methods:
                _fuzz_get(world, rule, role, reads, problems)
            if "POST" in rule.methods and rule.endpoint in ACTIONS:
                _fuzz_post(world, rule, role, reads, problems)
        if rule.endpoint in MACHINE_ENDPOINTS:
            _fuzz_json(world, rule, problems)
        _still_admin(world, problems, rule.rule)
        covered.add(rule.endpoint)
    assert not problems, f"{len(problems)} server error(s):\n" + "\n".join(problems)
    assert {"orders.index", "orders.export", "sync.index", "audit.index", "stock.set_on_hand",
            "returns.refund", "shipping.ship", "stores.edit", "users.change_role",
            "walmart_events.receive"} <= covered


def test_cli_commands_refuse_hostile_numbers_with_a_message(app, returned):
    """Every CLI command that reads a number (orders list --limit, orders ship --line, returns
    refund --line, stock set), given a hostile one for a real order, return or store: exit code
    1 or 2 with a message, never a traceback, and nothing shipped, refunded or set."""
    from tests.test_security import snapshot
    from webapp.extensions import db
    from webapp.models import Order, Return, Store

    store_id, _seller, _order_id, rma = returned
    with app.app_context():
        store = db.session.get(Store, store_id).name
        order = db.session.scalar(db.select(Order.number).where(Order.status == "Open")
                                  .order_by(Order.id).limit(1))
        line = db.session.scalar(db.select(Return).where(Return.rma == rma)).lines[0].number
    runner, problems = app.test_cli_runner(), []
    before = snapshot(app)
    for h in (h for h in HOSTILE if h != " 1"):  # spaces around a number are forgiven
        for args in (["orders", "list", "--limit", h],
                     ["orders", "ship", order, "--line", f"1:{h}", "--tracking", "1Z999AA1012"],
                     ["returns", "refund", rma, "--line", f"{h}:1"],
                     ["returns", "refund", rma, "--line", f"{line}:{h}"],
                     ["stock", "set", "--store", store, "SKU-FUZZ", h]):
            result = runner.invoke(args=args)
            if result.exit_code not in (1, 2) or not isinstance(result.exception,
                                                                 (SystemExit, type(None))):
                problems.append(f"{' '.join(a[:20] for a in args)}: exit {result.exit_code} "
                                f"{result.exception!r:.100}")
    assert not problems, "\n".join(problems)
    assert snapshot(app) == before


@pytest.mark.parametrize("text, expected", [
    ("7", 7), (" 12 ", 12), ("0", 0), ("1000000", 1_000_000), ("1000001", None),
    ("²", None), ("٣", None), ("-1", None), ("+1", None), ("1e9", None), ("1_0", None),
    ("0x10", None), ("", None), ("NaN", None), ("9" * 25, None), ("9" * 5000, None), (None, None),
])
def test_the_parser_reads_ascii_digits_within_the_bound_only(text, expected):
    """whole() reads plain ASCII digits up to the maximum and nothing else — "٣" is not 3,
    "1_0" is not 10 — and never raises."""
    from webapp.numbers import MAX_QUANTITY, whole

    assert whole(text, MAX_QUANTITY) == expected


def test_an_id_another_script_spells_is_no_id(app, signed_in, auth, shop):
    """/orders/٣ (an order's id in Arabic-Indic digits) and /orders/<2**31> are 404s: the
    route converter takes ASCII digits within the id bound only (werkzeug's own read "٣" as
    order 3)."""
    from webapp.extensions import db
    from webapp.models import Order

    with app.app_context():
        order_id = db.session.scalar(db.select(db.func.min(Order.id)))
    assert order_id < 10
    signed_in("viewer")
    assert auth.client.get(f"/orders/{order_id}").status_code == 200
    for path in (f"/orders/{quote(chr(0x660 + order_id))}", f"/orders/{2**31}",
                 "/orders/" + "9" * 25):
        assert auth.client.get(path).status_code == 404, path
