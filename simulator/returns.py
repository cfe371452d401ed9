"""Returns (RMAs), refunds for returns, and inventory."""

from __future__ import annotations

import json
import random
import sqlite3
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from simulator import orders
from simulator.data import RETURN_REASONS
from simulator.db import get_setting, now_ms, transaction
from simulator.errors import WalmartFault

DAY_MS = 24 * 3600 * 1000
CENT = Decimal("0.01")
# Reasons that are the seller's fault: Walmart refunds the buyer's original shipping charge
# with the item (as Walmart.com does "when the return is a result of our error"); for a change
# of mind it keeps it. Inferred from Walmart's buyer return policy, not from the API docs.
SHIPPING_REFUNDED = frozenset({"DAMAGED", "DEFECTIVE", "INCORRECT_ITEM", "NOT_AS_DESCRIBED",
                               "MISSING_PARTS", "ARRIVED_LATE", "LOST_IN_TRANSIT",
                               "SHIPPING_BOX_DAMAGED", "INADEQUATE_QUALITY"})


def _fault(description: str, field: str = "data", status: int = 400) -> WalmartFault:
    code = "INVALID_REQUEST_CONTENT" if status == 400 else "CONTENT_NOT_FOUND"
    return WalmartFault(status, code, description, field=field, service="GMP_RETURNS_API")


def status(doc: dict) -> str:
    """INITIATED until the item is back, DELIVERED once received, COMPLETED when refunded."""
    if all(line["refundedQty"] >= line["qty"] for line in doc["lines"]):
        return "COMPLETED"
    return "DELIVERED" if doc.get("received") else "INITIATED"


def _iso(ms: int) -> str:
    from simulator.listing import iso
    return iso(ms)


def _money(amount: float | Decimal) -> dict:
    return {"currencyAmount": float(Decimal(str(amount)).quantize(CENT, ROUND_HALF_UP)),
            "currencyUnit": "USD"}


def _cents(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT, ROUND_HALF_UP)


def _share(amount: Decimal, units: int, of: int) -> Decimal:
    """`units` of `of` units' share of an amount, to the cent (shares of all units add up)."""
    return (amount * units / of).quantize(CENT, ROUND_HALF_UP) if of else Decimal("0")


def line_charges(line: dict) -> tuple[list[dict], list[dict]]:
    """A return line's `charges` (per unit, with their tax) and `chargeTotals` (the line's
    quantity: what Walmart refunds for it). The item price and its tax always; the original
    shipping charge only when the line's reason refunds it (`shipping` on the line)."""
    qty, price, tax = line["qty"], _cents(line["unitPrice"]), _cents(line["tax"])
    shipping = _cents(line.get("shipping"))
    zero = _money(0)
    charges = [{"chargeCategory": "PRODUCT", "chargeName": "ItemPrice",
                "chargePerUnit": _money(price), "isDiscount": False, "isBillable": True,
                "tax": [{"taxName": "Tax1", "excessTax": zero, "taxPerUnit": _money(tax)}],
                "excessCharge": zero, "references": []}]
    if shipping:
        charges.append({"chargeCategory": "SHIPPING", "chargeName": "Shipping",
                        "chargePerUnit": _money(_share(shipping, 1, qty)), "isDiscount": False,
                        "isBillable": True, "tax": [], "excessCharge": zero, "references": []})
    totals = [("lineUnitPrice", price), ("lineProductTaxes", tax * qty),
              ("lineTotalTaxes", tax * qty), ("lineShippingFee", shipping),
              ("lineSubTotal", price * qty), ("lineTotal", line_total(line))]
    return charges, [{"name": name, "value": _money(value)} for name, value in totals]


def line_total(line: dict) -> Decimal:
    """Price and tax of the line's units, and its shipping when refunded."""
    return (_cents(line["unitPrice"]) + _cents(line["tax"])) * line["qty"] + \
        _cents(line.get("shipping"))


