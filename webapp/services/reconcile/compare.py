"""What differs between Orderdeck's record and Walmart's view: per order line (ordered,
acknowledged, shipped and canceled quantities, tracking numbers), per order line from the
returns (refunded quantities), per tracked SKU (the stock Walmart holds against what we last
pushed). Pure comparisons: nothing is written here, and nothing is compared that Walmart did
not answer for."""

from __future__ import annotations

from dataclasses import dataclass, field

from webapp.models import Order, OrderLine, SkuStock
from webapp.services.orders.walmart_differences import walmart_words
from webapp.services.orders.walmart_shipments import SHIPPED, _key
from webapp.walmart.schema import OrderLine as WalmartLine
from webapp.walmart.schema import PurchaseOrder
from webapp.walmart.schema_returns import InventoryLevel

# MISSING: Walmart answers 404 for the order itself (an order-wide finding, no line).
MISSING = "missing"
ORDER_KINDS = ("ordered", "acknowledged", "shipped", "canceled", "tracking", MISSING)
REFUNDED, STOCK = "refunded", "stock"
KINDS = (*ORDER_KINDS, REFUNDED, STOCK)


@dataclass(frozen=True)
class Found:
    """One difference: its kind, both sides in words, and the figures compared (`detail`:
    "ours" and "walmart", and the line number for an order's kinds)."""
    kind: str
    ours: str
    walmart: str
    detail: dict = field(default_factory=dict)
    line_id: int | None = None

    @property
    def key(self) -> tuple:
        return (self.line_id, self.kind, str(self.detail.get("line") or ""))


def units(n: int) -> str:
    return f"{n} unit{'' if n == 1 else 's'}"


def walmart_shipped(line: WalmartLine) -> int:
    return line.quantity_in("Shipped") + line.quantity_in("Delivered")


def walmart_numbers(line: WalmartLine) -> set[str]:
    """The tracking numbers of the line's shipped or delivered units, compared as stored."""
    return {_key(s.tracking.number) for s in line.statuses
            if s.status in SHIPPED and s.tracking and s.tracking.number and s.quantity > 0}


def _numbers_text(numbers) -> str:
    return ", ".join(sorted(numbers)) if numbers else "none"


def order(order: Order, data: PurchaseOrder, tracking: dict[str, dict[str, int]],
          skip_lines: set[str] = frozenset()) -> list[Found]:
    """Every difference between the order's lines and Walmart's (`tracking`: our tracking
    numbers per line number, {number: units}; `skip_lines`: line numbers another finding
    already covers, e.g. a "Fixed in Seller Center" check)."""
    found: list[Found] = []
    ours_by_number = {line.line_number: line for line in order.lines}
    for line in order.lines:
        if line.line_number in skip_lines:
            continue
        theirs = data.line(line.line_number)
        found.extend(_line(line, theirs, tracking.get(line.line_number, {})))
    for theirs in data.lines:  # a line Walmart has and we do not (never seen here)
        if theirs.line_number not in ours_by_number and theirs.line_number not in skip_lines:
            found.append(Found("ordered", "no such line here",
                               f"{units(theirs.quantity)} ordered ({walmart_words(theirs)})",
                               {"line": theirs.line_number, "ours": 0,
                                "walmart": theirs.quantity}))
    return found


def _line(line: OrderLine, theirs: WalmartLine | None, ours_numbers: dict[str, int]
          ) -> list[Found]:
    number = line.line_number

    def found(kind: str, ours_text: str, walmart_text: str, ours, walmart, **extra) -> Found:
        return Found(kind, ours_text, walmart_text,
                     {"line": number, "ours": ours, "walmart": walmart, **extra}, line.id)

    if theirs is None:
        return [found("ordered", f"{units(line.quantity)} ordered",
                      "no such line on Walmart's order", line.quantity, 0)]
    out = []
    if theirs.quantity != line.quantity:
        out.append(found("ordered", f"{units(line.quantity)} ordered",
                         f"{units(theirs.quantity)} ordered", line.quantity, theirs.quantity))
    created = theirs.quantity_in("Created")
    if line.acknowledged and created:
        out.append(found("acknowledged", "acknowledged",
                         f"{units(created)} not acknowledged ({walmart_words(theirs)})",
                         True, False))
    elif not line.acknowledged and not created and theirs.quantity:
        out.append(found("acknowledged", "not acknowledged",
                         f"acknowledged ({walmart_words(theirs)})", False, True))
    shipped = walmart_shipped(theirs)
    if shipped != line.shipped_qty:
        out.append(found("shipped", f"{units(line.shipped_qty)} shipped",
                         f"{units(shipped)} shipped ({walmart_words(theirs)})",
                         line.shipped_qty, shipped,
                         walmart_numbers=sorted(walmart_numbers(theirs))))
    elif shipped and ours_numbers:
        numbers = walmart_numbers(theirs)
        if numbers != set(ours_numbers):
            out.append(found("tracking", f"tracking {_numbers_text(ours_numbers)}",
                             f"tracking {_numbers_text(numbers)}", sorted(ours_numbers),
                             sorted(numbers)))
    canceled = theirs.quantity_in("Cancelled")
    if canceled != line.canceled_qty:
        out.append(found("canceled", f"{units(line.canceled_qty)} canceled",
                         f"{units(canceled)} canceled ({walmart_words(theirs)})",
                         line.canceled_qty, canceled))
    return out


def refunded(line: OrderLine | None, ours: int, walmart: int, rmas: list[str],
             line_number: str) -> Found | None:
    """The line's refunded units over the returns read (`rmas`): ours against Walmart's."""
    if ours == walmart:
        return None
    where = f" (return {', '.join(sorted(rmas))})" if rmas else ""
    return Found(REFUNDED, f"{units(ours)} refunded", f"{units(walmart)} refunded{where}",
                 {"line": line_number, "ours": ours, "walmart": walmart, "rmas": sorted(rmas)},
                 line.id if line is not None else None)


def stock(held: SkuStock, level: InventoryLevel | None) -> Found | None:
    """What we last pushed for a tracked SKU against what Walmart holds (None: Walmart has no
    inventory for it)."""
    walmart = level.amount if level is not None else None
    if walmart == held.pushed_quantity:
        return None
    walmart_text = (f"{units(walmart)} available" if walmart is not None
                    else "no inventory for this SKU")
    return Found(STOCK, f"{units(held.pushed_quantity or 0)} last sent "
                        f"({units(held.available or 0)} available now)", walmart_text,
                 {"ours": held.pushed_quantity, "walmart": walmart,
                  "available": held.available})
