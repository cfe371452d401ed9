"""Refunding a return, fully or partly, with an optional return to stock."""

from __future__ import annotations

from typing import NoReturn

from sqlalchemy import and_, exists, select, update
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import (
    Refund,
    Return,
    ReturnLine,
    SkuStock,
    Store,
    SyncTask,
    TaskKind,
    TaskState,
    User,
)
from webapp.services import audit
from webapp.services.errors import ActionRefused
from webapp.services.returns import refund_amounts
from webapp.services.returns.linking import link_order
from webapp.services.returns.status import refresh as refresh_return
from webapp.services.stock import levels as stock
from webapp.services.stock import ship_nodes
from webapp.services.stores.mode import refuse_if_read_only
from webapp.services.sync import outbox
from webapp.services.unit_of_work import action
from webapp.walmart import payloads

ALREADY_SUBMITTED = "This refund was already submitted."
ON_ITS_WAY = "A refund of this return is already on its way to Walmart."


def _pending_refund(return_id: int):
    """A refund of this return whose sync task is still pending (SQL, for one statement)."""
    return exists().where(and_(Refund.return_id == return_id, SyncTask.id == Refund.task_id,
                               SyncTask.state == TaskState.PENDING))


def _start(ret: Return, form_token: str | None) -> None:
    """Claim the return for one refund, or refuse. The check that no refund is on its way and
    the claim are one conditional UPDATE of the return's row, guarded by the counter read just
    before: of two refunds at the same instant, the second waits for the first's row lock and
    then finds the counter moved (PostgreSQL re-checks the row; SQLite serialises writers)."""
    if form_token and db.session.scalar(select(Refund.id).where(Refund.form_token == form_token)):
        raise ActionRefused(ALREADY_SUBMITTED, field="form_token")
    seen = db.session.scalar(select(Return.refunds_started).where(Return.id == ret.id))
    claimed = db.session.execute(
        update(Return).where(Return.id == ret.id, Return.refunds_started == seen,
                             ~_pending_refund(ret.id))
        .values(refunds_started=Return.refunds_started + 1)
        .execution_options(synchronize_session=False)).rowcount == 1
    if claimed:
        return
    db.session.rollback()
    if form_token and db.session.scalar(select(Refund.id).where(Refund.form_token == form_token)):
        raise ActionRefused(ALREADY_SUBMITTED, field="form_token")
    if db.session.scalar(select(_pending_refund(ret.id))):
        raise ActionRefused(ON_ITS_WAY)
    raise ActionRefused("The return changed meanwhile; reload it and refund again.")


@action
def refund_return(return_id: int, quantities: dict[int, int], restock: set[int] | None = None,
                  *, by: User | None, actor: str | None = None,
                  form_token: str | None = None) -> Refund:
    """Refund `quantities` ({return line number: units}) of a return through one sync task.
    `form_token` is the refund form's one-time token: a second submit of it is refused."""
    ret = db.session.get(Return, return_id)
    if ret is None:
        raise ActionRefused("There is no such return.")
    refuse_if_read_only(db.session.get(Store, ret.store_id))
    if form_token and len(form_token) > 64:
        raise ActionRefused("The form is damaged; reload the page and refund again.",
                            field="form_token")
    _start(ret, form_token)
    try:
        return _refund(ret, quantities, restock, by=by, actor=actor, form_token=form_token)
    except IntegrityError as exc:  # the same form, submitted twice at the same instant
        db.session.rollback()
        raise ActionRefused(ALREADY_SUBMITTED, field="form_token") from exc


def _refund(ret: Return, quantities: dict[int, int], restock: set[int] | None, *,
            by: User | None, actor: str | None, form_token: str | None) -> Refund:
    lines = {x.number: x for x in ret.lines}
    wanted = {}
    for number, quantity in quantities.items():
        line = lines.get(int(number))
        if line is None:
            _refuse(f"This return has no line {number}.", field="lines")
        if not isinstance(quantity, int) or quantity < 0:
            _refuse("Quantities are whole numbers, 0 or more.", field="lines")
        if quantity > line.refundable:
            _refuse(f"Line {number} ({line.sku}): only {line.refundable} unit(s) "
                    f"can still be refunded, not {quantity}.", field="lines")
        if quantity:
            wanted[line.number] = quantity
    if not wanted:
        _refuse("Refund at least one unit.", field="lines")
    restocked = sorted(n for n in (restock or set()) if n in wanted and lines[n].sku)
    rows = stock_rows(ret)
    for number in restocked:  # say so rather than put units back on a count nobody keeps
        if rows.get(number) is None or not rows[number].tracked:
            _refuse(f"Line {number} ({lines[number].sku}): Orderdeck does not track this "
                    "SKU's stock, so its units cannot go back on hand. Start tracking it "
                    "first, or refund without Back on hand.", field="restock")
    expected, amounts = {}, {}
    for number, quantity in wanted.items():
        line = lines[number]
        result = db.session.execute(
            update(ReturnLine).where(ReturnLine.id == line.id,
                                     ReturnLine.quantity - ReturnLine.refunded_qty >= quantity)
            .values(refunded_qty=ReturnLine.refunded_qty + quantity)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            _refuse("The return changed meanwhile; reload it and refund again.")
        db.session.refresh(line, ["refunded_qty"])
        expected[str(number)] = line.refunded_qty
        # Its figures as the form showed them: these units' share after those refunded before.
        amounts[number] = refund_amounts.for_units(line, quantity, line.refunded_qty - quantity)
    for number in restocked:  # the units are back on the shelf, at the order's node
        stock.adjust(ret.store_id, lines[number].sku, on_hand=wanted[number],
                     node=rows[number].ship_node)
    amount = refund_amounts.total(list(amounts.values()))
    body = payloads.return_refund(ret.customer_order_id, sorted(wanted.items()))
    task = outbox.add_task(ret.store_id, TaskKind.REFUND, ret.rma, payload=body)
    refund = Refund(return_id=ret.id, task=task, amount=amount,
                    lines={str(n): q for n, q in wanted.items()}, restocked=restocked,
                    amounts={str(n): a.as_json() for n, a in amounts.items()},
                    expected=expected, created_by_id=by.id if by else None,
                    created_by=actor or (by.email if by else "system"), form_token=form_token)
    db.session.add(refund)
    db.session.flush()
    refresh_return(ret)
    for order in {x.order for x in ret.lines if x.order}:
        link_order(order)
    audit.record("return.refund", user=by, actor=actor, store_id=ret.store_id, subject=ret.rma,
                 amount=str(amount), lines=refund.lines, restocked=restocked)
    db.session.commit()
    return refund


def stock_node(ret: Return, line: ReturnLine) -> str:
    """The stock row's node the line's units go back to: the one its order shipped from."""
    return ship_nodes.stock_node(ret.store, line.order.ship_node if line.order else None)


def stock_rows(ret: Return) -> dict[int, SkuStock | None]:
    """Each line's stock row where its units would go back on hand (None: never counted);
    an untracked row (on hand None) keeps no count to add them to."""
    rows = {}
    for line in ret.lines:
        rows[line.number] = db.session.scalar(select(SkuStock).where(
            SkuStock.store_id == ret.store_id, SkuStock.sku == line.sku,
            SkuStock.ship_node == stock_node(ret, line))) if line.sku else None
    return rows


def _refuse(message: str, field: str | None = None) -> NoReturn:
    """Bad input after the return was claimed: undo the claim, change nothing."""
    db.session.rollback()
    raise ActionRefused(message, field=field)
