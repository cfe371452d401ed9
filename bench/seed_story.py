"""Each generated order's story, from the moment it was placed until now (bench/seed.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import accumulate

from bench.seed_data import (
    CANCEL_REASONS,
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
from bench.seed_rows import (
    DAY,
    HOUR,
    NUMBER_BASE,
    TABLES,
    TAX,
    Rows,
    money,
    scramble,
)

SHIP_DAYS = {"OneDay": 1, "Express": 1, "Standard": 2, "Value": 3}   # placed → Ship By
TRANSIT_DAYS = {"OneDay": 1, "Express": 2, "Standard": 5, "Value": 7}  # Ship By → Deliver By
SHIPPERS = [("csv upload", 50), ("bench@example.com", 40), ("cli", 10)]
CANCEL_LABELS = {"SELLER_CANCEL_OUT_OF_STOCK": "Out of stock",
                 "CUSTOMER_REQUESTED_SELLER_TO_CANCEL": "Customer asked to cancel"}


class Story(Rows):
    """The orders and what follows them, generated oldest first in batches."""

    def __init__(self, store_ids: list[int], count: int, seed: int, days: int,
                 postgres: bool) -> None:
        super().__init__(seed, postgres)
        self.stores, self.count, self.days = store_ids, count, days
        self.store_cum = list(accumulate(1 / (k + 1) ** 1.5 for k in range(len(store_ids))))
        self.now = int(datetime.now(UTC).timestamp())
        self.items = catalogue(seed)
        tail = [1 / (rank + 10) for rank in range(len(self.items))]  # a few SKUs sell most
        self.rng.shuffle(tail)
        self.item_cum = list(accumulate(tail))
        self.shippers, shipper_weights = zip(*SHIPPERS, strict=True)
        self.shipper_cum = list(accumulate(shipper_weights))
        self.customers: list[tuple] = []
        # Samples come from here on (not a round id: the numbers made from it would end 000).
        self.middle = min(count, count // 2 + 7)

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
        po = f"1{scramble(oid, 12, 1)}"
        customer_order = f"2{scramble(oid, 12, 2)}"
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

    def sample(self, oid: int, po: str, customer_order: str, name: str, sku: str) -> None:
        """What the benchmark searches for, one per meaning, from orders half-way through."""
        if oid == self.middle:
            self.samples.setdefault("po", po)
            self.samples.setdefault("customer_order", customer_order)
            self.samples.setdefault("number", str(NUMBER_BASE + oid))
            self.samples.setdefault("sku", sku)
            self.samples.setdefault("sku_prefix", sku.rsplit("-", 1)[0])  # a model, any colour
            self.samples.setdefault("name2", name[:2])  # a prefix of the name
        last = name.split()[-1]
        if oid >= self.middle and "name6" not in self.samples and len(last) >= 8:
            middle = len(last) // 2  # fragments from inside the last name, not its start
            self.samples.update(customer=last, name3=last[middle - 1:middle + 2].lower(),
                                name6=last[middle - 3:middle + 3].lower())

