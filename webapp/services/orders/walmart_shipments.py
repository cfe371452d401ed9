"""Shipments that Walmart reports and Orderdeck did not send: made in Seller Center, by another
tool, or before the store was connected. An import records them from Walmart's tracking, so an
order that reads Shipped shows how it shipped (carrier, tracking number, lines) instead of "No
shipment yet".

Never twice: a line gets a shipment from Walmart only for units Walmart shows shipped beyond
all of Orderdeck's own shipments of that line, whatever their state — a shipment still on its
way, or one whose tracking a correction changed here first, is Orderdeck's, not Walmart's.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import OrderLine, Shipment, ShipmentLine, ShipmentPackage
from webapp.models.base import utcnow
from webapp.services.text_fit import fit
from webapp.walmart.schema import PurchaseOrder, Tracking

BY_WALMART = "Walmart"  # a shipment's "By": read from Walmart, not sent from here
SHIPPED = ("Shipped", "Delivered")


def _key(number: str) -> str:
    """Tracking numbers compared as the Ship form stores them (no spaces, upper case)."""
    return number.replace(" ", "").upper()


def _walmart_units(data: PurchaseOrder) -> dict[str, dict[str, tuple[Tracking, int]]]:
    """{line number: {tracking key: (tracking, units shipped or delivered with it)}}."""
    units: dict[str, dict[str, tuple[Tracking, int]]] = {}
    for line in data.lines:
        for status in line.statuses:
            if status.status in SHIPPED and status.tracking and status.quantity > 0:
                key = _key(status.tracking.number)
                by_number = units.setdefault(line.line_number, {})
                _tracking, before = by_number.get(key, (status.tracking, 0))
                by_number[key] = (status.tracking, before + status.quantity)
    return units


def _ours(order_ids: list[int]) -> dict[int, dict[str, dict[str, int]]]:
    """{order id: {line number: {tracking key: units}}} of every shipment recorded here. Read
    from the orders' shipments down to their lines, each step by an index (shipment lines have
    none by order line: read from that side, every page of an import read them all)."""
    ours: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    rows = db.session.execute(
        select(Shipment.order_id, OrderLine.line_number, ShipmentPackage.tracking_number,
               ShipmentLine.quantity)
        .select_from(Shipment)
        .join(ShipmentPackage, ShipmentPackage.shipment_id == Shipment.id)
        .join(ShipmentLine, ShipmentLine.package_id == ShipmentPackage.id)
        .join(OrderLine, OrderLine.id == ShipmentLine.order_line_id)
        .where(Shipment.order_id.in_(order_ids)))
    for order_id, line_number, number, quantity in rows:
        by_number = ours[order_id][line_number]
        by_number[_key(number)] = by_number.get(_key(number), 0) + quantity
    return ours


def _missing(walmart: dict[str, dict[str, tuple[Tracking, int]]],
             ours: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """{tracking key: {line number: units}} Walmart shows that no shipment here accounts for:
    per line, the tracking numbers unknown here, up to the units Walmart has beyond ours."""
    missing: dict[str, dict[str, int]] = defaultdict(dict)
    for line_number, by_number in walmart.items():
        here = ours.get(line_number, {})
        beyond = sum(units for _t, units in by_number.values()) - sum(here.values())
        for key, (_tracking, units) in sorted(by_number.items()):
            take = min(units - here.get(key, 0), beyond)
            if take > 0:
                missing[key][line_number] = take
                beyond -= take
    return missing


def record(orders: dict[int, PurchaseOrder]) -> int:
    """Record, for these orders ({order id: Walmart's view}), the shipments Walmart shows and
    Orderdeck lacks; returns how many. A few queries for a whole import page, none for a page
    without shipped lines (a first import's new orders)."""
    walmart = {order_id: units for order_id, data in orders.items()
               if (units := _walmart_units(data))}
    if not walmart:
        return 0
    ours = _ours(list(walmart))
    line_ids = {(order_id, number): line_id for line_id, order_id, number in db.session.execute(
        select(OrderLine.id, OrderLine.order_id, OrderLine.line_number)
        .where(OrderLine.order_id.in_(list(walmart))))}
    shipments = []
    for order_id, units in walmart.items():
        missing = _missing(units, ours.get(order_id, {}))
        if not missing:
            continue
        trackings = {key: tracking for by_number in units.values()
                     for key, (tracking, _n) in by_number.items()}
        packages = [(_package(trackings[key]), {line_ids[(order_id, number)]: quantity
                                                for number, quantity in lines.items()})
                    for key, lines in sorted(missing.items())]
        times = [trackings[key].ship_time for key in missing if trackings[key].ship_time]
        shipments.append((order_id, _earliest(times), packages))
    if shipments:
        _insert(shipments)
    return len(shipments)


def _insert(shipments: list[tuple[int, datetime, list[tuple[dict, dict[int, int]]]]]) -> None:
    """The shipments, their packages and their lines in three INSERTs (a first import of a
    seller's history records one for nearly every order: one ORM object at a time, that was
    most of its time). RETURNING gives the ids in the order of the rows given."""
    now = utcnow()
    table = Shipment.__table__
    ids = db.session.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True), [
        {"order_id": order_id, "ship_time": ship_time, "created_by": BY_WALMART,
         "intent_to_cancel_override": False, "created_at": now}
        for order_id, ship_time, _packages in shipments]).scalars().all()
    packages = [(values, lines, shipment_id) for (_o, _t, planned), shipment_id
                in zip(shipments, ids, strict=True) for values, lines in planned]
    table = ShipmentPackage.__table__
    package_ids = db.session.execute(
        table.insert().returning(table.c.id, sort_by_parameter_order=True),
        [{**values, "shipment_id": shipment_id} for values, _lines, shipment_id in packages]
    ).scalars().all()
    db.session.execute(ShipmentLine.__table__.insert(), [
        {"package_id": package_id, "order_line_id": line_id, "quantity": quantity}
        for (_v, lines, _s), package_id in zip(packages, package_ids, strict=True)
        for line_id, quantity in lines.items()])


def _earliest(times: list[datetime]) -> datetime:
    return min(times) if times else utcnow()


def _package(tracking: Tracking) -> dict:
    """A package's columns from Walmart's tracking (cut to fit)."""
    return fit(ShipmentPackage, {
        "carrier": tracking.carrier, "other_carrier": tracking.other_carrier,
        "method_code": tracking.method_code or "", "tracking_number": tracking.number,
        "tracking_url": tracking.url})