def render(doc: dict) -> dict:
    state = status(doc)
    lines = []
    for line in doc["lines"]:
        refunded = line["refundedQty"]
        line_state = "COMPLETED" if refunded >= line["qty"] else state
        charges, totals = line_charges(line)
        refund_state = ("REFUND_COMPLETED" if refunded >= line["qty"] else
                        "REFUND_INITIATED" if refunded else "NOT_REFUNDED")
        lines.append({
            "returnOrderLineNumber": line["number"], "salesOrderLineNumber": line["poLine"],
            "sellerOrderId": line.get("sellerOrderId"), "returnReason": line["reason"],
            "purchaseOrderId": line["po"], "purchaseOrderLineNumber": line["poLine"],
            "isReturnForException": False,
            "item": {"sku": line["sku"], "condition": "New", "productName": line["productName"],
                     "itemWeight": None},
            "unitPrice": _money(line["unitPrice"]),
            "charges": charges, "chargeTotals": totals,
            "cancellableQty": 0 if refunded else line["qty"],
            "quantity": {"unitOfMeasure": "EA", "measurementValue": line["qty"]},
            "refundedQty": refunded, "status": line_state, "statusTime": _iso(doc["modified"]),
            "currentRefundStatus": refund_state,
            "refundChannel": line.get("refundChannel"),
            "currentTrackingStatuses": [{"status": line_state, "statusTime": _iso(doc["modified"]),
                                         "currentRefundStatus": refund_state,
                                         "quantity": {"unitOfMeasure": "EA",
                                                      "measurementValue": line["qty"]}}],
            "refundChannels": [{"refundChannelName": line["refundChannel"], "quantity": {
                "unitOfMeasure": "EA", "measurementValue": refunded}}]
            if line.get("refundChannel") else [],
        })
    total = sum((line_total(line) for line in doc["lines"]), Decimal("0"))
    return {"returnOrderId": doc["rma"], "customerEmailId": doc["customerEmailId"],
            "customerName": doc["customerName"], "customerOrderId": doc["customerOrderId"],
            "returnType": "REFUND", "returnOrderDate": _iso(doc["created"]),
            "returnByDate": _iso(doc["returnBy"]), "refundMode": "POST_DELIVERY",
            "totalRefundAmount": _money(total), "returnLineGroups": [],
            "returnOrderLines": lines, "returnChannel": {"channelName": "ONLINE"}}


def _load(conn: sqlite3.Connection, seller_id: str, rma: str) -> dict | None:
    row = conn.execute("SELECT doc FROM returns WHERE seller_id = ? AND rma = ?",
                       (seller_id, rma)).fetchone()
    return json.loads(row["doc"]) if row else None


def _save(conn: sqlite3.Connection, seller_id: str, doc: dict, now: int) -> None:
    doc["modified"] = now
    conn.execute("INSERT INTO returns (seller_id, rma, customer_order_id, created_ms, "
                 "modified_ms, doc) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (seller_id, rma) DO "
                 "UPDATE SET modified_ms = excluded.modified_ms, doc = excluded.doc",
                 (seller_id, doc["rma"], doc["customerOrderId"], doc["created"], now,
                  json.dumps(doc)))


