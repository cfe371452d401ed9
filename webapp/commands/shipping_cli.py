"""`flask --app wsgi orders ship …` (registered on the orders group)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from webapp.models.base import utcnow
from webapp.numbers import MAX_QUANTITY, whole
from webapp.services.errors import ActionRefused
from webapp.services.orders import detail as order_detail
from webapp.services.shipping.ship import NeedsConfirmation, PackageInput, ship_order


def _lines(values: tuple[str, ...]) -> dict[str, int]:
    lines = {}
    for value in values:
        number, _, text = value.partition(":")
        quantity = whole(text, MAX_QUANTITY)
        if not number or quantity is None:
            raise click.BadParameter(f"{value[:40]!r}: use LINE:QTY, e.g. 1:2 (QTY 0 to "
                                     f"{MAX_QUANTITY:,})", param_hint="--line")
        lines[number] = lines.get(number, 0) + quantity
    return lines


@click.command("ship")
@with_appcontext
@click.argument("order")
@click.option("--line", "lines", multiple=True, required=True, help="LINE:QTY (repeatable)")
@click.option("--carrier", help="One of Walmart's carriers.")
@click.option("--other-carrier", help="A carrier not in Walmart's list (needs --tracking-url).")
@click.option("--tracking-url")
@click.option("--tracking", "tracking_number", required=True)
@click.option("--method", "method_code", help="Default: the order's ship method.")
@click.option("--override-buyer-cancel", is_flag=True, help="Ship although the buyer asked "
              "Walmart to cancel.")
@click.option("--yes", is_flag=True, help="Ship even if the tracking number looks unusual.")
def ship(order: str, lines: tuple[str, ...], carrier: str | None, other_carrier: str | None,
         tracking_url: str | None, tracking_number: str, method_code: str | None,
         override_buyer_cancel: bool, yes: bool) -> None:
    """Ship units of ORDER (our number or Walmart's PO) through the sync engine."""
    found = order_detail.find(order)
    if found is None:
        raise click.ClickException(f"No order {order}.")
    package = PackageInput(tracking_number, method_code or found.ship_method or "Standard",
                           _lines(lines), carrier, other_carrier, tracking_url)
    try:
        shipment = ship_order(found.id, [package], utcnow(), by=None, actor="cli",
                              override_intent=override_buyer_cancel, confirm_warnings=yes)
    except NeedsConfirmation as exc:
        raise click.ClickException(f"{exc} Add --yes to ship anyway.") from exc
    except ActionRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Shipment {shipment.id} of order {found.number} is on its way to Walmart "
               f"(sync task {shipment.task_id}).")
