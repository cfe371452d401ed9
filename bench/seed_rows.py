"""The rows of the generated shop (bench/seed.py), as the database stores them: tuples in the
order of COLUMNS, times as SQLAlchemy's text for UTC (SQLite compares that text; PostgreSQL
parses it), money as text. Rows writes the rows that follow from an order's story
(bench/seed_story.py): its sync tasks, packages, returns and refunds.
"""

from __future__ import annotations

import random
from bisect import bisect
from datetime import datetime, timedelta
from itertools import accumulate

from bench.seed_data import CARRIERS

HOUR, DAY = 3600, 86400
COLUMNS = {
    "orders": ("id", "store_id", "number", "purchase_order_id", "customer_order_id",
               "customer_name", "customer_email", "phone", "ship_name", "address1", "address2",
               "city", "state", "postal_code", "country", "address_type", "order_date",
               "ship_by", "deliver_by", "ship_method", "currency", "order_value", "status",
               "status_details", "intent_to_cancel", "in_flight", "return_open",
               "open_return_id", "walmart_disagrees", "created_at", "updated_at"),
    "order_lines": ("id", "order_id", "line_number", "sku", "product_name", "quantity",
                    "unit_price", "tax", "shipping", "shipped_qty", "delivered_qty",
                    "canceled_qty", "refunded_qty", "acknowledged", "intent_to_cancel",
                    "cancellation_reason", "walmart_statuses"),
    "sync_tasks": ("id", "store_id", "order_id", "kind", "target", "state", "attempts",
                   "read_backs", "attempts_before_retry", "claims", "next_attempt_at",
                   "ambiguous", "stuck", "urgent", "last_error_code", "last_error_field",
                   "last_error_message", "created_at", "updated_at", "synced_at", "failed_at",
                   "resolved_at", "resolution_note", "paused_seconds"),
    "shipments": ("id", "order_id", "task_id", "ship_time", "created_at", "created_by",
                  "intent_to_cancel_override"),
    "shipment_packages": ("id", "shipment_id", "carrier", "method_code", "tracking_number",
                          "tracking_url"),
    "shipment_lines": ("id", "package_id", "order_line_id", "quantity"),
    "returns": ("id", "store_id", "rma", "customer_order_id", "customer_name", "requested_at",
                "return_by", "total_refund_amount", "currency", "status", "created_at",
                "updated_at", "refunds_started"),
    "return_lines": ("id", "return_id", "number", "order_id", "order_line_id",
                     "purchase_order_id", "purchase_order_line", "sku", "product_name", "reason",
                     "quantity", "refunded_qty", "unit_price", "tax_total", "shipping_total",
                     "line_total"),
    "refunds": ("id", "return_id", "task_id", "amount", "lines", "restocked", "expected",
                "amounts", "created_at", "created_by"),
}
TABLES = list(COLUMNS)
TRACKING_URLS = {"UPS": "https://www.ups.com/track?tracknum={}",
                 "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
                 "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
                 "DHL": "https://www.dhl.com/us-en/home/tracking.html?tracking-id={}",
                 "OnTrac": "https://www.ontrac.com/tracking/?number={}"}
NUMBER_BASE = 100000  # as webapp/services/orders/storing.py numbers orders
TAX = 0.07
CLOCK = [f"{s // HOUR:02d}:{s % HOUR // 60:02d}:{s % 60:02d}.000000" for s in range(DAY)]


def scramble(n: int, digits: int, salt: int) -> str:
    """`digits` digits, distinct for each n < 10**digits and random-looking: n times a
    multiplier that is an irrational fraction of 10**digits (as Fibonacci hashing does),
    modulo 10**digits. The multiplier is odd and not a multiple of 5, so the map is a
    permutation; `salt` picks another fraction (the root of another prime) for another kind of
    number."""
    prime = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31)[salt]
    factor = int(10 ** digits * (prime ** 0.5 % 1)) | 1
    factor += 2 if factor % 5 == 0 else 0
    return f"{n * factor % 10 ** digits:0{digits}d}"


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


