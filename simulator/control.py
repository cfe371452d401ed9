"""Everything `python -m simulator …` can do, as functions on the simulator's state file."""

from __future__ import annotations

import json
import random
import sqlite3
import zlib
from collections.abc import Sequence
from pathlib import Path

from simulator import events, generator, orders, returns, rules
from simulator.data import MAX_PER_QUERY
from simulator.db import connect, get_setting, now_ms, set_setting, transaction
from simulator.gateway import EVENT_FAULTS, FAULT_KINDS, PAGING_FAULTS, REPLENISH_FORMATS

FAULT_KEYS = {
              # notifications (endpoint `events`): see simulator.events
              "lost_rate", "duplicate_rate", "delay_rate", "reorder_rate", "wrong_password_rate",
              "delay_seconds", "reorder_seconds",
              "down", "error_rate", "timeout_rate", "timeout_after_rate", "malformed_rate",
              "throttle_rate", "reject_rate", "hang_seconds", "next", "replenish_format",
              "replenish_seconds",
              # paging faults of the order searches (pages read through nextCursor)
              "replay_page_rate", "repeat_cursor_rate", "short_count_rate"}


def conn_for(db_path: str | Path) -> sqlite3.Connection:
    return connect(db_path)


def add_seller(conn: sqlite3.Connection, seller_id: str, client_id: str, client_secret: str,
               name: str | None = None) -> None:
    """A Walmart seller account; its client id/secret are what Orderdeck's store uses."""
    with transaction(conn):
        conn.execute("INSERT INTO sellers (seller_id, partner_id, name, client_id, "
                     "client_secret) VALUES (?, ?, ?, ?, ?) ON CONFLICT (seller_id) DO UPDATE "
                     "SET client_id = excluded.client_id, client_secret = excluded.client_secret,"
                     " name = excluded.name",
                     (seller_id, f"1000{zlib.crc32(seller_id.encode()) % 10**6:06d}",
                      name or seller_id, client_id, client_secret))


def set_client_secret(conn: sqlite3.Connection, seller_id: str, client_secret: str) -> None:
    """The seller regenerates the secret in Seller Center: the old one is refused from now on."""
    with transaction(conn):
        if conn.execute("UPDATE sellers SET client_secret = ? WHERE seller_id = ?",
                        (client_secret, seller_id)).rowcount != 1:
            raise KeyError(f"no seller {seller_id}")


def forbid(conn: sqlite3.Connection, seller_id: str, *, token: bool = False,
           endpoints: tuple[str, ...] | list[str] = ()) -> dict:
    """Make the seller's credentials lack a permission: `token` refuses the token itself with
    403; `endpoints` (e.g. ("shipping",), or ("*",) for every business call) answer 403
    FORBIDDEN to a valid token. Nothing forbidden clears it (see `allow`)."""
    config = {"token": bool(token), "endpoints": list(endpoints)}
    with transaction(conn):
        set_setting(conn, f"forbidden:{seller_id}", config if token or endpoints else {})
    return config


def allow(conn: sqlite3.Connection, seller_id: str) -> None:
    """The permission is granted again in Seller Center."""
    forbid(conn, seller_id)


def seed_orders(conn: sqlite3.Connection, seller_id: str, count: int, seed: int = 1,
                days: float = 3.0, intent_rate: float = 0.03,
                ship_nodes: Sequence[str] = (), ship_due: bool = False) -> int:
    """Create `count` new released orders (deterministic for a given seed); with `ship_nodes`
    they come from those nodes in turn, and the first named becomes the seller's default node
    unless it has one. With `ship_due`, a seller's history: every order whose estimated ship
    date has passed was shipped whole in Seller Center on that date (last modified then);
    only the newer ones are still released."""
    now = now_ms(conn)
    created = 0
    made = generator.make_orders(seed, count, now, days, intent_rate, ship_nodes)
    with transaction(conn):
        named = [node for node in ship_nodes if node]
        if named and not returns.default_node(conn, seller_id):
            set_setting(conn, f"default_node:{seller_id}", named[0])
        for order in made:
            # Last modified when placed, as at Walmart (not all at this same instant).
            modified = min(order["orderDate"], now)
            shipped_on = order["shippingInfo"]["estimatedShipDate"]
            if ship_due and shipped_on <= now:
                _ship_in_seller_center(order, shipped_on, f"1Z{order['purchaseOrderId']}")
                modified = shipped_on
            if orders.save(conn, seller_id, order, modified, insert=True):
                created += 1
    return created


