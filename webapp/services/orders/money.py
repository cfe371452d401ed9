"""An order's money as Channel Manager's order view shows it: subtotal, shipping, tax, total,
and what of it was canceled or refunded."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.models import Order, OrderLine, Refund, ReturnLine, TaskState
from webapp.services.returns.refund_amounts import ZERO
from webapp.services.returns.refund_amounts import cents as _cents


@dataclass(frozen=True)
class Payment:
    """Money as Decimal, in the order's currency."""
    subtotal: Decimal  # price × quantity of every line, as ordered
    shipping: Decimal
    tax: Decimal
    canceled: Decimal  # the charges of the canceled units (Walmart does not charge them)
    refunded: Decimal  # refunds sent (and accepted or on their way), and Walmart's own
    refund_pending: Decimal  # the part of `refunded` still on its way to Walmart

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping + self.tax

    @property
    def net(self) -> Decimal:
        """What the buyer pays in the end."""
        return self.total - self.canceled - self.refunded


def unit_charge(line: OrderLine) -> Decimal:
    """One unit's price and its share of the line's tax (Walmart taxes per unit)."""
    tax = line.tax / line.quantity if line.quantity else ZERO
    return line.unit_price + tax


def canceled_charges(line: OrderLine) -> Decimal:
    """The canceled units' price and tax; the line's shipping too once every unit is canceled
    (Walmart charges shipping while any unit of the line is left)."""
    if not line.canceled_qty or not line.quantity:
        return ZERO
    if line.canceled_qty >= line.quantity:
        return line.unit_price * line.quantity + line.tax + line.shipping
    return _cents(unit_charge(line) * line.canceled_qty)


def _refunds(order: Order) -> tuple[Decimal, Decimal]:
    """(refunded, of which on its way): every refund recorded for this order's return lines
    that Walmart did not refuse, plus units Walmart refunded itself (no refund of ours: its
    own refund of a late return), at the line's price and tax."""
    returns = select(ReturnLine.return_id).where(ReturnLine.order_id == order.id)
    return_lines = db.session.scalars(
        select(ReturnLine).where(ReturnLine.return_id.in_(returns))).all()
    if not return_lines:
        return ZERO, ZERO
    by_number = {(x.return_id, x.number): x for x in return_lines}
    refunds = db.session.scalars(
        select(Refund).where(Refund.return_id.in_(returns))
        .options(selectinload(Refund.task)).order_by(Refund.id)).all()
    ours: dict[int, int] = {}  # return line id → units our refunds made (in any state)
    refunded = pending = ZERO
    for refund in refunds:
        for number, quantity in refund.lines.items():
            x = by_number.get((refund.return_id, int(number)))
            if x is not None:
                ours[x.id] = ours.get(x.id, 0) + int(quantity)
        state = refund.task.state if refund.task else TaskState.SYNCED
        if state == TaskState.ERROR:  # Walmart refused it: nothing was refunded
            continue
        share = _share(refund, by_number, order.id)
        refunded += share
        if state == TaskState.PENDING:
            pending += share
    lines = {x.id: x for x in order.lines}
    for x in return_lines:
        walmart_own = x.refunded_qty - ours.get(x.id, 0)
        line = lines.get(x.order_line_id) if x.order_id == order.id else None
        if walmart_own > 0 and line is not None:
            refunded += _cents(unit_charge(line) * walmart_own)
    return refunded, pending


def _share(refund: Refund, by_number: dict, order_id: int) -> Decimal:
    """The part of a refund's amount that is this order's: the totals of its lines that are
    this order's, as the return page shows them (a refund from before per-line figures: all
    of it when every line is this order's, else in proportion to the lines' prices)."""
    if refund.amounts is not None:
        return sum((Decimal(str(figures.get("total") or "0"))
                    for number, figures in refund.amounts.items()
                    if (x := by_number.get((refund.return_id, int(number)))) is not None
                    and x.order_id == order_id), ZERO)
    parts = [(x, int(quantity)) for number, quantity in refund.lines.items()
             if (x := by_number.get((refund.return_id, int(number)))) is not None]
    mine = [(x, q) for x, q in parts if x.order_id == order_id]
    if len(mine) == len(parts):
        return refund.amount if mine else ZERO
    total = sum((x.unit_price * q for x, q in parts), ZERO)
    if not total:
        return ZERO
    return _cents(refund.amount * sum((x.unit_price * q for x, q in mine), ZERO) / total)


def payment(order: Order) -> Payment:
    """The Payment information of one order."""
    refunded, pending = _refunds(order)
    return Payment(
        subtotal=sum((x.unit_price * x.quantity for x in order.lines), ZERO),
        shipping=sum((x.shipping for x in order.lines), ZERO),
        tax=sum((x.tax for x in order.lines), ZERO),
        canceled=sum((canceled_charges(x) for x in order.lines), ZERO),
        refunded=refunded, refund_pending=pending)
