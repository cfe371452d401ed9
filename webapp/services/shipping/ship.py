"""Shipping all or part of an order: one shipment, one sync task, never an over-shipment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import (
    Order,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentLine,
    ShipmentPackage,
    TaskKind,
    User,
)
from webapp.models.base import utcnow
from webapp.services import audit
from webapp.services.errors import ActionRefused
from webapp.services.orders import detail as order_detail
from webapp.services.orders import status as order_status
from webapp.services.shipping import tracking_numbers as tracking
from webapp.services.stock import levels as stock
from webapp.services.stock import ship_nodes
from webapp.services.stores.mode import refuse_if_read_only
from webapp.services.sync import outbox
from webapp.services.unit_of_work import action
from webapp.walmart import enums, payloads

CLOCK_SKEW = timedelta(minutes=5)


@dataclass
class PackageInput:
    """One tracking number and the units it holds: {line number: quantity}."""
    tracking_number: str
    method_code: str
    lines: dict[str, int]
    carrier: str | None = None
    other_carrier: str | None = None
    tracking_url: str | None = None


class NeedsConfirmation(ActionRefused):
    """Nothing is wrong for sure, but a person should look: confirm to go ahead."""

    def __init__(self, warnings: list[str]) -> None:
        super().__init__(" ".join(warnings), field="tracking_number")
        self.warnings = warnings


@dataclass
class _Checked:
    packages: list[PackageInput]
    per_line: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _check_package(index: int, package: PackageInput, known: dict[str, OrderLine],
                   checked: _Checked, allow_empty: bool = False) -> PackageInput:
    label = f"Package {index}: " if len(checked.packages) > 1 else ""
    number = tracking.normalise(package.tracking_number)
    if not number:
        raise ActionRefused(f"{label}Enter the tracking number.", field="tracking_number")
    if len(number) > 100:
        raise ActionRefused(f"{label}The tracking number is too long.", field="tracking_number")
    if package.method_code not in enums.METHOD_CODES:
        raise ActionRefused(f"{label}Choose one of Walmart's methods: "
                            f"{', '.join(enums.METHOD_CODES)}.", field="method_code")
    carrier = (package.carrier or "").strip() or None
    other = (package.other_carrier or "").strip() or None
    url = (package.tracking_url or "").strip() or None
    if other and len(other) > 120:  # the columns' sizes: PostgreSQL refuses longer text
        raise ActionRefused(f"{label}The other carrier's name is too long (at most 120 "
                            "characters).", field="other_carrier")
    if url and len(url) > 500:
        raise ActionRefused(f"{label}The tracking URL is too long (at most 500 characters).",
                            field="tracking_url")
    if carrier:  # Walmart's code, also when a person typed its name ("LaserShip" → LS)
        if enums.carrier_code(carrier) is None:
            raise ActionRefused(f"{label}{carrier!r} is not one of Walmart's carriers; pick one "
                                "from the list, or use Other shipping company.", field="carrier")
        carrier = enums.carrier_code(carrier)
    if not carrier and not other:
        raise ActionRefused(f"{label}Choose a carrier, or name the other shipping company.",
                            field="carrier")
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ActionRefused(f"{label}The tracking URL must start with https://.",
                                field="tracking_url")
    if not carrier and not url:
        raise ActionRefused(f"{label}Walmart needs a tracking URL for another carrier.",
                            field="tracking_url")
    url = url or enums.tracking_url(carrier, number)
    lines = {}
    for number_, quantity in package.lines.items():
        if number_ not in known:
            raise ActionRefused(f"{label}This order has no line {number_}.", field="lines")
        if not isinstance(quantity, int) or quantity < 0:
            raise ActionRefused(f"{label}Quantities must be whole numbers, 0 or more.",
                                field="lines")
        if quantity:
            lines[number_] = quantity
            checked.per_line[number_] = checked.per_line.get(number_, 0) + quantity
    if not lines and not allow_empty:
        raise ActionRefused(f"{label}Put at least one unit in the package.", field="lines")
    note = tracking.warning(carrier, number)
    if note:
        checked.warnings.append(label + note)
    return PackageInput(number, package.method_code, lines, carrier, None if carrier else other,
                        url)


def validate(order: Order, packages: list[PackageInput], ship_time: datetime,
             returning: dict[str, int] | None = None) -> _Checked:
    """Every value checked; `returning`: units per line a refused shipment being corrected
    gives back, which the corrected one may ship again."""
    if not packages:
        raise ActionRefused("Add a tracking number.", field="tracking_number")
    checked = _Checked(packages)
    known = {line.line_number: line for line in order.lines}
    checked.packages = [_check_package(i, p, known, checked)
                        for i, p in enumerate(packages, start=1)]
    numbers = [p.tracking_number for p in checked.packages]
    for number in numbers:
        refusal = tracking.own_number_refusal(number, order.purchase_order_id,
                                              order.customer_order_id)
        if refusal:
            raise ActionRefused(refusal, field="tracking_number")
    if len(set(numbers)) != len(numbers):
        raise ActionRefused("Each package needs its own tracking number.",
                            field="tracking_number")
    if ship_time.tzinfo is None:
        raise ActionRefused("Give the ship time with its time zone.", field="ship_time")
    if order.order_date and ship_time < order.order_date - CLOCK_SKEW:
        raise ActionRefused("The ship date cannot be before the order date.", field="ship_time")
    if ship_time > utcnow() + CLOCK_SKEW:
        raise ActionRefused("The ship date cannot be in the future.", field="ship_time")
    for number, quantity in checked.per_line.items():
        line = known[number]
        room = line.open_qty + (returning or {}).get(number, 0)
        if quantity > room:
            raise ActionRefused(f"Line {number} ({line.sku}): only {room} unit(s) left "
                                f"to ship, not {quantity}.", field="lines")
    return checked


def refuse_reused(order: Order, checked: _Checked, but: Shipment | None = None) -> None:
    """Walmart's read-back tells shipments apart by tracking number: one per package of the
    order (`but`: the shipment being corrected, whose numbers may stay)."""
    mine = but.id if but is not None else None
    used = {p.tracking_number for s in order_detail.shipments_of(order) if s.id != mine
            for p in s.packages}
    reused = [p.tracking_number for p in checked.packages if p.tracking_number in used]
    if reused:
        raise ActionRefused(f"Tracking number {reused[0]} is already on a shipment of this "
                            "order; each package needs its own.", field="tracking_number")


def new_packages(order: Order, checked: _Checked) -> list[ShipmentPackage]:
    """The checked packages as rows (one per tracking number, with their line quantities)."""
    by_number = {line.line_number: line for line in order.lines}
    return [ShipmentPackage(
        carrier=p.carrier, other_carrier=p.other_carrier, method_code=p.method_code,
        tracking_number=p.tracking_number, tracking_url=p.tracking_url,
        lines=[ShipmentLine(order_line_id=by_number[n].id, quantity=q)
               for n, q in p.lines.items()]) for p in checked.packages]


def shipment_body(order: Order, checked: _Checked, ship_time: datetime,
                  intent_to_cancel_override: bool) -> dict:
    """Walmart's shipping body for the checked packages (stored on the sync task)."""
    return payloads.shipment(
        [payloads.Package(p.tracking_number, p.method_code, ship_time, tuple(p.lines.items()),
                          carrier=p.carrier, other_carrier=p.other_carrier,
                          tracking_url=p.tracking_url) for p in checked.packages],
        seller_order_id=order.number or order.purchase_order_id,
        intent_to_cancel_override=intent_to_cancel_override)


