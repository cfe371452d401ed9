"""Each generated order's story, from the moment it was placed until now (bench/seed.py).

Rows are tuples in the order of COLUMNS, with values as the database stores them: times as
SQLAlchemy's text for UTC (SQLite compares that text; PostgreSQL parses it), money as text.
"""

from __future__ import annotations

import random
from bisect import bisect
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from bench.seed_data import (
    CANCEL_REASONS,
    CARRIERS,
    CITIES,
    FIRST,
    LAST,
    RETURN_REASONS,
    SHIP_ERRORS,
    SHIP_METHODS,
    STREET_KINDS,
    STREETS,
    catalogue,
)

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
CANCEL_LABELS = {"SELLER_CANCEL_OUT_OF_STOCK": "Out of stock",
                 "CUSTOMER_REQUESTED_SELLER_TO_CANCEL": "Customer asked to cancel"}
SHIP_DAYS = {"OneDay": 1, "Express": 1, "Standard": 2, "Value": 3}   # placed → Ship By
TRANSIT_DAYS = {"OneDay": 1, "Express": 2, "Standard": 5, "Value": 7}  # Ship By → Deliver By
SHIPPERS = [("csv upload", 50), ("bench@example.com", 40), ("cli", 10)]
NUMBER_BASE = 100000  # as webapp/services/orders/storing.py numbers orders
TAX = 0.07
CLOCK = [f"{s // HOUR:02d}:{s % HOUR // 60:02d}:{s % 60:02d}.000000" for s in range(DAY)]


def scramble(n: int, digits: int, factor: int) -> int:
    """A distinct, random-looking number below 10**digits for each n < 10**digits (`factor`
    shares no divisor with 10, so this is a permutation)."""
    return (n * factor + 1_234_567) % 10 ** digits


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


