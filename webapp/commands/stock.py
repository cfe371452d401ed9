"""`flask --app wsgi stock …` and `flask --app wsgi orders cancel …`."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Store
from webapp.services.errors import ActionRefused
from webapp.services.orders import detail as order_detail
from webapp.services.stock.cancelling import cancel_order
from webapp.services.stock.levels import set_on_hand
from webapp.walmart.enums import CANCELLATION_REASONS, cancellation_label

stock_cli = AppGroup("stock", help="Stock per store, SKU and ship node.")


@stock_cli.command("set")
@click.option("--store", "store_name", required=True)
@click.option("--ship-node", help="One of the store's ship nodes (default: its default node).")
@click.argument("sku")
@click.argument("quantity")
def set_stock(store_name: str, ship_node: str | None, sku: str, quantity: str) -> None:
    """Set SKU's on-hand QUANTITY (the available quantity is pushed to Walmart)."""
    store = db.session.scalar(select(Store).where(Store.name == store_name))
    if store is None:
        raise click.ClickException(f"No store named {store_name!r}.")
    try:
        held = set_on_hand(store.id, sku, quantity, by=None, actor="cli", node=ship_node)
    except ActionRefused as exc:
        raise click.ClickException(str(exc)) from exc
    at = f" at ship node {held.ship_node}" if held.ship_node else ""
    click.echo(f"{held.sku}{at}: on hand {held.on_hand}, reserved {held.reserved}, available "
               f"{held.available} (on its way to Walmart).")


@click.command("cancel")
@with_appcontext
@click.argument("order")
@click.option("--reason", required=True, help="One of Walmart's five reason codes "
              "(CUSTOMER_REQUESTED_SELLER_TO_CANCEL only when the buyer asked to cancel).")
def cancel(order: str, reason: str) -> None:
    """Cancel everything not yet shipped of ORDER with Walmart's REASON."""
    codes = [r.code for r in CANCELLATION_REASONS]
    if reason not in codes:
        raise click.ClickException(f"Unknown reason {reason!r}. Use one of: " + ", ".join(
            f"{r.code} ({r.label})" for r in CANCELLATION_REASONS))
    found = order_detail.find(order)
    if found is None:
        raise click.ClickException(f"No order {order}.")
    try:
        cancellation = cancel_order(found.id, reason, by=None, actor="cli")
    except ActionRefused as exc:
        raise click.ClickException(str(exc)) from exc
    units = sum(x.quantity for x in cancellation.lines)
    click.echo(f"Order {found.number}: {units} unit(s) canceled ({cancellation_label(reason)}); "
               "on its way to Walmart.")