def set_default_node(conn: sqlite3.Connection, seller_id: str, node: str | None) -> None:
    """The seller's default ship node: the one Walmart updates when a call names none."""
    with transaction(conn):
        set_setting(conn, f"default_node:{seller_id}", node or "")


def inventory(conn: sqlite3.Connection, seller_id: str) -> dict[tuple[str, str], int]:
    """The seller's quantities by (sku, ship node); "" = its default node when none is set."""
    return {(row["sku"], row["ship_node"]): row["amount"] for row in conn.execute(
        "SELECT sku, ship_node, amount FROM inventory WHERE seller_id = ?", (seller_id,))}


def update_order(conn: sqlite3.Connection, seller_id: str, po: str, change,
                 quiet: bool = False) -> dict:
    """Change an order as Walmart would. `quiet`: its last-modified time stays as it was, so
    a search by lastModifiedStartDate does not find it again (an update Walmart made without
    it showing in the searches: what only a reconciliation, reading the order, can notice)."""
    with transaction(conn):
        order = orders.load(conn, seller_id, po)
        if order is None:
            raise KeyError(f"no order {po} for seller {seller_id}")
        now = now_ms(conn)
        change(order, now)
        orders.save(conn, seller_id, order, order["modified"] if quiet else now)
    return order


def buyer_cancel(conn, seller_id: str, po: str, line: str | None = None) -> int:
    counted = []
    update_order(conn, seller_id, po,
                 lambda order, now: counted.append(rules.buyer_cancel(order, now, line)))
    return counted[0]


def seller_center_ship(conn, seller_id: str, po: str, tracking_number: str,
                       carrier: str = "UPS", lines: dict[str, int] | None = None,
                       method: str = "Standard", quiet: bool = False) -> dict:
    """The seller ships in Seller Center (not through the API client): acknowledged units of
    `lines` ({line number: quantity}; default every acknowledged unit), under Walmart's rules
    for a shipment. Unacknowledged units are acknowledged first, as Seller Center does, and a
    buyer's request to cancel is overridden (Seller Center asks, the seller confirms)."""
    return update_order(conn, seller_id, po, lambda order, now: _ship_in_seller_center(
        order, now, tracking_number, carrier, lines, method), quiet=quiet)


def _ship_in_seller_center(order: dict, now: int, tracking_number: str, carrier: str = "UPS",
                           lines: dict[str, int] | None = None,
                           method: str = "Standard") -> None:
    if any(line["created"] for line in order["lines"]):
        rules.acknowledge(order, now)
    wanted = lines or {line["lineNumber"]: line["acknowledged"] for line in order["lines"]
                       if line["acknowledged"]}
    rules.ship(order, {"orderShipment": {"orderLines": {"orderLine": [
        {"lineNumber": number, "intentToCancelOverride": True,  # (confirmed there)
         "orderLineStatuses": {"orderLineStatus": [{
            "status": "Shipped",
            "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(quantity)},
            "trackingInfo": {"shipDateTime": now, "methodCode": method,
                             "carrierName": {"carrier": carrier},
                             "trackingNumber": tracking_number}}]}}
        for number, quantity in wanted.items()]}}}, now)


def seller_center_cancel(conn, seller_id: str, po: str, line: str | None = None,
                         reason: str = "SELLER_CANCEL_OUT_OF_STOCK", quiet: bool = False) -> int:
    """The seller cancels what is not yet shipped by hand in Seller Center."""
    counted = []
    update_order(conn, seller_id, po,
                 lambda order, now: counted.append(rules.buyer_cancel(order, now, line, reason)),
                 quiet=quiet)
    return counted[0]


def seller_center_acknowledge(conn, seller_id: str, po: str, quiet: bool = False) -> None:
    """Another tool (or Seller Center) acknowledges the whole order."""
    update_order(conn, seller_id, po, rules.acknowledge, quiet=quiet)