class Story:
    """The orders and what follows them, generated oldest first in batches."""

    def __init__(self, store_ids: list[int], count: int, seed: int, days: int,
                 postgres: bool) -> None:
        self.rng = random.Random(seed)
        self.random = self.rng.random
        self.stores, self.count, self.days = store_ids, count, days
        self.store_cum = list(accumulate(1 / (k + 1) ** 1.5 for k in range(len(store_ids))))
        self.now = int(datetime.now(UTC).timestamp())
        self.tz = "+00" if postgres else ""
        self.items = catalogue(seed)
        tail = [1 / (rank + 10) for rank in range(len(self.items))]  # a few SKUs sell most
        self.rng.shuffle(tail)
        self.item_cum = list(accumulate(tail))
        self.carriers, carrier_weights = zip(*CARRIERS, strict=True)
        self.carrier_cum = list(accumulate(carrier_weights))
        self.shippers, shipper_weights = zip(*SHIPPERS, strict=True)
        self.shipper_cum = list(accumulate(shipper_weights))
        self.day_text: dict[int, str] = {}
        self.last_ids = {table: 0 for table in TABLES}
        self.customers: list[tuple] = []
        self.samples: dict = {}
        self.rows: dict[str, list] = {}

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

    # --- the timeline ----------------------------------------------------------------------
    def day_counts(self) -> list[int]:
        """Orders per day, oldest first: weekdays busier, Nov–Dec busier, growing over time;
        exactly `count` in all."""
        start = datetime.fromtimestamp(self.now, UTC).date() - timedelta(days=self.days - 1)
        weights = []
        for k in range(self.days):
            day = start + timedelta(days=k)
            weights.append((0.8 if day.weekday() >= 5 else 1.05) *
                           (1.5 if day.month in (11, 12) else 1.0) * (0.7 + 0.6 * k / self.days))
        total = sum(weights)
        exact = [self.count * w / total for w in weights]
        counts = [int(x) for x in exact]
        by_remainder = sorted(range(self.days), key=lambda k: counts[k] - exact[k])
        for k in by_remainder[:self.count - sum(counts)]:
            counts[k] += 1
        return counts

    def batches(self, chunk: int):
        """Rows by table, `chunk` orders at a time."""
        self.rows = {table: [] for table in TABLES}
        first_second = self.now - self.days * DAY
        for k, n in enumerate(self.day_counts()):
            # The last day ends now; orders come at any hour, more of them later in the day.
            start = first_second + k * DAY
            for placed in sorted(start + int(DAY * self.random() ** 0.8) for _ in range(n)):
                self.order(self.next_id("orders"), min(placed, self.now - 60))
                if self.last_ids["orders"] % chunk == 0:
                    yield self.rows
                    self.rows = {table: [] for table in TABLES}
        if self.rows["orders"]:
            yield self.rows

    def customer(self) -> tuple:
        """(name, e-mail, phone, address1, address2, city, state, ZIP); one in five orders is
        from a returning customer."""
        rng = self.rng
        if self.customers and self.random() < 0.2:
            return self.pick(self.customers)
        city, state, zip_prefix = self.pick(CITIES)
        found = (f"{self.pick(FIRST)} {self.pick(LAST)}",
                 f"{rng.getrandbits(128):032X}@relay.walmart.com",
                 f"{self.between(2012000000, 9899999999)}",
                 f"{self.between(1, 9999)} {self.pick(STREETS)} {self.pick(STREET_KINDS)}",
                 f"Apt {self.between(1, 40)}{self.pick('ABCD')}" if self.random() < 0.2 else None,
                 city, state, f"{zip_prefix}{self.between(0, 99):02d}")
        if len(self.customers) < 20_000:
            self.customers.append(found)
        else:
            self.customers[rng.randrange(20_000)] = found
        return found

    # --- one order -------------------------------------------------------------------------
    def order(self, oid: int, placed: int) -> None:
        now, ts = self.now, self.ts
        store = self.weighted(self.stores, self.store_cum)
        name, email, phone, address1, address2, city, state, zip_code = self.customer()
        method = self.pick(SHIP_METHODS)
        ship_by = placed + SHIP_DAYS[method] * DAY
        po = f"1{scramble(oid, 12, 7_919_011):012d}"
        customer_order = f"2{scramble(oid, 12, 3_141_593):012d}"
        count = self.weighted((1, 2, 3, 4), (70, 90, 97, 100))
        picked = list(dict.fromkeys(self.weighted(self.items, self.item_cum)
                                    for _ in range(count)))
        quantities = [self.weighted((1, 2, 3, 4), (80, 93, 98, 100)) for _ in picked]
        acknowledged = now >= placed + self.between(60, 900)
        # The story: canceled, shipped (late, in two shipments, refused by Walmart), returned.
        fate = self.random()
        canceled = intent = False
        reason = details = None
        shipments: list[tuple[int, list[int]]] = []  # (when, line indexes) that happened
        error_task = returned = None
        updated = placed
        if fate < 0.10:
            reason = self.pick(CANCEL_REASONS)
            cancel_at = placed + self.between(600, 2 * DAY)
            buyer = reason == "CUSTOMER_REQUESTED_SELLER_TO_CANCEL"
            intent = buyer and now >= placed + (cancel_at - placed) // 3
            canceled = now >= cancel_at
            updated = cancel_at if canceled else placed + (cancel_at - placed) // 3 if intent \
                else placed
        else:
            late = self.random() < 0.04
            ship_at = ship_by + self.between(HOUR, 3 * DAY) if late else \
                placed + self.between(2 * HOUR, ship_by - placed - HOUR)
            lines = list(range(len(picked)))
            if len(picked) >= 2 and self.random() < 0.15:  # the last line follows later
                second_at = ship_at + self.between(DAY, 4 * DAY)
                plan = [(ship_at, lines[:-1]), (second_at, lines[-1:])]
            else:
                plan = [(ship_at, lines)]
            shipments = [(at, which) for at, which in plan if now >= at]
            refused = len(plan) == 1 and self.random() < 0.015
            if refused and shipments:
                fixed_at = None if self.random() < 0.05 else \
                    ship_at + self.between(6 * HOUR, 5 * DAY)
                # (error, when it was fixed in Seller Center; None: still in Error)
                error_task = (self.pick(SHIP_ERRORS), fixed_at if fixed_at and fixed_at <= now
                              else None)
            if fate < 0.14 and len(shipments) == len(plan):
                request_at = plan[-1][0] + self.between(3 * DAY, 25 * DAY)
                if now >= request_at:
                    refund_at = request_at + self.between(DAY, 8 * DAY)
                    returned = (request_at, refund_at if now >= refund_at else None,
                                self.pick(RETURN_REASONS))
            updated = max([at for at, _ in shipments] + [placed])
        shipped = {i for _, which in shipments for i in which}
        # Lines.
        line_ids, cents = [], 0
        refunded_line = 0 if returned and returned[1] else None
        refunded_cents = 0
        for i, ((sku, product, price), quantity) in enumerate(zip(picked, quantities,
                                                                  strict=True)):
            lid = self.next_id("order_lines")
            line_ids.append(lid)
            tax = round(price * quantity * TAX)
            cents += price * quantity + tax
            units = quantity if i in shipped else 0
            delivered = units if units and now >= shipments[-1][0] + 4 * DAY else 0
            refunded = quantity if i == refunded_line else 0
            if refunded:
                refunded_cents = price * quantity + tax
            state = ("Cancelled" if canceled else "Refund" if refunded else
                     "Delivered" if delivered else "Shipped" if units else
                     "Acknowledged" if acknowledged else "Created")
            self.add("order_lines", (
                lid, oid, str(i + 1), sku, product, quantity, money(price), money(tax), "0.00",
                units, delivered, quantity if canceled else 0, refunded, acknowledged,
                intent, reason if canceled else None, f'{{"{state}": {quantity}}}'))
        # Shipments, their packages and tracking numbers, and the sync tasks that sent them.
        for n, (at, which) in enumerate(shipments):
            failing = error_task is not None and n == 0
            tid = self.task(oid, store, "ship", po, at, error_task if failing else None)
            sid = self.next_id("shipments")
            self.add("shipments", (sid, oid, tid, ts(at), ts(at), self.weighted(
                self.shippers, self.shipper_cum), False))
            parcels = [which[:1], which[1:]] if len(which) >= 2 and self.random() < 0.1 \
                else [which]
            for parcel in parcels:
                self.package(sid, parcel, line_ids, quantities, method, oid, po)
        if canceled:
            self.task(oid, store, "cancel", po, updated, None)
        # A return, open or refunded.
        open_return = None
        if returned:
            rid = self.return_row(oid, store, po, customer_order, name, picked[0], quantities[0],
                                  line_ids[0], returned)
            request_at, refund_at, _why = returned
            open_return = None if refund_at else rid
            updated = refund_at or request_at
        # Status and Status details, as webapp/services/orders/status.py derives them.
        erroring = error_task is not None and error_task[1] is None
        if error_task is not None and not erroring:
            updated = max(updated, error_task[1])
        status = ("Error" if erroring else "Canceled" if canceled else
                  "Return requested" if open_return else
                  "Shipped" if shipped and len(shipped) == len(picked) else
                  "Partially Shipped" if shipped else "Open")
        parts = []
        if erroring:
            parts.append(f"Walmart ship failed: {error_task[0][2]}")
        if intent and not canceled:
            parts.append("Buyer asked to cancel")
        if refunded_cents:
            parts.append(f"Refunded ${refunded_cents / 100:,.2f}")
        if open_return:
            parts.append("Return requested")
        if canceled:
            parts.append(f"Reason: {CANCEL_LABELS[reason]}")
        details = "; ".join(parts) or None
        self.add("orders", (
            oid, store, str(NUMBER_BASE + oid), po, customer_order, name, email, phone, name,
            address1, address2, city, state, zip_code, "USA", "RESIDENTIAL", ts(placed),
            ts(ship_by), ts(ship_by + TRANSIT_DAYS[method] * DAY), method, "USD", money(cents),
            status, details, intent, False, open_return is not None, open_return, False,
            ts(placed), ts(min(updated, now))))
        self.sample(oid, po, customer_order, name, picked[0][0])

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
            "UPS": lambda: f"1Z{scramble(oid % 997, 6, 7):06d}03{scramble(pid, 8, 13):08d}",
            "USPS": lambda: f"9400{scramble(pid, 18, 7_777_777):018d}",
            "FedEx": lambda: f"7{scramble(pid, 11, 1_234_567):011d}",
            "OnTrac": lambda: f"D{scramble(pid, 14, 3_333_333):014d}",
            "DHL": lambda: f"{scramble(pid, 10, 9_876_543):010d}",
        }[carrier]()
        self.add("shipment_packages", (pid, sid, carrier, method, number,
                                       TRACKING_URLS[carrier].format(number)))
        for i in parcel:
            self.add("shipment_lines", (self.next_id("shipment_lines"), pid, line_ids[i],
                                        quantities[i]))
        if "tracking" not in self.samples and oid >= self.count // 2:
            self.samples.update(tracking=number, tracking_po=po)

    def return_row(self, oid, store, po, customer_order, name, item, quantity, line_id,
                   returned) -> int:
        request_at, refund_at, reason = returned
        rid = self.next_id("returns")
        sku, product, price = item
        tax = round(price * quantity * TAX)
        total = money(price * quantity + tax)
        rma = f"{scramble(rid, 12, 9_999_991):012d}"
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

    def sample(self, oid: int, po: str, customer_order: str, name: str, sku: str) -> None:
        """What the benchmark searches for, one per meaning, from orders half-way through."""
        if oid == self.count // 2 or oid == self.count:
            self.samples.setdefault("po", po)
            self.samples.setdefault("customer_order", customer_order)
            self.samples.setdefault("number", str(NUMBER_BASE + oid))
            self.samples.setdefault("sku", sku)
            self.samples.setdefault("sku_prefix", sku.rsplit("-", 1)[0])  # a model, any colour
            self.samples.setdefault("name2", name[:2])  # a prefix of the name
        last = name.split()[-1]
        if oid >= self.count // 2 and "name6" not in self.samples and len(last) >= 8:
            middle = len(last) // 2  # fragments from inside the last name, not its start
            self.samples.update(customer=last, name3=last[middle - 1:middle + 2].lower(),
                                name6=last[middle - 3:middle + 3].lower())