def refund(conn: sqlite3.Connection, seller_id: str, rma: str, body: Any) -> dict:
    """POST /v3/returns/{rma}/refund — by quantity, never by amount."""
    if not isinstance(body, dict) or not body.get("customerOrderId") or \
            not isinstance(body.get("refundLines"), list) or not body["refundLines"]:
        raise _fault("Invalid request. One or more mandatory fields are missing.")
    with transaction(conn):
        doc = _load(conn, seller_id, rma)
        if doc is None:
            raise _fault("The return order number is not valid.", field="returnOrderId")
        if str(body["customerOrderId"]) != doc["customerOrderId"]:
            raise _fault("customerOrderId does not match the return order.",
                         field="customerOrderId")
        plan = []
        for entry in body["refundLines"]:
            number = entry.get("returnOrderLineNumber") if isinstance(entry, dict) else None
            if number is None:
                if len(doc["lines"]) > 1:
                    raise _fault("Return Order has more than one line. Please specify "
                                 "ReturnOrderLineNumber to be refunded.",
                                 field="returnOrderLineNumber")
                number = doc["lines"][0]["number"]
            if not isinstance(number, int) or isinstance(number, bool):
                raise _fault("returnOrderLineNumber must be an integer",
                             field="returnOrderLineNumber")
            quantity = (entry.get("quantity") or {}).get("measurementValue")
            if not isinstance(quantity, int | float) or isinstance(quantity, bool) or \
                    quantity <= 0 or int(quantity) != quantity:
                raise _fault("Invalid request. quantity.measurementValue must be a positive "
                             "number.", field="quantity")
            line = next((x for x in doc["lines"] if x["number"] == number), None)
            if line is None:
                raise _fault(f"Invalid returnOrderLineNumber {number}",
                             field="returnOrderLineNumber")
            if line["refundedQty"] + int(quantity) > line["qty"]:
                raise _fault("Requested quantity is not available. Please check if there is "
                             "refundable quantity.", field="quantity")
            plan.append((line, int(quantity)))
        for line, quantity in plan:
            line["refundedQty"] += quantity
            line["refundChannel"] = "SELLER_MANUAL_REFUND"
        _save(conn, seller_id, doc, now_ms(conn))
    return {"returnOrderId": rma, "customerOrderId": doc["customerOrderId"],
            "refundLines": [{"returnOrderLineNumber": line["number"],
                             "quantity": {"unitOfMeasure": "EA", "measurementValue": quantity}}
                            for line, quantity in plan]}


def walmart_refunds(conn: sqlite3.Connection, seller_id: str, rma: str) -> dict:
    """Walmart refunds the buyer itself (e.g. the seller's refund window passed)."""
    with transaction(conn):
        doc = _load(conn, seller_id, rma)
        if doc is None:
            raise KeyError(rma)
        for line in doc["lines"]:
            if line["refundedQty"] < line["qty"]:
                line["refundedQty"] = line["qty"]
                line["refundChannel"] = "WALMART_TRIGGERED_REFUND"
        _save(conn, seller_id, doc, now_ms(conn))
    return doc


def seller_center_refund(conn: sqlite3.Connection, seller_id: str, rma: str,
                         lines: dict[int, int] | None = None) -> dict:
    """The seller refunds the return by hand in Seller Center (see control)."""
    with transaction(conn):
        doc = _load(conn, seller_id, rma)
        if doc is None:
            raise KeyError(rma)
        for line in doc["lines"]:
            left = line["qty"] - line["refundedQty"]
            units = min(left, (lines or {}).get(line["number"], left if lines is None else 0))
            if units > 0:
                line["refundedQty"] += units
                line["refundChannel"] = "SELLER_MANUAL_REFUND"
        _save(conn, seller_id, doc, now_ms(conn))
    return doc


def open_return(conn: sqlite3.Connection, seller_id: str, po: str,
                lines: dict[str, int] | None = None, reason: str | None = None,
                rng: random.Random | None = None, received: bool = False) -> dict:
    """The buyer returns shipped units of `po` (all shipped units unless `lines` says)."""
    rng = rng or random.Random()
    with transaction(conn):
        order = orders.load(conn, seller_id, po)
        if order is None:
            raise KeyError(po)
        now = now_ms(conn)
        return_lines = []
        for line in order["lines"]:
            available = orders.shipped(line) + orders.delivered(line)
            wanted = (lines or {}).get(line["lineNumber"], available if lines is None else 0)
            if wanted <= 0:
                continue
            if wanted > available:
                raise ValueError(f"line {line['lineNumber']} has only {available} shipped unit(s)")
            why = reason or rng.choice(RETURN_REASONS)
            before = line.get("returnedQty", 0)  # units of the line in earlier returns
            line["returnedQty"] = before + wanted
            shipping = _cents(line.get("shipping"))
            return_lines.append({
                "number": len(return_lines) + 1, "po": po, "poLine": int(line["lineNumber"]),
                "sku": line["sku"], "productName": line["productName"],
                "reason": why, "qty": wanted,
                "refundedQty": 0, "unitPrice": line["unitPrice"], "tax": line["tax"],
                # The returned units' share of the line's shipping charge, when refunded.
                "shipping": float(_share(shipping, before + wanted, line["qty"]) -
                                  _share(shipping, before, line["qty"]))
                if why in SHIPPING_REFUNDED else 0.0,
                "sellerOrderId": line.get("sellerOrderId"), "refundChannel": None})
        if not return_lines:
            raise ValueError(f"order {po} has nothing shipped to return")
        rma = str(rng.randrange(10**17, 10**18))
        doc = {"rma": rma, "customerOrderId": order["customerOrderId"],
               "customerEmailId": order["customerEmailId"],
               "customerName": order.get("customerName") or {"firstName": "Walmart",
                                                             "lastName": "Customer"},
               "created": now, "returnBy": now + 30 * DAY_MS, "received": received,
               "lines": return_lines}
        _save(conn, seller_id, doc, now)
        for line in order["lines"]:
            if any(r["poLine"] == int(line["lineNumber"]) for r in return_lines):
                line["returnOrderId"] = rma
        orders.save(conn, seller_id, order, now)
    return doc


