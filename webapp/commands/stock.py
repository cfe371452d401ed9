"""`flask --app wsgi stock …`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from webapp.services.errors import ActionRefused
from webapp.services.stock.levels import set_on_hand
from webapp.services.stores import lookup

stock_cli = AppGroup("stock", help="Stock per store, SKU and ship node.")


@stock_cli.command("set")
@click.option("--store", "store_name", required=True)
@click.option("--ship-node", help="One of the store's ship nodes (default: its default node).")
@click.argument("sku")
@click.argument("quantity")
def set_stock(store_name: str, ship_node: str | None, sku: str, quantity: str) -> None:
    """Set SKU's on-hand QUANTITY (the available quantity is pushed to Walmart)."""
    store = lookup.named(store_name)
    if store is None:
        raise click.ClickException(f"No store named {store_name!r}.")
    try:
        held = set_on_hand(store.id, sku, quantity, by=None, actor="cli", node=ship_node)
    except ActionRefused as exc:
        raise click.ClickException(str(exc)) from exc
    at = f" at ship node {held.ship_node}" if held.ship_node else ""
    click.echo(f"{held.sku}{at}: on hand {held.on_hand}, reserved {held.reserved}, available "
               f"{held.available} (on its way to Walmart).")
