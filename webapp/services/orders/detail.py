"""One order as a whole: found by either number, with its shipments and sync tasks, and as
plain dicts for the CLI's `orders list --json` and `orders show`."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.models import Order, Shipment, ShipmentLine, ShipmentPackage, SyncTask


def find(key: str) -> Order | None:
    """An order by our number or Walmart's purchase order id."""
    key = key.strip()
    return db.session.scalar(select(Order).where(
        or_(Order.number == key, Order.purchase_order_id == key)).order_by(Order.id).limit(1))


def shipments_of(order: Order) -> list[Shipment]:
    return list(db.session.scalars(
        select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id)
        .options(selectinload(Shipment.packages).selectinload(ShipmentPackage.lines)
                 .selectinload(ShipmentLine.order_line), selectinload(Shipment.task))))


def tasks_of(order: Order) -> list[SyncTask]:
    return list(db.session.scalars(select(SyncTask).where(SyncTask.order_id == order.id)
                                   .order_by(SyncTask.id)))


def summary(order: Order) -> dict:
    return {"number": order.number, "purchase_order_id": order.purchase_order_id,
            "customer_order_id": order.customer_order_id,
            "store": getattr(order, "store_name", None) or order.store.name,
            "status": order.status, "status_details": order.status_details,
            "customer": order.customer_name,
            "order_date": order.order_date.isoformat() if order.order_date else None,
            "ship_by": order.ship_by.isoformat() if order.ship_by else None,
            "order_value": str(order.order_value), "currency": order.currency}


def detail(order: Order) -> dict:
    data = summary(order)
    data["lines"] = [{"line_number": x.line_number, "sku": x.sku, "name": x.product_name,
                      "ordered": x.quantity, "shipped": x.shipped_qty,
                      "canceled": x.canceled_qty, "refunded": x.refunded_qty,
                      "unit_price": str(x.unit_price)} for x in order.lines]
    data["shipments"] = [
        {"id": s.id, "ship_time": s.ship_time.isoformat(), "created_by": s.created_by,
         "state": s.task.state if s.task else None,
         "packages": [{"carrier": p.carrier_name, "method": p.method_code,
                       "tracking_number": p.tracking_number, "tracking_url": p.tracking_url,
                       "lines": {x.order_line.line_number: x.quantity for x in p.lines}}
                      for p in s.packages]} for s in shipments_of(order)]
    data["sync_tasks"] = [{"id": t.id, "kind": t.kind, "state": t.state, "attempts": t.attempts,
                           "last_error": t.last_error_message,
                           "last_error_code": t.last_error_code} for t in tasks_of(order)]
    return data
