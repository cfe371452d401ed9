"""What a refund of a return gives back, per line: price, tax, shipping and total.

Walmart refunds a return by quantity and works the money out itself (POST
/v3/returns/{rma}/refund carries no amount). What it refunds for a line's whole returned
quantity is in the line's `chargeTotals`: the item price, its tax, and the original shipping
charge when the reason is one Walmart refunds it for. A refund of some of the units gets their
share, to the cent, so that the shares of every refund of a line add up to Walmart's line
total exactly — and the return's refunds to its `totalRefundAmount`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import OrderLine, Refund, ReturnLine, TaskState

CENT = Decimal("0.01")
ZERO = Decimal("0")


@dataclass(frozen=True)
class LineAmount:
    """What refunding `units` of return line `number` gives back."""
    number: int
    units: int
    unit_price: Decimal
    price: Decimal
    tax: Decimal
    shipping: Decimal
    other: Decimal  # Walmart's fees or discounts on the line (its total less the rest)
    total: Decimal
    estimated: bool = False  # Walmart's figures not read yet: the order's tax stands in

    def as_json(self) -> dict:
        return {"units": self.units, "unit_price": str(self.unit_price),
                "price": str(self.price), "tax": str(self.tax),
                "shipping": str(self.shipping), "other": str(self.other),
                "total": str(self.total), "estimated": self.estimated}

    @classmethod
    def from_json(cls, number: int, data: dict) -> LineAmount:
        def money(key: str) -> Decimal:
            return Decimal(str(data.get(key) or "0"))
        return cls(number=number, units=int(data.get("units") or 0),
                   unit_price=money("unit_price"), price=money("price"), tax=money("tax"),
                   shipping=money("shipping"), other=money("other"), total=money("total"),
                   estimated=bool(data.get("estimated")))


def cents(value: Decimal) -> Decimal:
    """Rounded to the cent, half up (as money is shown and sent)."""
    return value.quantize(CENT, ROUND_HALF_UP)


def _share(amount: Decimal, units: int, of: int) -> Decimal:
    """The first `units` of `of` units' share of an amount, to the cent."""
    return cents(amount * units / of) if of else ZERO


def whole_line(line: ReturnLine) -> tuple[Decimal, Decimal, Decimal, Decimal, bool]:
    """(price, tax, shipping, total, estimated) for the line's whole returned quantity:
    Walmart's figures once an import read them; before that, the price and the order line's
    tax for as many units (no shipping: only Walmart says when it refunds it)."""
    price = (line.unit_price or ZERO) * line.quantity
    if line.line_total is not None:
        return (price, line.tax_total or ZERO, line.shipping_total or ZERO, line.line_total,
                False)
    order_line = db.session.get(OrderLine, line.order_line_id) if line.order_line_id else None
    tax = _share(order_line.tax or ZERO, line.quantity, order_line.quantity) \
        if order_line is not None and order_line.quantity else ZERO
    return price, tax, ZERO, price + tax, True


def for_units(line: ReturnLine, units: int, before: int | None = None) -> LineAmount:
    """Refunding `units` of the line after `before` of its units were refunded (default:
    as many as are refunded now): the difference of the two shares of each figure."""
    before = (line.refunded_qty or 0) if before is None else before
    before = max(0, min(before, line.quantity - units))
    price, tax, shipping, total, estimated = whole_line(line)

    def part(amount: Decimal) -> Decimal:
        return _share(amount, before + units, line.quantity) - \
            _share(amount, before, line.quantity)

    other = part(total - price - tax - shipping)
    price_part = (line.unit_price or ZERO) * units
    return LineAmount(number=line.number, units=units, unit_price=line.unit_price or ZERO,
                      price=price_part, tax=part(tax), shipping=part(shipping), other=other,
                      total=price_part + part(tax) + part(shipping) + other,
                      estimated=estimated)


def preview(lines: list[ReturnLine], quantities: dict[int, int]) -> list[LineAmount]:
    """What refunding `quantities` ({line number: units}, each within what is refundable)
    would give back, line by line (lines with no unit left out)."""
    return [for_units(x, quantities[x.number]) for x in lines
            if quantities.get(x.number)]


def total(amounts: list[LineAmount]) -> Decimal:
    return sum((a.total for a in amounts), ZERO)


def of_refund(refund: Refund) -> list[LineAmount]:
    """The figures a refund recorded per line (none for a refund made before they were)."""
    return [LineAmount.from_json(int(n), data)
            for n, data in sorted((refund.amounts or {}).items(), key=lambda i: int(i[0]))]


def done(refund: Refund) -> bool:
    """Refunded for sure: made outside Orderdeck, its update synced, or done by hand in
    Seller Center after Walmart refused it (resolved)."""
    return refund.task is None or refund.task.state in (TaskState.SYNCED,
                                                        TaskState.RESOLVED)


def refunded_total(refunds: list[Refund]) -> Decimal:
    return sum((r.amount for r in refunds if done(r)), ZERO)


def refunded_by(lines: list[ReturnLine], refunds: list[Refund]) -> dict[int, list[str]]:
    """Who refunded each line: the person (or Walmart, or Seller Center) of each refund that
    names it and did not fail; units no refund accounts for (refunded outside Orderdeck
    before refunds were recorded) by their refund channel."""
    names: dict[int, list[str]] = {x.number: [] for x in lines}
    counted: dict[int, int] = {}
    for refund in refunds:
        if refund.task is not None and refund.task.state == TaskState.ERROR:
            continue
        for number, units in (refund.lines or {}).items():
            number = int(number)
            counted[number] = counted.get(number, 0) + int(units)
            if number in names and refund.created_by not in names[number]:
                names[number].append(refund.created_by)
    for x in lines:
        if x.refunded_qty > counted.get(x.number, 0):
            who = channel_label(x.refund_channel)
            if who not in names[x.number]:
                names[x.number].append(who)
    return names


def channel_label(channel: str | None) -> str:
    """Who Walmart says refunded units: the seller outside Orderdeck (SELLER_MANUAL_REFUND,
    SELLER_AUTO_REFUND, SELLER_SYSTEM_REFUND) or Walmart itself (WALMART_TRIGGERED_REFUND,
    WALMART_SETTLED_REFUND, …)."""
    return "Seller Center" if (channel or "").upper().startswith("SELLER") else "Walmart"


def for_order(order_id: int) -> Decimal:
    """What the done refunds of an order's returned units gave back: the sum of the same
    line totals the returns show (a refund from before per-line figures: price only)."""
    mine: dict[int, dict[str, Decimal]] = {}  # return id → {line number: unit price}
    for return_id, number, price in db.session.execute(
            select(ReturnLine.return_id, ReturnLine.number, ReturnLine.unit_price)
            .where(ReturnLine.order_id == order_id)):
        mine.setdefault(return_id, {})[str(number)] = price or ZERO
    if not mine:
        return ZERO
    paid = ZERO
    for refund in db.session.scalars(select(Refund).where(Refund.return_id.in_(mine))):
        if not done(refund):
            continue
        lines = mine[refund.return_id]
        if refund.amounts is not None:
            paid += sum((Decimal(str(v.get("total") or "0"))
                         for n, v in refund.amounts.items() if n in lines), ZERO)
        else:
            paid += sum((lines[n] * int(q) for n, q in (refund.lines or {}).items()
                         if n in lines), ZERO)
    return paid
