"""Bulk tracking upload: a CSV becomes a checked preview (Shipped or Partially Shipped per
order), then shipments through ship_order, kept as a TrackingUpload for the result page."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.models import Order, OrderStatus, SyncTask, TrackingUpload, User
from webapp.models.base import utcnow
from webapp.numbers import MAX_QUANTITY, whole
from webapp.services.errors import ActionRefused
from webapp.services.orders import detail as order_detail
from webapp.services.shipping import tracking_numbers as tracking
from webapp.services.shipping.ship import PackageInput, ship_order
from webapp.services.unit_of_work import action
from webapp.walmart import enums

MAX_ROWS = 2000
COLUMNS = {  # normalised header → field
    "order": "order", "ordernumber": "order", "walmartorder": "order", "po": "order",
    "purchaseorderid": "order", "walmartordernumber": "order",
    "line": "line", "linenumber": "line",
    "quantity": "quantity", "qty": "quantity",
    "carrier": "carrier", "method": "method", "methodcode": "method", "shipmethod": "method",
    "trackingnumber": "tracking_number", "tracking": "tracking_number",
    "trackingurl": "tracking_url", "url": "tracking_url",
}
REQUIRED = ("order", "line", "quantity", "carrier", "tracking_number")


@dataclass
class Row:
    number: int  # line in the file (header is 1)
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    order: Order | None = None
    quantity: int = 0  # read by _check


@dataclass
class Plan:
    rows: list[Row]
    file_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.file_errors and bool(self.rows) and not any(r.errors for r in self.rows)

    def shipments(self) -> list[tuple[Order, list[PackageInput]]]:
        """Rows grouped: one shipment per order, one package per tracking number."""
        grouped: dict[int, tuple[Order, dict[str, PackageInput]]] = {}
        for row in self.rows:
            v, order = row.values, row.order
            _, packages = grouped.setdefault(order.id, (order, {}))
            number = tracking.normalise(v["tracking_number"])
            carrier = v["carrier"].strip()
            package = packages.setdefault(number, PackageInput(
                number, v.get("method") or order.ship_method or "Standard", {},
                carrier if carrier in enums.CARRIERS else None,
                None if carrier in enums.CARRIERS else carrier, v.get("tracking_url") or None))
            package.lines[v["line"]] = package.lines.get(v["line"], 0) + row.quantity
        return [(order, list(packages.values())) for order, packages in grouped.values()]


def _header(name: str) -> str:
    return COLUMNS.get(re.sub(r"[^a-z]", "", (name or "").lower()), "")


def parse(text: str) -> Plan:
    """Read and check every row; nothing is created here."""
    if "\x00" in text:  # binary content that happens to decode (and PostgreSQL refuses NUL)
        return Plan([], ["The file holds binary data, not text: save it as CSV UTF-8."])
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return Plan([], ["The file is empty or not a CSV."])
    fields = [_header(h) for h in header]
    missing = [c for c in REQUIRED if c not in fields]
    if missing:
        return Plan([], ["Missing column(s): " + ", ".join(missing).replace("_", " ") +
                         ". Expected: order, line, quantity, carrier, method, tracking number, "
                         "tracking URL."])
    rows: list[Row] = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                return Plan(rows, [f"At most {MAX_ROWS} rows per file."])
            rows.append(Row(reader.line_num, {f: v.strip() for f, v in zip(fields, values,
                                                                               strict=False)
                                              if f}))
    except csv.Error as exc:
        return Plan(rows, [f"The CSV cannot be read near line {reader.line_num}: {exc}"])
    plan = Plan(rows)
    _check(plan)
    return plan


def _check(plan: Plan) -> None:
    wanted: dict[tuple[int, str], list[Row]] = {}
    for row in plan.rows:
        v = row.values
        for name in REQUIRED:
            if not v.get(name):
                row.errors.append(f"{name.replace('_', ' ').capitalize()} is empty.")
        if row.errors:
            continue
        row.order = order_detail.find(v["order"])
        if row.order is None:
            row.errors.append(f"No order {v['order']}.")
            continue
        line = next((x for x in row.order.lines if x.line_number == v["line"]), None)
        if line is None:
            row.errors.append(f"Order {row.order.number} has no line {v['line']}.")
        row.quantity = whole(v["quantity"], MAX_QUANTITY, minimum=1) or 0
        if not row.quantity:
            row.errors.append(f"Quantity must be a whole number from 1 to {MAX_QUANTITY:,}.")
        if v.get("method") and v["method"] not in enums.METHOD_CODES:
            row.errors.append(f"Method must be one of {', '.join(enums.METHOD_CODES)}.")
        if v["carrier"] not in enums.CARRIERS and not v.get("tracking_url"):
            row.errors.append(f"{v['carrier']!r} is not one of Walmart's carriers: give its "
                              "tracking URL to ship with it as another carrier.")
        if row.order.intent_to_cancel:
            row.errors.append("The buyer asked to cancel this order: ship it from its page.")
        refusal = tracking.own_number_refusal(tracking.normalise(v["tracking_number"]),
                                              row.order.purchase_order_id,
                                              row.order.customer_order_id)
        if refusal:
            row.errors.append(refusal)
        note = tracking.warning(v["carrier"], tracking.normalise(v["tracking_number"]))
        if note:
            row.warnings.append(note)
        if line is not None and not row.errors:
            wanted.setdefault((row.order.id, line.line_number), []).append(row)
    for (_order_id, number), rows in wanted.items():
        line = next(x for x in rows[0].order.lines if x.line_number == number)
        total = sum(r.quantity for r in rows)
        if total > line.open_qty:
            for row in rows:
                row.errors.append(f"Line {number} has {line.open_qty} unit(s) left to ship; "
                                  f"the file ships {total}.")


@dataclass
class OrderPlan:
    """What the file does to one order: the units it ships, and the order's status after."""
    order: Order
    packages: list[PackageInput]
    units: int
    left: int  # units still to ship after the file's

    @property
    def becomes(self) -> str:
        return OrderStatus.SHIPPED if self.left == 0 else \
            OrderStatus.PARTIALLY_SHIPPED


