"""The access policy, proven route by route from app.url_map: sign-in, roles, CSRF, secrets.

ROUTE_POLICY gives the least role for every route that changes something, READ_POLICY the pages
that need more than a viewer, ACTIONS a real request for each changing route. A route added
without them fails test_every_route_has_a_policy, which names what to add.
"""

from __future__ import annotations

import io
import itertools
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask import url_for
from sqlalchemy import select, update

from tests.conftest import Auth, csrf_from
from tests.factories import PASSWORD

PUBLIC, VIEWER, OPERATOR, ADMIN = None, "viewer", "operator", "admin"
ROLES = (VIEWER, OPERATOR, ADMIN)
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
PUBLIC_ENDPOINTS = {"auth.login", "static", "health"}  # as webapp/security.py declares them
# Called by a machine, not a person: no sign-in and no CSRF token, each authenticated by its
# own credentials instead (Walmart's BASIC_AUTH password for a store's notifications).
MACHINE_ENDPOINTS = {"walmart_events.receive"}

# Every endpoint that accepts POST, PUT, PATCH or DELETE → the least role that may use it
# (PUBLIC: anyone, signed in or not). Add new routes here AND a request for them in ACTIONS.
ROUTE_POLICY: dict[str, str | None] = {
    "auth.login": PUBLIC,
    "auth.logout": VIEWER,  # a viewer may post: ending their own session,
    "printing.create": VIEWER,  # and recording a print of packing slips or a pick list
    "cancelling.submit": OPERATOR,
    "corrections.submit": OPERATOR,
    "returns.import_now": OPERATOR,
    "returns.refund": OPERATOR,
    "returns.track": OPERATOR,
    "shipping.ship": OPERATOR,
    "shipping.upload": OPERATOR,
    "shipping.correct": OPERATOR,
    "stock.set_on_hand": OPERATOR,
    "stock.import_file": OPERATOR,
    "stores.import_now": OPERATOR,
    "stores.new": ADMIN,
    "stores.edit": ADMIN,
    "stores.check": ADMIN,
    "stores.read_only": ADMIN,
    "stores.read_write": ADMIN,
    "stores.instant_subscribe": ADMIN,
    "stores.instant_test": ADMIN,
    "stores.instant_pause": ADMIN,
    "stores.instant_resume": ADMIN,
    "stores.instant_unsubscribe": ADMIN,
    "users.create": ADMIN,
    "users.change_role": ADMIN,
    "users.set_active": ADMIN,
    "walmart_events.receive": PUBLIC,  # a MACHINE_ENDPOINT: Walmart's password, no session
    "sync.retry": OPERATOR,
    "sync.send_now": OPERATOR,
    "sync.retry_selected": OPERATOR,
    "sync.resolve": OPERATOR,
    "reconcile.run_now": OPERATOR,
    "reconcile.adopt": OPERATOR,
    "reconcile.send": OPERATOR,
}

# GET pages that need more than the viewer role. Every other page opens for every signed-in
# user; test_pages_open_to_exactly_the_roles_that_may_read_them checks both.
READ_POLICY: dict[str, str] = {
    "cancelling.form": OPERATOR,
    "corrections.form": OPERATOR,
    "shipping.upload": OPERATOR,
    "shipping.upload_result": OPERATOR,
    "stores.new": ADMIN,
    "stores.edit": ADMIN,
    "stores.read_write": ADMIN,
    "users.index": ADMIN,
    "audit.index": OPERATOR,
}


@dataclass
class Call:
    """One request, as the page's form (or htmx) sends it, minus the CSRF token."""
    method: str
    path: str
    data: dict = field(default_factory=dict)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # name → (bytes, filename)
    ends_session: bool = False
    # A machine's request: its own body and headers (JSON, credentials) instead of form data.
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


