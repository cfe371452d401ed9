"""Which orders a print covers: ticked ones, all matching the Orders page's filter, one order,
one package, or those of an earlier print — never more than MAX_ORDERS at once."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Order, PrintRecord, Shipment, ShipmentPackage
from webapp.services.errors import ActionRefused
from webapp.services.orders.queries import SORTS, OrderFilter, base_query

# A print a browser renders and a printer prints in reasonable time (200 slips: see
# docs/benchmarks.md); more is a sign the filter is not the one meant.
MAX_ORDERS = 500
TOO_MANY = (f"Print at most {MAX_ORDERS} orders at a time. Narrow the filter — a status, a "
            "store, dates, Needs or Not yet printed — and print again.")


def ticked(order_ids: Iterable[int | None]) -> list[int]:
    """The ticked orders that exist, in the order ticked."""
    wanted = list(dict.fromkeys(i for i in order_ids if i is not None))
    if not wanted:
        raise ActionRefused("Tick the orders to print first, or print all orders matching "
                            "the filter.")
    if len(wanted) > MAX_ORDERS:
        raise ActionRefused(f"{len(wanted)} orders are ticked. {TOO_MANY}")
    found = set(db.session.scalars(select(Order.id).where(Order.id.in_(wanted))))
    if not found:
        raise ActionRefused("None of these orders exists any more.")
    return [i for i in wanted if i in found]


def matching(f: OrderFilter) -> list[int]:
    """Every order the Orders page lists for this filter (over all its pages), at most
    MAX_ORDERS: one more is read to know there are more, never counted past it."""
    column, _direction = SORTS.get(f.sort, SORTS["ordered"])
    ids = list(db.session.scalars(base_query(f).where(column.is_not(None))
                                  .with_only_columns(Order.id).limit(MAX_ORDERS + 1)))
    if len(ids) > MAX_ORDERS:
        raise ActionRefused(f"More than {MAX_ORDERS} orders match this filter. {TOO_MANY}")
    if not ids:
        raise ActionRefused("No order matches this filter: nothing to print.")
    return ids


def of_package(package_id: int | None) -> tuple[int, int]:
    """(order id, package id) of a shipped package, for its own slip."""
    order_id = package_id and db.session.scalar(
        select(Shipment.order_id).join(ShipmentPackage)
        .where(ShipmentPackage.id == package_id))
    if not order_id:
        raise ActionRefused("This package does not exist.")
    return order_id, package_id


def of_record(record_id: int | None) -> PrintRecord:
    """An earlier print, to print again."""
    record = db.session.get(PrintRecord, record_id) if record_id else None
    if record is None:
        raise ActionRefused("This print does not exist.")
    return record