def lose_update(conn, seller_id: str, po: str, line: str | None = None) -> int:
    """Walmart loses what it had recorded for the order's lines (all, or `line`): shipped
    and cancelled units, and the acknowledgement, are back in Created, as if the updates had
    never reached it, and nothing in its searches shows a change (the last-modified time
    stays). Returns the units moved back. Walmart has never been seen to do this; it stands
    for any update of ours Walmart does not show (a "Fixed in Seller Center" that was not, a
    restore at Walmart), which only a reconciliation can find."""
    moved = []

    def forget(order, _now):
        count = 0
        for entry in order["lines"]:
            if line is not None and entry["lineNumber"] != line:
                continue
            back = entry["acknowledged"] + sum(s["qty"] for s in entry["shipments"]) + \
                sum(c["qty"] for c in entry["cancellations"])
            count += back
            entry["created"] += back
            entry["acknowledged"], entry["shipments"], entry["cancellations"] = 0, [], []
        moved.append(count)
    update_order(conn, seller_id, po, forget, quiet=True)
    return moved[0]


def seller_center_refund(conn, seller_id: str, rma: str,
                         lines: dict[int, int] | None = None) -> dict:
    """The seller refunds a return by hand in Seller Center (return line number: units; by
    default every unit not refunded yet). The return's last-modified time moves, as any
    refund moves it."""
    return returns.seller_center_refund(conn, seller_id, rma, lines)


def seller_center_stock(conn, seller_id: str, sku: str, amount: int,
                        ship_node: str | None = None) -> None:
    """Someone sets the SKU's quantity in Seller Center (or another tool does): at `ship_node`,
    else at the seller's default node."""
    returns.put_inventory(conn, seller_id, sku, {"sku": sku, "quantity": {
        "unit": "EACH", "amount": int(amount)}}, ship_node)


def intent_to_cancel(conn, seller_id: str, po: str, line: str | None = None) -> None:
    """The buyer asks to cancel; subscribers hear INTENT_TO_CANCEL."""
    def mark(order, _now):
        marked = []
        for entry in order["lines"]:
            if line is None or entry["lineNumber"] == line:
                entry["intentToCancel"] = True
                marked.append(entry["lineNumber"])
        events.emit(conn, seller_id, "INTENT_TO_CANCEL", order, marked)
    update_order(conn, seller_id, po, mark)


def fraud_cancel(conn, seller_id: str, po: str, line: str | None = None) -> int:
    """Walmart cancels what is not shipped as fraud (its own reason code is not published:
    the simulator leaves it null, as for an auto-cancel); subscribers hear FRAUD_CANCEL."""
    counted = []

    def cancel(order, now):
        counted.append(rules.buyer_cancel(order, now, line, reason=None))
        events.emit(conn, seller_id, "FRAUD_CANCEL", order,
                    [line] if line else [x["lineNumber"] for x in order["lines"]])
    update_order(conn, seller_id, po, cancel)
    return counted[0]


def subscriptions(conn, seller_id: str) -> list[dict]:
    """The seller's notification subscriptions as Walmart lists them (password masked)."""
    from simulator import webhooks

    return webhooks.listing(conn, seller_id, {})["events"]


def deliveries(conn, seller_id: str | None = None) -> list[dict]:
    """Every notification drawn up (for one seller), oldest first: its event, state
    (pending, delivered, failed, lost), attempts, the subscriber's last answer and fault."""
    rows = conn.execute("SELECT * FROM deliveries" + (" WHERE seller_id = ?" if seller_id
                                                      else "") + " ORDER BY id",
                        (seller_id,) if seller_id else ())
    return [{**dict(row), "body": json.loads(row["body"])} for row in rows]


def deliver_events(conn) -> int:
    """Send the notifications that are due now (the server's dispatcher does it too)."""
    return events.deliver_due(conn)


def deliver(conn, seller_id: str, po: str | None = None) -> int:
    """Deliver what is shipped on one order, or on every order of the seller."""
    if po:
        counted = []
        update_order(conn, seller_id, po, lambda o, now: counted.append(rules.deliver(o, now)))
        return counted[0]
    total = 0
    pos = [r["po"] for r in conn.execute("SELECT po FROM orders WHERE seller_id = ?",
                                         (seller_id,))]
    for each in pos:
        total += deliver(conn, seller_id, each)
    return total