class Rows:
    """Rows by table for one batch, ids counted across batches, random draws."""

    def __init__(self, seed: int, postgres: bool) -> None:
        self.rng = random.Random(seed)
        self.random = self.rng.random
        self.tz = "+00" if postgres else ""
        self.day_text: dict[int, str] = {}
        self.last_ids = {table: 0 for table in TABLES}
        self.rows: dict[str, list] = {table: [] for table in TABLES}
        self.samples: dict = {}
        self.count = 0
        self.middle = 0  # samples come from this order on
        self.carriers, carrier_weights = zip(*CARRIERS, strict=True)
        self.carrier_cum = list(accumulate(carrier_weights))

    # --- values as the database stores them ---------------------------------------------
    def ts(self, seconds: int | None) -> str | None:
        """SQLAlchemy's text for an aware UTC datetime (on PostgreSQL with its zone)."""
        if seconds is None:
            return None
        day, rest = divmod(seconds, DAY)
        text = self.day_text.get(day)
        if text is None:
            text = self.day_text[day] = (datetime(1970, 1, 1) + timedelta(days=day)) \
                .strftime("%Y-%m-%d ")
        return text + CLOCK[rest] + self.tz

    # Random draws: random.Random's own choices() and randint() cost several times more.
    def between(self, low: int, high: int) -> int:
        return low + int(self.random() * (high - low + 1))

    def pick(self, values):
        return values[int(self.random() * len(values))]

    def weighted(self, values, cum: list):
        return values[bisect(cum, self.random() * cum[-1])]

    def add(self, table: str, row: tuple) -> None:
        self.rows[table].append(row)

    def next_id(self, table: str) -> int:
        self.last_ids[table] += 1
        return self.last_ids[table]

    def task(self, oid: int, store: int, kind: str, po: str, at: int, error) -> int:
        """A sync task that went out at `at`: synced, or refused (then fixed, or still in
        Error)."""
        tid = self.next_id("sync_tasks")
        if error is None:
            self.add("sync_tasks", (tid, store, oid, kind, po, "synced", 1, 0, 0, 1, self.ts(at),
                                    False, False, True, None, None, None, self.ts(at),
                                    self.ts(at + 2), self.ts(at + 2), None, None, None, 0))
            return tid
        (code, field, message), fixed_at = error
        self.add("sync_tasks", (
            tid, store, oid, kind, po, "resolved" if fixed_at else "error", 3, 0, 0, 3,
            self.ts(at + 600), False, False, False, code, field, message, self.ts(at),
            self.ts(fixed_at or at + 600), None, self.ts(at + 600), self.ts(fixed_at),
            "Fixed in Seller Center" if fixed_at else None, 0))
        return tid

    def package(self, sid: int, parcel: list[int], line_ids: list[int], quantities: list[int],
                method: str, oid: int, po: str) -> None:
        pid = self.next_id("shipment_packages")
        carrier = self.weighted(self.carriers, self.carrier_cum)
        number = {
            "UPS": lambda: f"1Z{scramble(oid % 997, 6, 3)}03{scramble(pid, 8, 4)}",
            "USPS": lambda: f"9400{scramble(pid, 18, 5)}",
            "FedEx": lambda: f"7{scramble(pid, 11, 6)}",
            "OnTrac": lambda: f"D{scramble(pid, 14, 7)}",
            "DHL": lambda: f"{scramble(pid, 10, 8)}",
        }[carrier]()
        self.add("shipment_packages", (pid, sid, carrier, method, number,
                                       TRACKING_URLS[carrier].format(number)))
        for i in parcel:
            self.add("shipment_lines", (self.next_id("shipment_lines"), pid, line_ids[i],
                                        quantities[i]))
        if "tracking" not in self.samples and oid >= self.middle:
            self.samples.update(tracking=number, tracking_po=po)

    def return_row(self, oid, store, po, customer_order, name, item, quantity, line_id,
                   returned) -> int:
        request_at, refund_at, reason = returned
        rid = self.next_id("returns")
        sku, product, price = item
        tax = round(price * quantity * TAX)
        total = money(price * quantity + tax)
        rma = f"{scramble(rid, 12, 9)}"
        self.add("returns", (rid, store, rma, customer_order,
                             name, self.ts(request_at), self.ts(request_at + 30 * DAY), total,
                             "USD", "Refunded" if refund_at else "Received", self.ts(request_at),
                             self.ts(refund_at or request_at), 1 if refund_at else 0))
        self.add("return_lines", (self.next_id("return_lines"), rid, 1, oid, line_id, po, 1, sku,
                                  product, reason, quantity, quantity if refund_at else 0,
                                  money(price), money(tax), "0.00", total))
        if refund_at:  # refunded from Orderdeck: the refund and the task that sent it
            tid = self.task(oid, store, "refund", rma, refund_at, None)
            amounts = (f'{{"1": {{"units": {quantity}, "unit_price": "{money(price)}", '
                       f'"price": "{money(price * quantity)}", "tax": "{money(tax)}", '
                       f'"shipping": "0.00", "other": "0.00", "total": "{total}", '
                       f'"estimated": false}}}}')
            self.add("refunds", (self.next_id("refunds"), rid, tid, total,
                                 f'{{"1": {quantity}}}', "[]", f'{{"1": {quantity}}}', amounts,
                                 self.ts(refund_at), "bench@example.com"))
        return rid
