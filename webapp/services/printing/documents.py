"""What goes on paper: a packing slip per order, or one pick list, as plain values.

A slip shows what the buyer knows and needs — the customer order number (with its barcode),
order date, ship-to name and address, ship method and Ship By, each line's SKU, product and
quantity, and how to start a return — and nothing else: never the buyer's phone or relay
e-mail (Walmart allows them for the carrier only), no logo, address of a website or promotion
(Walmart's packaging policy: slips are optional and unbranded). The store's "name on slips"
heads it; prices only where the store says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from markupsafe import Markup
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.models import Order, OrderLine, OrderStatus, PrintKind, ShipmentLine, SkuStock
from webapp.services.printing.barcode import code128_svg

WALMART_RETURNS = ("To return an item, start your return on Walmart.com (Account › Purchase "
                   "history) or in the Walmart app, and follow the instructions there.")
RETURN_CENTRE = ("To return an item, start your return on Walmart.com or in the Walmart app; "
                 "the items go back to:")


@dataclass(slots=True)
class SlipLine:
    sku: str
    product_name: str
    quantity: int
    unit_price: Decimal | None  # None: the store prints no prices

    @property
    def amount(self) -> Decimal | None:
        return None if self.unit_price is None else self.unit_price * self.quantity


@dataclass(slots=True)
class ReturnCentre:
    address: list[str]
    skus: list[str]


@dataclass(slots=True)
class Slip:
    order_id: int
    number: str | None
    customer_order_id: str | None
    barcode: Markup | None
    heading: str | None  # the store's "name on slips"
    order_date: datetime | None
    ship_by: datetime | None
    ship_method: str | None
    ship_to: list[str]
    lines: list[SlipLine]
    currency: str
    prices: bool
    return_centres: list[ReturnCentre]
    returns_note: str  # how to start a return
    package: bool  # the quantities of one package, not the units still to ship


@dataclass(slots=True)
class LeftOut:
    number: str | None
    customer_order_id: str | None
    reason: str


@dataclass(slots=True)
class PickRow:
    sku: str
    product_name: str
    quantity: int = 0
    orders: list[tuple[str, int]] = field(default_factory=list)  # (customer order #, units)
    on_hand: list[tuple[str, int]] = field(default_factory=list)  # (store, units); [] untracked


@dataclass
class Document:
    kind: PrintKind
    order_ids: list[int]  # the orders on paper, in the document's order
    left_out: list[LeftOut]
    slips: list[Slip] = field(default_factory=list)
    pick_rows: list[PickRow] = field(default_factory=list)
    stores: int = 0  # how many stores the pick list's orders come from

    @property
    def units(self) -> int:
        return sum(row.quantity for row in self.pick_rows)


def _in_document_order(order_ids: list[int]) -> list[Order]:
    """The orders with their lines (and store), the most urgent first: Ship By, then ordered,
    then our number — so the box due first is packed first."""
    orders = db.session.scalars(select(Order).where(Order.id.in_(order_ids))
                                .options(selectinload(Order.lines))).all()
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(orders, key=lambda o: (o.ship_by or far, o.order_date or far, o.id))


def _left_out(order: Order, reason: str) -> LeftOut:
    return LeftOut(order.number, order.customer_order_id, reason)


def _why_nothing(order: Order) -> str:
    if order.import_error:
        return "not imported yet (Error): no address or lines to print"
    if order.status == OrderStatus.CANCELED:
        return "canceled: nothing to ship"
    return "nothing to ship"


def _quantities(order: Order, package: dict[int, int] | None) -> list[tuple[OrderLine, int]]:
    """What goes in the box: a package's units; else the units still to ship; else, for an
    order shipped in full (a slip printed again), the units shipped."""
    if package is not None:
        return [(line, package[line.id]) for line in order.lines if package.get(line.id)]
    still = [(line, line.open_qty) for line in order.lines if line.open_qty]
    return still or [(line, line.shipped_qty) for line in order.lines if line.shipped_qty]


def _address(parts: dict) -> list[str]:
    place = " ".join(x for x in (", ".join(x for x in (parts.get("city"), parts.get("state"))
                                           if x), parts.get("postalCode")) if x)
    return [x for x in (parts.get("name"), parts.get("address1"), parts.get("address2"), place,
                        parts.get("country")) if x]


def _ship_to(order: Order) -> list[str]:
    return _address({"name": order.ship_name or order.customer_name,
                     "address1": order.address1, "address2": order.address2,
                     "city": order.city, "state": order.state,
                     "postalCode": order.postal_code, "country": order.country})


def _return_centres(lines: list[OrderLine]) -> list[ReturnCentre]:
    centres: dict[tuple, ReturnCentre] = {}
    for line in lines:
        if line.return_center:
            address = _address(line.return_center)
            centre = centres.setdefault(tuple(address), ReturnCentre(address, []))
            if line.sku not in centre.skus:
                centre.skus.append(line.sku)
    return list(centres.values())


def _slip(order: Order, quantities: list[tuple[OrderLine, int]], package: bool) -> Slip:
    prices = bool(order.store.slip_prices)
    centres = _return_centres([line for line, _units in quantities])
    return Slip(
        order_id=order.id, number=order.number, customer_order_id=order.customer_order_id,
        barcode=code128_svg(order.customer_order_id), heading=order.store.slip_name,
        order_date=order.order_date, ship_by=order.ship_by, ship_method=order.ship_method,
        ship_to=_ship_to(order),
        lines=[SlipLine(line.sku, line.product_name, units,
                        line.unit_price if prices else None) for line, units in quantities],
        currency=order.currency, prices=prices,
        return_centres=centres, returns_note=RETURN_CENTRE if centres else WALMART_RETURNS,
        package=package)


def _package_lines(package_id: int) -> dict[int, int]:
    return {line_id: units for line_id, units in db.session.execute(
        select(ShipmentLine.order_line_id, ShipmentLine.quantity)
        .where(ShipmentLine.package_id == package_id))}


def slips(order_ids: list[int], package_id: int | None = None) -> Document:
    """A packing slip per order that has something to put in a box."""
    package = _package_lines(package_id) if package_id else None
    document = Document(PrintKind.SLIPS, [], [])
    for order in _in_document_order(order_ids):
        quantities = [] if order.import_error else _quantities(order, package)
        if not quantities:
            document.left_out.append(_left_out(order, _why_nothing(order)))
            continue
        document.slips.append(_slip(order, quantities, package is not None))
        document.order_ids.append(order.id)
    return document


def _on_hand(pairs: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """Units on hand per (store, SKU), over its ship nodes, where the team tracks it."""
    if not pairs:
        return {}
    rows = db.session.execute(
        select(SkuStock.store_id, SkuStock.sku, func.sum(SkuStock.on_hand))
        .where(tuple_(SkuStock.store_id, SkuStock.sku).in_(pairs), SkuStock.on_hand.is_not(None))
        .group_by(SkuStock.store_id, SkuStock.sku))
    return {(store_id, sku): int(units) for store_id, sku, units in rows}


def pick_list(order_ids: list[int]) -> Document:
    """One sheet: every SKU still to ship in these orders, summed, sorted by SKU, with the
    orders needing it (by customer order number) and the units on hand where tracked."""
    document = Document(PrintKind.PICK_LIST, [], [])
    rows: dict[str, PickRow] = {}
    stores: dict[str, dict[int, str]] = {}  # SKU → the stores whose orders need it
    for order in _in_document_order(order_ids):
        open_lines = [] if order.import_error else [x for x in order.lines if x.open_qty]
        if not open_lines:
            document.left_out.append(_left_out(order, _why_nothing(order)))
            continue
        document.order_ids.append(order.id)
        for line in open_lines:
            row = rows.setdefault(line.sku, PickRow(line.sku, line.product_name))
            row.quantity += line.open_qty
            row.orders.append((order.customer_order_id or order.number or "", line.open_qty))
            stores.setdefault(line.sku, {})[order.store_id] = order.store.name
    on_hand = _on_hand({(store_id, sku) for sku, ids in stores.items() for store_id in ids})
    for sku, row in rows.items():
        row.on_hand = [(name, on_hand[(store_id, sku)])
                       for store_id, name in sorted(stores[sku].items(), key=lambda x: x[1])
                       if (store_id, sku) in on_hand]
    document.pick_rows = [rows[sku] for sku in sorted(rows)]
    document.stores = len({store_id for ids in stores.values() for store_id in ids})
    return document


def build(kind: PrintKind, order_ids: list[int], package_id: int | None = None) -> Document:
    return slips(order_ids, package_id) if kind == PrintKind.SLIPS else pick_list(order_ids)