def open_return(conn, seller_id: str, po: str, lines: dict[str, int] | None = None,
                reason: str | None = None, seed: int | None = None,
                received: bool = False) -> dict:
    return returns.open_return(conn, seller_id, po, lines, reason,
                               random.Random(seed) if seed is not None else None, received)


def receive_return(conn, seller_id: str, rma: str) -> None:
    """The returned item arrived back at the seller (return status DELIVERED)."""
    with transaction(conn):
        row = conn.execute("SELECT doc FROM returns WHERE seller_id = ? AND rma = ?",
                           (seller_id, rma)).fetchone()
        if row is None:
            raise KeyError(rma)
        doc = json.loads(row["doc"])
        doc["received"] = True
        returns._save(conn, seller_id, doc, now_ms(conn))


def advance_clock(conn, hours: float) -> int:
    """Move the simulator's clock; applies Walmart's auto-cancel. Returns lines cancelled."""
    with transaction(conn):
        set_setting(conn, "clock_offset_ms",
                    int(get_setting(conn, "clock_offset_ms", 0)) + int(hours * 3600 * 1000))
        return orders.auto_cancel_due(conn, now_ms(conn))


def set_max_per_query(conn, count: int = MAX_PER_QUERY) -> None:
    """How many orders one search may match before Walmart refuses it (10,000; lower it to
    exercise window splitting with few orders)."""
    with transaction(conn):
        set_setting(conn, "max_per_query", int(count))


def set_rate_scale(conn, scale: float, seller_id: str | None = None) -> None:
    """Multiply every rate limit (e.g. 100 for fast tests and benchmarks); with `seller_id`,
    only that seller's (its own scale wins over the simulator's). The default is 1: Walmart's
    limits."""
    if not scale > 0 or scale == float("inf"):
        raise ValueError("the rate scale must be a positive number")
    with transaction(conn):
        if seller_id is None:
            set_setting(conn, "rate_scale", scale)
            conn.execute("DELETE FROM buckets")
        else:
            if conn.execute("SELECT 1 FROM sellers WHERE seller_id = ?",
                            (seller_id,)).fetchone() is None:
                raise KeyError(f"no seller {seller_id}")
            set_setting(conn, f"rate_scale:{seller_id}", scale)
            conn.execute("DELETE FROM buckets WHERE seller_id = ?", (seller_id,))


def set_faults(conn, endpoint: str, **config) -> dict:
    """Fault injection for one endpoint (or '*'); an empty config clears it."""
    unknown = set(config) - FAULT_KEYS
    if unknown:
        raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
    if config.get("replenish_format", "epoch_ms") not in REPLENISH_FORMATS:
        raise ValueError(f"replenish_format is one of {', '.join(REPLENISH_FORMATS)}")
    kinds = (set(config.get("next") or {}) - set(FAULT_KINDS) - set(PAGING_FAULTS)
             - set(EVENT_FAULTS))
    if kinds:
        raise ValueError(f"unknown fault kinds: {', '.join(sorted(kinds))}")
    with transaction(conn):
        if not config:
            conn.execute("DELETE FROM faults WHERE endpoint = ?", (endpoint,))
        else:
            conn.execute("INSERT INTO faults (endpoint, config) VALUES (?, ?) ON CONFLICT "
                         "(endpoint) DO UPDATE SET config = excluded.config",
                         (endpoint, json.dumps(config)))
    return config


def clear_faults(conn) -> None:
    with transaction(conn):
        conn.execute("DELETE FROM faults")


def counters(conn) -> dict[str, dict[str, int]]:
    """Calls per endpoint and status (from the request log)."""
    result: dict[str, dict[str, int]] = {}
    for row in conn.execute("SELECT endpoint, status, count(*) AS n FROM requests "
                            "GROUP BY endpoint, status"):
        result.setdefault(row["endpoint"] or "?", {})[str(row["status"])] = row["n"]
    return result


def order_state(conn, seller_id: str, po: str) -> dict:
    """One order as Walmart would answer GET /v3/orders/{po}."""
    order = orders.load(conn, seller_id, po)
    if order is None:
        raise KeyError(po)
    return orders.render(order)