class World:
    """Real rows to aim requests at, and a signed-in client per role.

    Built on the `returned` fixture: a simulator store with 40 imported, acknowledged orders,
    one shipped (synced), delivered and returned. The helpers hand out fresh targets, so each
    request acts on rows that no earlier request touched.
    """

    def __init__(self, app, make_user, store_id: int, shipped_order_id: int, sim_url: str):
        from webapp.extensions import db
        from webapp.models import Return, Shipment, ShipmentPackage, Store, TrackingUpload

        self.app, self.make_user, self.sim_url = app, make_user, sim_url
        self.store_id, self._used = store_id, {shipped_order_id}
        self._numbers = itertools.count(1)
        self._clients: dict[str, tuple] = {}
        with app.app_context():
            store = db.session.get(Store, store_id)
            self.client_id, self.rate_limits = store.client_id, store.rate_limits
            self.package_id = db.session.scalar(select(ShipmentPackage.id).join(Shipment).where(
                Shipment.order_id == shipped_order_id))
            self.return_id = db.session.scalar(select(Return.id))
            shipment = db.session.scalars(select(Shipment).where(
                Shipment.order_id == shipped_order_id)).first()
            upload = TrackingUpload(created_by="op@example.com", outcomes=[{
                "order_id": shipped_order_id, "order": shipment.order.number,
                "shipment_id": shipment.id, "task_id": shipment.task_id, "result": "Shipped",
                "message": "1 package, 2 units"}])
            db.session.add(upload)
            db.session.commit()
            self.upload_id = upload.id
            from webapp.services.printing import documents, records
            self.record_id = records.record_print(documents.slips([shipped_order_id]),
                                                  by=None, actor="test").id
        self.order_id = self.open_order().id  # the order the GET pages show
        self.task_id = self.failed_task()
        self.user_id = self.new_user().id
        self.finding_id = self.difference()

    # -- fresh targets ------------------------------------------------------------------
    def number(self) -> int:
        return next(self._numbers)

    def url(self, endpoint: str, **values) -> str:
        with self.app.test_request_context():
            return url_for(endpoint, **values)

    def open_order(self):
        """An open order (no buyer cancel request) that no earlier call used; lines loaded."""
        from webapp.extensions import db
        from webapp.models import Order

        with self.app.app_context():
            for order in db.session.scalars(select(Order).where(
                    Order.status == "Open", Order.intent_to_cancel.is_(False))
                    .order_by(Order.id)).unique():
                if order.id not in self._used and all(x.open_qty for x in order.lines):
                    self._used.add(order.id)
                    db.session.expunge(order)
                    return order
        raise AssertionError("the shop ran out of open orders")

    def spare_store(self, read_only: bool = False) -> int:
        """A store of its own (sandbox, never called), so that switching it read-only or
        read-write leaves the shop's store as every other call needs it."""
        from tests.factories import make_store

        with self.app.app_context():
            return make_store(name=f"Spare {self.number()}", read_only=read_only).id

    def failed_task(self) -> int:
        """A fresh order's latest update (its acknowledgement), put in Error as if Walmart had
        refused it."""
        from webapp.extensions import db
        from webapp.models import Order, SyncTask
        from webapp.services.orders import status as order_status

        order = self.open_order()
        with self.app.app_context():
            task = db.session.scalars(select(SyncTask).where(SyncTask.order_id == order.id)
                                      .order_by(SyncTask.id.desc())).first()
            if task is None:  # the import linked none to it: one of its own
                task = SyncTask(store_id=order.store_id, order_id=order.id, kind="acknowledge",
                                target=order.purchase_order_id, attempts=1)
                db.session.add(task)
            task.state, task.last_error_message = "error", "Walmart refused it"
            order_status.refresh(db.session.get(Order, order.id))
            db.session.commit()
            return task.id

    def refused_shipment(self) -> int:
        """An order shipped (every unit, UPS), its shipment refused by Walmart as if for its
        tracking number: the sync task's id. Written as rows (the shop's store may have been
        made read-only by an earlier request, which the service would refuse); the last one
        while nobody corrected it (the hostile-values test sends many that change nothing)."""
        from webapp.extensions import db
        from webapp.models import Order, Shipment, ShipmentLine, ShipmentPackage, SyncTask
        from webapp.models.base import utcnow
        from webapp.services.orders import status as order_status
        from webapp.walmart import payloads

        with self.app.app_context():
            last = getattr(self, "_refused", None)
            if last and db.session.get(SyncTask, last).state == "error":
                return last
        order, number, now = self.open_order(), self.tracking_number(), utcnow()
        with self.app.app_context():
            order = db.session.get(Order, order.id)
            units = tuple((x.line_number, x.quantity) for x in order.lines)
            task = SyncTask(store_id=order.store_id, order_id=order.id, kind="ship",
                            target=order.purchase_order_id, state="error", attempts=1,
                            last_error_field="trackingNumber",
                            last_error_message="Invalid tracking number",
                            payload=payloads.shipment([payloads.Package(
                                number, "Standard", now, units, carrier="UPS")], order.number))
            db.session.add(Shipment(order_id=order.id, ship_time=now, created_by="test",
                                    task=task, packages=[ShipmentPackage(
                                        carrier="UPS", method_code="Standard",
                                        tracking_number=number, lines=[ShipmentLine(
                                            order_line_id=x.id, quantity=x.quantity)
                                            for x in order.lines])]))
            for line in order.lines:
                line.shipped_qty = line.quantity
            db.session.flush()
            order_status.refresh(order)
            db.session.commit()
            self._refused = task.id
            return task.id

    def waiting_task(self) -> int:
        """A stock update of its own, waiting out its retry delay after a Walmart 503."""
        from datetime import timedelta

        from webapp.extensions import db
        from webapp.models import SyncTask
        from webapp.models.base import utcnow

        with self.app.app_context():
            task = SyncTask(store_id=self.store_id, kind="inventory",
                            target=f"SEC-{self.number()}", attempts=1, last_error_code="HTTP_503",
                            last_error_message="Walmart answered 503",
                            next_attempt_at=utcnow() + timedelta(hours=1))
            db.session.add(task)
            db.session.commit()
            return task.id

    def unreconciled_store(self) -> int:
        """The shop's store with no reconciliation going (an earlier request's pass closed)."""
        from webapp.extensions import db
        from webapp.models import ReconcileRun
        from webapp.models.base import utcnow

        with self.app.app_context():
            db.session.execute(update(ReconcileRun).where(ReconcileRun.finished_at.is_(None))
                               .values(finished_at=utcnow(), phase="done"))
            db.session.commit()
        return self.store_id

    def difference(self) -> int:
        """An open difference of its own found by a reconciliation: a tracked SKU's stock
        that Walmart holds otherwise than we last pushed."""
        from webapp.extensions import db
        from webapp.models import SkuStock, WalmartDifference

        with self.app.app_context():
            sku = f"SEC-{self.number()}"
            db.session.add(SkuStock(store_id=self.store_id, sku=sku, ship_node="", on_hand=3,
                                    reserved=0, pushed_quantity=3))
            finding = WalmartDifference(
                store_id=self.store_id, source="reconcile", kind="stock", sku=sku,
                ship_node="", ours="3 units last sent", walmart="1 unit available",
                detail={"ours": 3, "walmart": 1, "available": 3})
            db.session.add(finding)
            db.session.commit()
            return finding.id

    def refundable_return(self) -> int:
        """The return, any earlier refund of it marked synced (as if Walmart had taken it)."""
        from webapp.extensions import db
        from webapp.models import Refund, SyncTask

        with self.app.app_context():
            db.session.execute(update(SyncTask).where(SyncTask.id.in_(
                select(Refund.task_id).where(Refund.return_id == self.return_id)))
                .values(state="synced"))
            db.session.commit()
        return self.return_id

    def untracked_return(self) -> int:
        """The return, the stock of its line's SKU untracked again (as orders leave a SKU)."""
        from webapp.extensions import db
        from webapp.models import ReturnLine, SkuStock

        with self.app.app_context():
            sku = db.session.scalar(select(ReturnLine.sku).where(
                ReturnLine.return_id == self.return_id))
            db.session.execute(update(SkuStock).where(
                SkuStock.store_id == self.store_id, SkuStock.sku == sku).values(on_hand=None))
            db.session.commit()
        return self.return_id

    def events_password(self) -> str:
        """The shop's store's notifications password as it is now (one made, as subscribing
        does, when it has none: an earlier request may have unsubscribed it)."""
        from webapp.extensions import db
        from webapp.models import Store
        from webapp.secrets_box import decrypt
        from webapp.services.stores.webhooks import new_password

        with self.app.app_context():
            store = db.session.get(Store, self.store_id)
            if store.events_password_encrypted:
                return decrypt(store.events_password_encrypted)
            password = new_password(store)
            db.session.commit()
            return password

    def subscribed(self, paused: bool = False) -> int:
        """The shop's store subscribed to Walmart's notifications (ACTIVE, or INACTIVE when
        `paused`), through the services, whatever earlier requests did to it (read-write
        again, written as a row: the service would refuse a read-only store)."""
        from webapp.extensions import db
        from webapp.models import Store
        from webapp.services.stores import webhooks

        with self.app.app_context():
            store = db.session.get(Store, self.store_id)
            store.read_only = False  # (an earlier request may have ticked Read-only: a row)
            db.session.commit()
            if store.events_status is None:
                webhooks.subscribe(store, by=None)
            if paused and store.events_status == webhooks.ACTIVE:
                webhooks.pause(store, by=None)
            elif not paused and store.events_status == webhooks.INACTIVE:
                webhooks.resume(store, by=None)
            db.session.remove()
        return self.store_id

    def event_order(self) -> str:
        """The purchase order notifications name: the order the GET pages show (reading it
        back changes nothing another request needs)."""
        from webapp.extensions import db
        from webapp.models import Order

        with self.app.app_context():
            return db.session.get(Order, self.order_id).purchase_order_id

    def new_user(self, role: str = VIEWER):
        return self.make_user(role=role)

    def ship_time(self) -> str:
        zone = ZoneInfo(self.app.config["TIMEZONE"])
        return datetime.now(zone).strftime("%Y-%m-%dT%H:%M")

    def tracking_number(self) -> str:
        return f"1Z999AA1{self.number():010d}"

    def url_args(self, rule) -> dict:
        """Real ids for a rule's URL parameters."""
        known = {"order_id": self.order_id, "return_id": self.return_id, "task_id": self.task_id,
                 "package_id": self.package_id, "store_id": self.store_id,
                 "user_id": self.user_id, "upload_id": self.upload_id,
                 "record_id": self.record_id, "finding_id": self.finding_id,
                 "filename": "css/app.css"}
        missing = set(rule.arguments) - known.keys()
        assert not missing, f"{rule.endpoint}: give URL parameter(s) {missing} a real row in " \
                            "World.url_args"
        return {name: known[name] for name in rule.arguments}

    # -- clients and requests -----------------------------------------------------------
    def client(self, role: str | None):
        """A client signed in with `role` (None: signed out) and its CSRF token."""
        if role is None:
            client = self.app.test_client()
            return client, csrf_from(client.get("/login").text)
        if role not in self._clients:
            auth = Auth(self.app.test_client())
            assert auth.login(self.new_user(role).email).status_code == 302
            self._clients[role] = (auth.client, auth.csrf("/stock/"))
        return self._clients[role]

    def send(self, role: str | None, call: Call, token: str | None = "form", htmx: bool = False):
        """Send `call` as `role`, the CSRF token in the form, in htmx's header, or not at all
        ("none"), or a token from another session ("foreign")."""
        client, own = self.client(role)
        data, headers = dict(call.data), {}
        if token == "form":
            data["csrf_token"] = own
        elif token == "header":
            headers["X-CSRFToken"] = own
        elif token == "foreign":  # the attacker's own valid token, from their own session
            data["csrf_token"] = self.client(None)[1]
        if htmx:
            headers["HX-Request"] = "true"
        for name, (content, filename) in call.files.items():
            data[name] = (io.BytesIO(content), filename)
        if call.body is not None:  # a machine's request: no form, no CSRF field
            data = call.body
            headers.update(call.headers)
        response = client.open(call.path, method=call.method, data=data, headers=headers)
        response.get_data()  # read streamed bodies (CSV, static files) to the end, and close
        response.close()
        if call.ends_session and response.status_code < 400:
            self._clients.pop(role, None)
        return response

    def attempt(self, role: str | None, call: Call, **options) -> tuple:
        """Send `call` as `role`: the response, and the tables (or queue) that changed."""
        self.client(role)  # signing in first: that change is not the request's
        before = self.snapshot()
        response = self.send(role, call, **options)
        return response, changed(before, self.snapshot())

    def snapshot(self) -> dict[str, list]:
        return snapshot(self.app)


