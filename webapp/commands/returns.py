"""`flask --app wsgi returns …`."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Return, ReturnStatus
from webapp.numbers import MAX_QUANTITY, whole
from webapp.services.errors import ActionRefused
from webapp.services.orders.importer import ImportDeferred
from webapp.services.returns import refund_amounts
from webapp.services.returns.importer import import_returns
from webapp.services.returns.refunding import refund_return
from webapp.services.stores import lookup
from webapp.walmart import WalmartError

returns_cli = AppGroup("returns", help="Walmart returns and refunds.")


@returns_cli.command("import")
@click.option("--store", "store_name")
def import_cmd(store_name: str | None) -> None:
    """Import returns now."""
    stores = [lookup.named(store_name)] if store_name else lookup.by_name()
    if stores == [None]:
        raise click.ClickException(f"No store named {store_name!r}.")
    failed = False
    for store in stores:
        try:
            click.echo(f"{store.name}: {import_returns(store.id)} return(s) read")
        except (WalmartError, ImportDeferred) as exc:
            click.echo(f"{store.name}: returns import failed: {exc}")
            failed = True
    if failed:
        raise SystemExit(1)


def _summary(ret: Return) -> dict:
    def money(amount) -> str | None:
        return None if amount is None else str(amount)

    return {"rma": ret.rma, "customer_order_id": ret.customer_order_id, "store": ret.store.name,
            "status": ret.status, "status_details": ret.status_details,
            "return_by": ret.return_by.isoformat() if ret.return_by else None,
            "refund_amount": money(ret.total_refund_amount),
            "lines": [{"number": x.number, "sku": x.sku, "quantity": x.quantity,
                       "refunded": x.refunded_qty,
                       "refundable": x.refundable, "purchase_order_id": x.purchase_order_id,
                       "unit_price": money(x.unit_price), "tax": money(x.tax_total),
                       "shipping": money(x.shipping_total), "line_total": money(x.line_total)}
                      for x in ret.lines]}


@returns_cli.command("list")
@click.option("--status", type=click.Choice([s.slug for s in ReturnStatus]))
@click.option("--json", "as_json", is_flag=True)
def list_cmd(status: str | None, as_json: bool) -> None:
    """Returns, the soonest return-by date first."""
    query = select(Return).order_by(Return.return_by, Return.id)
    if status:
        query = query.where(Return.status == next(s for s in ReturnStatus
                                                  if s.slug == status))
    rows = db.session.scalars(query).unique().all()
    if as_json:
        click.echo(json.dumps([_summary(r) for r in rows], indent=2))
        return
    for r in rows:
        click.echo(f"{r.rma}\t{r.status}\t{r.customer_order_id}\t{r.status_details or ''}")


@returns_cli.command("refund")
@click.argument("rma")
@click.option("--line", "lines", multiple=True, help="RETURN_LINE:QTY (default: everything)")
@click.option("--restock", is_flag=True, help="Put the refunded units back on hand.")
def refund_cmd(rma: str, lines: tuple[str, ...], restock: bool) -> None:
    """Refund a return (RMA = Walmart's returnOrderId)."""
    ret = db.session.scalar(select(Return).where(Return.rma == rma))
    if ret is None:
        raise click.ClickException(f"No return {rma}.")
    quantities = {}
    for value in lines:
        number, _, qty = (whole(part, MAX_QUANTITY) for part in value.partition(":"))
        if number is None or qty is None:
            raise click.BadParameter(f"{value[:40]!r}: use RETURN_LINE:QTY (whole numbers)",
                                     param_hint="--line")
        quantities[number] = qty
    if not lines:
        quantities = {x.number: x.refundable for x in ret.lines}
    try:
        refund = refund_return(ret.id, quantities, set(quantities) if restock else set(),
                               by=None, actor="cli")
    except ActionRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Refund of ${refund.amount:,.2f} for return {rma} is on its way to Walmart.")
    for a in refund_amounts.of_refund(refund):  # the figures the return's page shows
        fees = f" + fees ${a.other:,.2f}" if a.other else ""
        click.echo(f"  line {a.number}: {a.units} × ${a.unit_price:,.2f} + tax ${a.tax:,.2f} "
                   f"+ shipping ${a.shipping:,.2f}{fees} = ${a.total:,.2f}")