def add_while_open(line: OrderLine, column: str, quantity: int, refusal: str) -> None:
    """Add `quantity` to the line's shipped or canceled units in one conditional UPDATE, only
    while that many are still open: of two people taking the same units at the same moment
    one wins, the other gets `refusal` and nothing of theirs is written. A negative quantity
    gives units back."""
    result = db.session.execute(
        update(OrderLine).where(
            OrderLine.id == line.id,
            OrderLine.quantity - OrderLine.shipped_qty - OrderLine.canceled_qty >= quantity)
        .values({column: getattr(OrderLine, column) + quantity})
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise ActionRefused(refusal, field="lines")


def take_units(order: Order, per_line: dict[str, int]) -> None:
    """Add the shipped units (a negative quantity gives units back: a corrected shipment that
    ships fewer); never more than remains."""
    for line in sorted(order.lines, key=lambda x: x.id):
        quantity = per_line.get(line.line_number)
        if not quantity:
            continue
        add_while_open(line, "shipped_qty", quantity,
                       f"Line {line.line_number} ({line.sku}) no longer has {quantity} unit(s) "
                       "to ship: someone else just shipped or canceled it. Reload the order.")
        # The units leave: reservation and on hand go down together.
        stock.adjust(order.store_id, line.sku, reserved=-quantity, on_hand=-quantity,
                     node=ship_nodes.stock_node(order.store, order.ship_node))


@action
def ship_order(order_id: int, packages: list[PackageInput], ship_time: datetime, *,
               by: User | None, actor: str | None = None, override_intent: bool = False,
               confirm_warnings: bool = False, form_token: str | None = None) -> Shipment:
    """Ship some or all of an order; Walmart hears of it through one sync task."""
    order = db.session.get(Order, order_id)
    if order is None:
        raise ActionRefused("There is no such order.")
    refuse_if_read_only(order.store)
    if order.import_error:
        raise ActionRefused("This order could not be imported from Walmart; it cannot ship yet.")
    if order.status == OrderStatus.CANCELED or all(x.open_qty == 0 for x in order.lines):
        canceled = order.status == OrderStatus.CANCELED
        raise ActionRefused("Nothing is left to ship on this order"
                            + (": it is canceled." if canceled else "."))
    if order.intent_to_cancel and not override_intent:
        raise ActionRefused("The buyer asked Walmart to cancel this order. Cancel it, or confirm "
                            "that you ship it anyway.", field="override_intent")
    checked = validate(order, packages, ship_time)
    if checked.warnings and not confirm_warnings:
        raise NeedsConfirmation(checked.warnings)
    if form_token and len(form_token) > 64:
        raise ActionRefused("This form is damaged: reload the order and ship again.",
                            field="form_token")
    if form_token and db.session.scalar(select(Shipment.id).where(
            Shipment.form_token == form_token)):
        raise ActionRefused("This shipment was already submitted.", field="form_token")
    refuse_reused(order, checked)
    take_units(order, checked.per_line)
    shipment = Shipment(order_id=order.id, ship_time=ship_time, created_by_id=by.id if by else None,
                        created_by=actor or (by.email if by else "system"),
                        intent_to_cancel_override=bool(override_intent and order.intent_to_cancel),
                        form_token=form_token)
    shipment.packages = new_packages(order, checked)
    body = shipment_body(order, checked, ship_time, shipment.intent_to_cancel_override)
    task = outbox.add_task(order.store_id, TaskKind.SHIP, order.purchase_order_id, order=order,
                           payload=body)
    shipment.task = task
    db.session.add(shipment)
    for line in order.lines:
        db.session.refresh(line, ["shipped_qty"])
    order_status.refresh(order)
    order.updated_at = utcnow()
    audit.record("order.ship", user=by, actor=actor, store_id=order.store_id,
                 subject=order.number, units=sum(checked.per_line.values()),
                 tracking=[p.tracking_number for p in checked.packages])
    try:
        db.session.commit()
    except IntegrityError as exc:  # the same form, submitted twice at the same instant
        db.session.rollback()
        raise ActionRefused("This shipment was already submitted.", field="form_token") from exc
    return shipment