# Derived figures a read may count and keep (Home counts the chart's changed days when it is
# shown: services/orders/day_figures.py): a cache of the orders, not something a person changed.
CACHES = {"day_figures", "day_figures_changes"}


def snapshot(app) -> dict[str, list]:
    """Every row of every table but the caches, and the jobs waiting in Redis."""
    from rq.registry import ScheduledJobRegistry

    from jobs.queue import get_queue
    from webapp.extensions import db

    with app.app_context():
        state = {table.name: [tuple(row) for row in db.session.execute(
            select(table).order_by(*table.primary_key.columns))]
            for table in db.metadata.sorted_tables if table.name not in CACHES}
        queue = get_queue()
        state["(redis queue)"] = sorted(queue.job_ids) + sorted(
            ScheduledJobRegistry(queue=queue).get_job_ids())
        db.session.remove()
    return state


def changed(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


# -- a request that changes something, for every route in ROUTE_POLICY ------------------
# Each builds a fresh target with World's helpers (open_order, failed_task, refundable_return,
# new_user, number …), so it goes through even after earlier calls of the same test.

def _login(w: World) -> Call:
    return Call("POST", w.url("auth.login"), {"email": w.new_user().email, "password": PASSWORD})


def _cancel(w: World) -> Call:
    return Call("POST", w.url("cancelling.submit", order_id=w.open_order().id),
                {"reason": "SELLER_CANCEL_OUT_OF_STOCK"})


def _ship(w: World) -> Call:
    order = w.open_order()
    data = {"packages-0-carrier": "UPS", "packages-0-other_carrier": "",
            "packages-0-tracking_url": "", "packages-0-tracking_number": w.tracking_number(),
            "packages-0-method_code": order.ship_method or "Standard",
            "ship_time": w.ship_time(), "form_token": secrets.token_urlsafe(16),
            "confirm_warnings": "y"}
    for i, line in enumerate(order.lines):
        data[f"packages-0-lines-{i}-line_number"] = line.line_number
        data[f"packages-0-lines-{i}-quantity"] = str(line.quantity)
    return Call("POST", w.url("shipping.ship", order_id=order.id), data)


def _correct(w: World) -> Call:
    """Correct and send again: the refused shipment with another tracking number."""
    from webapp.extensions import db
    from webapp.models import Shipment

    task_id = w.refused_shipment()
    with w.app.app_context():
        shipment = db.session.scalars(select(Shipment).where(Shipment.task_id == task_id)).one()
        package = shipment.packages[0]
        units = {x.order_line.line_number: x.quantity for x in package.lines}
        lines = [x.line_number for x in shipment.order.lines]
    data = {"packages-0-carrier": "UPS", "packages-0-other_carrier": "",
            "packages-0-tracking_url": "", "packages-0-tracking_number": w.tracking_number(),
            "packages-0-method_code": package.method_code, "ship_time": w.ship_time(),
            "confirm_warnings": "y"}
    for i, number in enumerate(lines):
        data[f"packages-0-lines-{i}-line_number"] = number
        data[f"packages-0-lines-{i}-quantity"] = str(units.get(number, 0))
    return Call("POST", w.url("corrections.submit", task_id=task_id), data)


def _upload(w: World) -> Call:
    order, number = w.open_order(), w.tracking_number()
    rows = "".join(f"{order.purchase_order_id},{x.line_number},{x.quantity},UPS,{number}\n"
                   for x in order.lines)
    return Call("POST", w.url("shipping.upload"),
                {"csv": "order,line,quantity,carrier,tracking number\n" + rows, "confirm": "1"})


def walmart_event(w: World, password: str | None = None, **order) -> Call:
    """A notification as Walmart sends it for one of the shop's orders (a fresh eventId),
    with the store's password (or `password`)."""
    import base64
    import json

    body = {"source": {"eventType": "ORDER_UPDATES", "eventId": secrets.token_hex(8),
                       "eventTime": "2026-12-08T10:00:00.000Z"},
            "payload": {"subEventType": "PO_CREATED", "order": {
                "purchaseOrderId": w.event_order(), **order}}}
    secret = w.events_password() if password is None else password
    return Call("POST", w.url("walmart_events.receive", store_id=w.store_id),
                body=json.dumps(body).encode(),
                headers={"Content-Type": "application/json", "Authorization": base64.b64encode(
                    f"orderdeck:{secret}".encode()).decode()})


def _store_edit(w: World) -> Call:
    from webapp.services.stores.editing import format_rate_limits

    return Call("POST", w.url("stores.edit", store_id=w.store_id), {
        "name": f"Renamed {w.number()}", "environment": "simulator", "base_url": w.sim_url,
        "client_id": w.client_id, "client_secret": "", "import_enabled": "y",
        "rate_limits": format_rate_limits(w.rate_limits)})


ACTIONS: dict[str, Callable[[World], Call]] = {
    "auth.login": _login,
    "auth.logout": lambda w: Call("POST", w.url("auth.logout"), ends_session=True),
    "cancelling.submit": _cancel,
    "corrections.submit": _correct,
    # (any order: printing changes no order's state, so it needs no fresh one)
    "printing.create": lambda w: Call("POST", w.url("printing.create"), {
        "scope": "ticked", "kind": "slips", "order": str(w.order_id)}),
    "returns.import_now": lambda w: Call("POST", w.url("returns.import_now")),
    "returns.refund": lambda w: Call(
        "POST", w.url("returns.refund", return_id=w.refundable_return()), {"qty-1": "1"}),
    "returns.track": lambda w: Call(
        "POST", w.url("returns.track", return_id=w.untracked_return()),
        {"line": "1", "on_hand": "4"}),
    "shipping.ship": _ship,
    "sync.retry": lambda w: Call("POST", w.url("sync.retry", task_id=w.failed_task())),
    "sync.send_now": lambda w: Call("POST", w.url("sync.send_now", task_id=w.waiting_task())),
    "sync.retry_selected": lambda w: Call("POST", w.url("sync.retry_selected"),
                                          {"task": [w.failed_task(), w.failed_task()]}),
    "sync.resolve": lambda w: Call("POST", w.url("sync.resolve", task_id=w.failed_task()),
                                   {"note": "Shipped by hand in Seller Center"}),
    "reconcile.run_now": lambda w: Call("POST", w.url("reconcile.run_now"),
                                        {"store": w.unreconciled_store()}),
    "reconcile.adopt": lambda w: Call("POST", w.url("reconcile.adopt",
                                                    finding_id=w.difference())),
    "reconcile.send": lambda w: Call("POST", w.url("reconcile.send",
                                                   finding_id=w.difference())),
    "shipping.upload": _upload,
    "shipping.correct": lambda w: Call(
        "POST", w.url("shipping.correct", package_id=w.package_id),
        {"carrier": "UPS", "other_carrier": "", "tracking_url": "",
         "tracking_number": w.tracking_number(), "confirm_warnings": "y"}),
    "stock.set_on_hand": lambda w: Call("POST", w.url("stock.set_on_hand"), {
        "store": w.store_id, "sku": f"SEC-{w.number()}", "on_hand": "7"}),
    "stock.import_file": lambda w: Call(
        "POST", w.url("stock.import_file"), {"store": w.store_id},
        files={"file": (f"sku,quantity\nSEC-{w.number()},4\n".encode(), "stock.csv")}),
    "stores.import_now": lambda w: Call("POST", w.url("stores.import_now", store_id=w.store_id)),
    "stores.new": lambda w: Call("POST", w.url("stores.new"), {
        "name": f"Store {w.number()}", "environment": "sandbox", "client_id": "another-client",
        "client_secret": "another-secret", "import_enabled": "y"}),
    "stores.edit": _store_edit,
    "stores.check": lambda w: Call("POST", w.url("stores.check", store_id=w.store_id)),
    "stores.read_only": lambda w: Call("POST", w.url("stores.read_only",
                                                     store_id=w.spare_store())),
    "stores.read_write": lambda w: Call("POST", w.url("stores.read_write",
                                                      store_id=w.spare_store(read_only=True))),
    "users.create": lambda w: Call("POST", w.url("users.create"), {
        "email": f"new{w.number()}@example.com", "role": "viewer", "password": ""}),
    "users.change_role": lambda w: Call(
        "POST", w.url("users.change_role", user_id=w.new_user().id), {"role": "operator"}),
    "users.set_active": lambda w: Call("POST", w.url("users.set_active",
                                                     user_id=w.new_user().id)),
    "walmart_events.receive": walmart_event,
    "stores.instant_subscribe": lambda w: Call("POST", w.url("stores.instant_subscribe",
                                                             store_id=w.store_id)),
    "stores.instant_test": lambda w: Call("POST", w.url("stores.instant_test",
                                                        store_id=w.subscribed())),
    "stores.instant_pause": lambda w: Call("POST", w.url("stores.instant_pause",
                                                         store_id=w.subscribed())),
    "stores.instant_resume": lambda w: Call("POST", w.url("stores.instant_resume",
                                                          store_id=w.subscribed(paused=True))),
    "stores.instant_unsubscribe": lambda w: Call("POST", w.url("stores.instant_unsubscribe",
                                                               store_id=w.subscribed())),
}


@pytest.fixture
def world(app, returned, make_user, live_server):
    """A World on the `returned` shop, the app also served on a port (Walmart's test
    notification must reach it: ORDERDECK_PUBLIC_URL)."""
    store_id, seller, order_id, _rma = returned
    app.config["PUBLIC_URL"] = live_server
    return World(app, make_user, store_id, order_id, seller.sim.url)


def _unsafe_endpoints(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules() if rule.methods & UNSAFE_METHODS}


def _allowed(role: str | None, least: str | None) -> bool:
    return least is None or (role is not None and ROLES.index(role) >= ROLES.index(least))


def test_every_route_has_a_policy(app):
    """Every route that changes something has a least role in ROUTE_POLICY and a request in
    ACTIONS; READ_POLICY names only real pages. A new route without them fails here."""
    unsafe = _unsafe_endpoints(app)
    missing, stale = sorted(unsafe - ROUTE_POLICY.keys()), sorted(ROUTE_POLICY.keys() - unsafe)
    assert not missing, f"add {missing} to ROUTE_POLICY (least role) and to ACTIONS (a request " \
                        "that changes something) in tests/test_security.py"
    assert not stale, f"ROUTE_POLICY names routes that no longer take POST/PUT/PATCH/DELETE: " \
                      f"{stale}"
    assert ACTIONS.keys() == ROUTE_POLICY.keys(), \
        f"ACTIONS lacks {sorted(ROUTE_POLICY.keys() - ACTIONS.keys())}"
    pages = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    assert READ_POLICY.keys() <= pages, sorted(READ_POLICY.keys() - pages)
    from webapp.security import MACHINE_ENDPOINTS as machines
    from webapp.security import PUBLIC_ENDPOINTS as declared
    assert declared == PUBLIC_ENDPOINTS
    assert machines == MACHINE_ENDPOINTS
    assert {e for e, least in ROUTE_POLICY.items() if least is PUBLIC} <= \
        PUBLIC_ENDPOINTS | MACHINE_ENDPOINTS


def test_strangers_reach_nothing_but_the_public_routes(app, world):
    """Signed out, every method of every route but the public three redirects to sign-in (htmx
    too) and changes nothing, even with valid form data and a valid CSRF token; a machine's
    route answers 401 to anything without its own credentials."""
    calls, problems = [], []
    for rule in app.url_map.iter_rules():
        url = rule.build(world.url_args(rule), append_unknown=False)[1]
        if rule.endpoint in MACHINE_ENDPOINTS:
            for call in (walmart_event(world, password="guessed"), Call("POST", url)):
                response, diff = world.attempt(None, call)
                if response.status_code != 401 or diff:
                    problems.append(f"machine {url}: {response.status_code}, changed {diff}")
            continue
        if rule.endpoint in PUBLIC_ENDPOINTS:
            status = world.send(None, Call("GET", url), token=None).status_code
            if status != 200:
                problems.append(f"public GET {url}: {status}")
            continue
        for method in sorted(rule.methods):
            action = ACTIONS.get(rule.endpoint)
            call = action(world) if action and method in UNSAFE_METHODS else Call(method, url)
            call.method = method
            calls += [(call, False), (call, True)]
    before = world.snapshot()  # after building the calls: their targets are not the change
    for call, htmx in calls:
        response = world.send(None, call, htmx=htmx)
        if htmx:
            ok = (response.status_code == 204 and response.headers["HX-Redirect"]
                  .startswith("/login?next="))
        else:
            ok = (response.status_code == 302 and response.headers["Location"]
                  .startswith("/login?next="))
        if not ok:
            problems.append(f"{call.method} {call.path} (htmx={htmx}): {response.status_code}")
    assert not problems, "\n".join(problems)
    assert changed(before, world.snapshot()) == []
    assert len(calls) > 60


def test_pages_open_to_exactly_the_roles_that_may_read_them(app, world):
    """Every page (full and htmx fragment) answers 200 to the roles READ_POLICY allows — a
    viewer unless it says otherwise — and 403 to the others; reading changes nothing."""
    problems = []
    for role in ROLES:
        world.client(role)  # signed in before the snapshot: signing in is a change
    before = world.snapshot()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = rule.build(world.url_args(rule), append_unknown=False)[1]
        least = READ_POLICY.get(rule.endpoint, VIEWER)
        for role in ROLES:
            expected = 200 if _allowed(role, least) else 403
            for htmx in (False, True):
                response = world.send(role, Call("GET", url), token=None, htmx=htmx)
                if response.status_code != expected:
                    problems.append(f"{rule.endpoint} {url} as {role} (htmx={htmx}): "
                                    f"{response.status_code}, expected {expected}")
    assert not problems, "\n".join(problems) + "\n(a page only some roles may read belongs " \
                                               "in READ_POLICY)"
    assert changed(before, world.snapshot()) == []


def test_role_matrix_for_every_changing_route(world):
    """For every changing route and role: below the least role → 403 and no row or queued job
    changes; at or above it → the action goes through and changes something."""
    problems = []
    for endpoint, least in sorted(ROUTE_POLICY.items()):
        if least is PUBLIC:
            continue
        for role in ROLES:
            response, diff = world.attempt(role, ACTIONS[endpoint](world))
            if _allowed(role, least):
                if response.status_code >= 400 or not diff:
                    problems.append(f"{endpoint} as {role}: {response.status_code}, changed "
                                    f"{diff or 'nothing'} — expected it to go through")
            elif response.status_code != 403 or diff:
                problems.append(f"{endpoint} as {role}: {response.status_code}, changed {diff}"
                                " — expected 403 and no change")
    assert not problems, "\n".join(problems)


def test_csrf_token_is_required_on_every_changing_route(world):
    """Every changing route answers 400 and changes nothing without a CSRF token or with another
    session's (what a forged form can carry); the token in htmx's X-CSRFToken header works."""
    assert world.app.config.get("WTF_CSRF_ENABLED", True)  # the test app checks tokens too
    problems = []
    for endpoint, least in sorted(ROUTE_POLICY.items()):
        role = None if least is PUBLIC else ADMIN
        if endpoint in MACHINE_ENDPOINTS:  # no CSRF by design: the password stands for it
            for password, expected in (("forged", 401), (None, 200)):
                response, diff = world.attempt(None, walmart_event(world, password),
                                               token="none")
                if response.status_code != expected or bool(diff) != (expected == 200):
                    problems.append(f"{endpoint} password {password or 'right'}: "
                                    f"{response.status_code}, changed {diff}")
            continue
        for token in ("none", "foreign"):
            response, diff = world.attempt(role, ACTIONS[endpoint](world), token=token)
            if response.status_code != 400 or diff:
                problems.append(f"{endpoint}, token {token}: {response.status_code}, "
                                f"changed {diff}")
            elif "was not sent from Orderdeck" not in response.text:
                problems.append(f"{endpoint}, token {token}: no clear message")
        response, diff = world.attempt(role, ACTIONS[endpoint](world), token="header",
                                       htmx=True)
        if response.status_code >= 400 or not diff:
            problems.append(f"{endpoint} via htmx header: {response.status_code}, changed "
                            f"{diff or 'nothing'}")
    assert not problems, "\n".join(problems)


def test_hostile_form_values_never_crash_a_route(app, world):
    """No form value of 5,000 characters crashes a changing route; a NUL byte in any query or
    form value (which PostgreSQL cannot store) is a 400 that changes nothing, on every route."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is a 500 to report, not an exception
    problems = []
    for endpoint, least in sorted(ROUTE_POLICY.items()):
        role = None if least is PUBLIC else ADMIN
        if endpoint in MACHINE_ENDPOINTS:  # JSON, not a form: hostile values in its fields
            for value in ("x" * 5000, "a\x00b", "\x00"):
                for call in (walmart_event(world, customerOrderId=value, subEventType=value),
                             walmart_event(world, purchaseOrderId=value),
                             walmart_event(world, password=value)):
                    response = world.send(None, call)
                    if response.status_code >= 500:
                        problems.append(f"{endpoint} with {value[:8]!r}: "
                                        f"{response.status_code}")
            continue
        for name in ACTIONS[endpoint](world).data:
            call = ACTIONS[endpoint](world)
            call.data[name] = "x" * 5000
            response = world.send(role, call)
            if response.status_code >= 500:
                problems.append(f"{endpoint} with a long {name}: {response.status_code}")
        call = ACTIONS[endpoint](world)
        call.data = {k: [f"{x}\x00" for x in v] if isinstance(v, list) else f"{v}\x00"
                     for k, v in call.data.items()} or {"nul": "\x00"}
        response, diff = world.attempt(role, call)
        if response.status_code != 400 or diff:
            problems.append(f"{endpoint} with NUL bytes: {response.status_code}, changed {diff}")
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint != "static":
            url = rule.build(world.url_args(rule), append_unknown=False)[1]
            response = world.send(ADMIN, Call("GET", url + "?q=a%00b&store=%00"), token=None)
            if response.status_code != 400:
                problems.append(f"GET {url} with NUL bytes: {response.status_code}")
    assert not problems, "\n".join(problems)


@pytest.fixture
def debug_logs(caplog):
    """Capture every log line from here on, setup included (the import, the syncs)."""
    caplog.set_level(logging.DEBUG)
    return caplog


def test_secrets_are_on_no_page_log_audit_entry_task_or_row(app, debug_logs, world, worker,
                                                            sim):
    """Client secrets (working, typed, refused), the notifications password and Walmart access
    tokens are on no page (every GET route, as admin), in no log line, audit entry, task
    payload, database row or job."""
    from rq.job import Job

    from webapp.extensions import db, redis_connection
    from webapp.models import AuditEvent, Store, SyncTask

    with app.app_context():
        store = db.session.get(Store, world.store_id)
        from webapp.services.stores.editing import client_secret
        real = client_secret(store)
    typed, retyped, rejected = (f"{name}-{secrets.token_hex(6)}" for name in
                                ("typed", "retyped", "rejected"))
    form = {"environment": "simulator", "base_url": sim.url, "client_id": "unknown-client",
            "import_enabled": "y"}
    assert world.send(ADMIN, Call("POST", world.url("stores.new"), {
        **form, "name": "Wrong secret", "client_secret": typed})).status_code == 302
    with app.app_context():
        wrong_id = db.session.scalar(select(Store.id).where(Store.name == "Wrong secret"))
    edit = world.url("stores.edit", store_id=wrong_id)
    invalid = world.send(ADMIN, Call("POST", edit, {**form, "name": "", "client_secret": rejected}))
    assert invalid.status_code == 422
    assert world.send(ADMIN, Call("POST", edit, {**form, "name": "Wrong secret",
                                                 "client_secret": retyped})).status_code == 302
    world.send(ADMIN, Call("POST", world.url("stores.import_now", store_id=wrong_id)))
    worker()  # the import with the wrong secret fails at Walmart's token endpoint
    # Receive orders instantly: subscribed and tested through the pages; Walmart's test
    # notification carries the store's notifications password to the endpoint.
    for action in ("stores.instant_subscribe", "stores.instant_test"):
        assert world.send(ADMIN, Call("POST", world.url(
            action, store_id=world.store_id))).status_code == 302
    worker()
    with app.app_context():
        from webapp.secrets_box import decrypt
        events_password = decrypt(db.session.get(Store, world.store_id)
                                  .events_password_encrypted)
        assert db.session.get(Store, world.store_id).events_tested_at is not None
    tokens = [r["token"] for r in sim.conn.execute(
        "SELECT token FROM tokens WHERE seller_id = (SELECT seller_id FROM sellers "
        "WHERE client_id = ?)", (world.client_id,))]
    assert tokens, "the import should have used an access token"
    hidden = [real, typed, retyped, rejected, events_password, *tokens]

    def leaks(text: str) -> list[str]:
        return [h[:12] + "…" for h in hidden if h in text]

    pages = {"stores.edit (refused)": invalid.text}
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint != "static":
            url = rule.build(world.url_args(rule), append_unknown=False)[1]
            for htmx in (False, True):
                response = world.send(ADMIN, Call("GET", url), token=None, htmx=htmx)
                pages[f"{url} htmx={htmx}"] = response.get_data(as_text=True)
    pages["store edit of the wrong one"] = world.send(ADMIN, Call("GET", edit), token=None).text
    assert {page: found for page, found in ((p, leaks(t)) for p, t in pages.items())
            if found} == {}

    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    records = debug_logs.get_records("setup") + debug_logs.get_records("call")
    lines = [formatter.format(r) for r in records]
    assert any("Walmart" in line and "refused" in line for line in lines), \
        "the failing import should have logged Walmart's refusal"
    assert [line for line in lines if leaks(line)] == []

    with app.app_context():
        events = db.session.scalars(select(AuditEvent)).all()
        payloads = [t.payload for t in db.session.scalars(select(SyncTask)) if t.payload]
        assert {"store.create", "store.update", "store.import"} <= {e.action for e in events}
        assert payloads
        assert [e.action for e in events if leaks(f"{e.subject} {e.details}")] == []
        assert [p for p in payloads if leaks(str(p))] == []
        connection = redis_connection()
        jobs = [Job.fetch(key.decode().removeprefix("rq:job:"), connection=connection)
                for key in connection.scan_iter("rq:job:*") if key.count(b":") == 2]
        assert [job.id for job in jobs if leaks(repr((job.args, job.kwargs)))] == []
    rows = world.snapshot()
    assert [table for table, values in rows.items() if leaks(repr(values))] == []