def order_plans(plan: Plan) -> list[OrderPlan]:
    """Per order of a checked plan: Shipped when the file ships every unit left, else
    Partially Shipped (what the preview shows before anything ships)."""
    out = []
    for order, packages in plan.shipments():
        units = sum(sum(p.lines.values()) for p in packages)
        out.append(OrderPlan(order, packages, units,
                             sum(x.open_qty for x in order.lines) - units))
    return out


@action
def apply(plan: Plan, *, by: User | None) -> TrackingUpload:
    """Create the shipments of a checked plan (each through ship_order and the sync engine),
    and keep what happened per order for the result page; when Walmart's rules or this
    store refuse every order, nothing is recorded and the refusal says why."""
    if not plan.ok:
        raise ActionRefused("Fix the errors in the file first; nothing was shipped.")
    outcomes = []
    for item in order_plans(plan):
        order, packages = item.order, item.packages
        outcome = {"order_id": order.id, "order": order.number, "shipment_id": None,
                   "task_id": None}
        try:
            shipment = ship_order(order.id, packages, utcnow(), by=by,
                                  actor=by.email if by else "upload", confirm_warnings=True)
        except ActionRefused as exc:
            # ship_order joined this action's unit of work, so its refusal is undone here,
            # and the next order of the file goes on (each shipped order is committed).
            db.session.rollback()
            outcomes.append({**outcome, "result": "Refused", "message": str(exc)})
            continue
        left = sum(x.open_qty for x in order.lines)  # (ship_order reread the lines)
        outcomes.append({**outcome, "shipment_id": shipment.id, "task_id": shipment.task_id,
                         "result": OrderStatus.SHIPPED if left == 0 else
                         OrderStatus.PARTIALLY_SHIPPED,
                         "message": f"{len(packages)} package{'s' if len(packages) != 1 else ''}"
                                    f", {item.units} unit{'s' if item.units != 1 else ''}"
                                    + (f"; {left} left to ship" if left else "")})
    if not any(o["shipment_id"] for o in outcomes):  # bad input changes nothing: no record
        raise ActionRefused("Nothing was shipped: " + "; ".join(
            f"order {o['order']}: {o['message']}" for o in outcomes))
    upload = TrackingUpload(created_by_id=by.id if by else None,
                            created_by=by.email if by else "upload", outcomes=outcomes)
    db.session.add(upload)
    db.session.commit()
    return upload


@dataclass
class ResultRow:
    order_id: int
    order: str
    result: str
    message: str
    task: SyncTask | None


def result_rows(upload: TrackingUpload) -> list[ResultRow]:
    """The upload's outcomes with each shipment's sync task as it is now: a shipment Walmart
    refused and a person corrected is followed to the task that replaced it (a query per
    round of corrections, one in the common case)."""
    latest: dict[int, int] = {o["task_id"]: o["task_id"] for o in upload.outcomes
                              if o.get("task_id")}
    tasks: dict[int, SyncTask] = {}
    wanted = set(latest)
    while wanted:
        found = db.session.scalars(select(SyncTask).where(SyncTask.id.in_(wanted))
                                   .options(selectinload(SyncTask.store))).all()
        tasks.update({t.id: t for t in found})
        moved = {t.id: t.replaced_by_id for t in found if t.replaced_by_id}
        for first, now in latest.items():
            if now in moved:
                latest[first] = moved[now]
        wanted = set(moved.values()) - tasks.keys()
    return [ResultRow(o["order_id"], o["order"], o["result"], o["message"],
                      tasks.get(latest.get(o.get("task_id")))) for o in upload.outcomes]