def default_node(conn: sqlite3.Connection, seller_id: str) -> str:
    """The seller's default ship node ("" when none was set)."""
    return get_setting(conn, f"default_node:{seller_id}", "") or ""


def inventory_node(conn: sqlite3.Connection, seller_id: str, ship_node: str | None) -> str:
    """Where an inventory call lands: the node it names, else the seller's default node."""
    return ship_node or default_node(conn, seller_id)


def get_inventory(conn: sqlite3.Connection, seller_id: str, sku: str,
                  ship_node: str | None) -> dict:
    """GET /v3/inventory?sku=…[&shipNode=…]: the quantity at that node (default: the
    seller's default node)."""
    row = conn.execute("SELECT amount FROM inventory WHERE seller_id = ? AND sku = ? AND "
                       "ship_node = ?", (seller_id, sku,
                                         inventory_node(conn, seller_id, ship_node))).fetchone()
    if row is None:
        raise WalmartFault(404, "CONTENT_NOT_FOUND", f"No inventory for sku {sku}",
                           service="GMP_INVENTORY_API", severity="INFO")
    return {"sku": sku, "quantity": {"unit": "EACH", "amount": row["amount"]}}


def put_inventory(conn: sqlite3.Connection, seller_id: str, sku: str, body: Any,
                  ship_node: str | None = None) -> dict:
    """PUT /v3/inventory?sku=…[&shipNode=…] with {sku, quantity: {unit: EACH, amount: <n>}}:
    sets the quantity at that node; without shipNode, at the seller's default node."""
    service = "GMP_INVENTORY_API"
    if not isinstance(body, dict):
        raise WalmartFault(400, "MALFORMED_REQUEST_CONTENT", "Request body is not valid JSON",
                           service=service)
    if body.get("sku") != sku:
        raise WalmartFault(400, "INVALID_REQUEST_CONTENT", "sku in the body must match the "
                           "sku query parameter", field="sku", service=service)
    quantity = body.get("quantity")
    if not isinstance(quantity, dict) or quantity.get("unit") != "EACH":
        raise WalmartFault(400, "INVALID_REQUEST_CONTENT", "quantity.unit must be EACH",
                           field="quantity.unit", service=service)
    amount = quantity.get("amount")
    if not isinstance(amount, int | float) or isinstance(amount, bool) or amount < 0:
        raise WalmartFault(400, "INVALID_REQUEST_CONTENT", "quantity.amount must be a "
                           "non-negative number", field="quantity.amount", service=service)
    with transaction(conn):
        conn.execute("INSERT INTO inventory (seller_id, sku, ship_node, amount) VALUES "
                     "(?, ?, ?, ?) ON CONFLICT (seller_id, sku, ship_node) DO UPDATE SET "
                     "amount = excluded.amount",
                     (seller_id, sku, inventory_node(conn, seller_id, ship_node), int(amount)))
    return {"sku": sku, "quantity": {"unit": "EACH", "amount": int(amount)}}
