"""Purchase orders: the line state machine (MLMQ quantity buckets) and Walmart's JSON shape.

Internally each line keeps counts: `created`, `acknowledged`, a list of `shipments`
({qty, delivered, tracking}) and of `cancellations` ({qty, reason}). Walmart's
`orderLineStatuses` are rendered from them, one entry per (status, tracking/reason) bucket.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from simulator import events
from simulator.data import AUTO_CANCEL_AFTER_MS


def shipped(line: dict) -> int:
    return sum(s["qty"] - s["delivered"] for s in line["shipments"])


def delivered(line: dict) -> int:
    return sum(s["delivered"] for s in line["shipments"])


def cancelled(line: dict) -> int:
    return sum(c["qty"] for c in line["cancellations"])


def open_units(order: dict) -> int:
    return sum(line["created"] + line["acknowledged"] for line in order["lines"])


def charged(line: dict) -> float:
    """What the buyer pays for the line's non-cancelled units (price, tax and shipping)."""
    units = line["qty"] - cancelled(line)
    return round(units * (line["unitPrice"] + line["tax"]) + (line["shipping"] if units else 0), 2)


def refunded(line: dict) -> float:
    return round(sum(r["amount"] + r["tax"] for r in line["refunds"]), 2)


def _qty(amount: int) -> dict:
    return {"unitOfMeasurement": "EACH", "amount": str(amount)}


def _money(amount: float) -> dict:
    return {"currency": "USD", "amount": round(amount, 2)}


def render_line(line: dict) -> dict:
    statuses: list[dict[str, Any]] = []
    for status, count in (("Created", line["created"]), ("Acknowledged", line["acknowledged"])):
        if count:
            statuses.append({"status": status, "statusQuantity": _qty(count),
                             "cancellationReason": None, "trackingInfo": None})
    for shipment in line["shipments"]:
        for status, count in (("Shipped", shipment["qty"] - shipment["delivered"]),
                              ("Delivered", shipment["delivered"])):
            if count:
                statuses.append({"status": status, "statusQuantity": _qty(count),
                                 "cancellationReason": None,
                                 "trackingInfo": shipment["tracking"]})
    for cancellation in line["cancellations"]:
        statuses.append({"status": "Cancelled", "statusQuantity": _qty(cancellation["qty"]),
                         "cancellationReason": cancellation["reason"], "trackingInfo": None})
    if line.get("returnCenterAddress"):  # a seller that names its return centre per line
        for status in statuses:
            status["returnCenterAddress"] = line["returnCenterAddress"]
    units = line["qty"] - cancelled(line)
    charges = [{"chargeType": "PRODUCT", "chargeName": "ItemPrice",
                "chargeAmount": _money(line["unitPrice"] * units),
                "tax": {"taxName": "Tax1", "taxAmount": _money(line["tax"] * units)}},
               {"chargeType": "SHIPPING", "chargeName": "Shipping",
                "chargeAmount": _money(line["shipping"] if units else 0), "tax": None}]
    refund = None
    if line["refunds"]:
        refund = {"refundId": line["refunds"][-1]["refundId"],
                  "refundComments": line["refunds"][-1]["comments"],
                  "refundCharges": {"refundCharge": [
                      {"refundReason": r["reason"],
                       "charge": {"chargeType": r["chargeType"], "chargeName": r["chargeName"],
                                  "chargeAmount": _money(-r["amount"]),
                                  "tax": {"taxName": "Tax1", "taxAmount": _money(-r["tax"])}}}
                      for r in line["refunds"]]}}
    return {
        "lineNumber": line["lineNumber"],
        "item": {"productName": line["productName"], "sku": line["sku"], "condition": "New"},
        "charges": {"charge": charges},
        "orderLineQuantity": _qty(line["qty"]),
        "statusDate": line["statusDate"],
        "orderLineStatuses": {"orderLineStatus": statuses},
        "refund": refund,
        "returnOrderId": line.get("returnOrderId"),
        "originalCarrierMethod": line.get("originalCarrierMethod"),
        "referenceLineId": None,
        "fulfillment": line.get("fulfillment"),
        "intentToCancel": "BUYER_REQUESTED" if line.get("intentToCancel") else None,
        "sellerOrderId": line.get("sellerOrderId"),
    }


def render(order: dict) -> dict:
    """The purchase order exactly as Walmart's JSON has it (epoch ms, string quantities)."""
    return {
        "purchaseOrderId": order["purchaseOrderId"],
        "customerOrderId": order["customerOrderId"],
        "customerEmailId": order["customerEmailId"],
        "orderType": "REGULAR",
        "orderDate": order["orderDate"],
        "buyerId": order.get("buyerId"),
        "mart": "Walmart.com",
        "isGuest": False,
        "shippingInfo": order["shippingInfo"],
        "orderLines": {"orderLine": [render_line(line) for line in order["lines"]]},
        "paymentTypes": ["CREDITCARD"],
        # A seller seeded with ship nodes gets {type, name, id}; otherwise only the type, as
        # in Walmart's own getAnOrder example.
        "shipNode": order.get("shipNode") or {"type": "SellerFulfilled"},
    }


# -- storage ------------------------------------------------------------------------------

def load(conn: sqlite3.Connection, seller_id: str, po: str) -> dict | None:
    row = conn.execute("SELECT doc FROM orders WHERE seller_id = ? AND po = ?",
                       (seller_id, po)).fetchone()
    return json.loads(row["doc"]) if row else None


def save(conn: sqlite3.Connection, seller_id: str, order: dict, now: int,
         insert: bool = False) -> bool:
    """Store the order; `insert` never overwrites an existing one (returns False then)."""
    order["modified"] = now
    values = (seller_id, order["purchaseOrderId"], order["customerOrderId"], order["orderDate"],
              now, order["shippingInfo"]["estimatedShipDate"], open_units(order),
              int(any(line["created"] for line in order["lines"])), json.dumps(order))
    if insert:
        cur = conn.execute("INSERT OR IGNORE INTO orders (seller_id, po, customer_order_id, "
                           "order_ms, modified_ms, esd_ms, open_units, has_created, doc) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
        if cur.rowcount == 1:  # a new purchase order: its subscribers hear of it
            events.emit(conn, seller_id, "PO_CREATED", order)
        return cur.rowcount == 1
    conn.execute("UPDATE orders SET customer_order_id = ?, order_ms = ?, modified_ms = ?, "
                 "esd_ms = ?, open_units = ?, has_created = ?, doc = ? "
                 "WHERE seller_id = ? AND po = ?", values[2:] + values[:2])
    return True


def auto_cancel_due(conn: sqlite3.Connection, now: int) -> int:
    """Walmart cancels lines not shipped by ship-by + 4 days. Returns lines cancelled."""
    rows = conn.execute("SELECT seller_id, doc FROM orders WHERE open_units > 0 AND esd_ms < ?",
                        (now - AUTO_CANCEL_AFTER_MS,)).fetchall()
    count = 0
    for row in rows:
        order = json.loads(row["doc"])
        cancelled_lines = []
        for line in order["lines"]:
            units = line["created"] + line["acknowledged"]
            if units:
                line["cancellations"].append({"qty": units, "reason": None, "auto": True})
                line["created"] = line["acknowledged"] = 0
                line["statusDate"] = now
                cancelled_lines.append(line["lineNumber"])
                count += 1
        save(conn, row["seller_id"], order, now)
        events.emit(conn, row["seller_id"], "PO_LINE_AUTOCANCELLED", order, cancelled_lines)
    return count
