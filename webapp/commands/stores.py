"""`flask --app wsgi stores …`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Environment, Store
from webapp.services.errors import ActionRefused
from webapp.services.stores import StoreInput, create_store, set_default_ship_node

stores_cli = AppGroup("stores", help="Walmart seller accounts.")


@stores_cli.command("add")
@click.argument("name")
@click.option("--environment", type=click.Choice([e.value for e in Environment]),
              required=True)
@click.option("--base-url", help="Defaults to the environment's address.")
@click.option("--client-id", required=True)
@click.option("--client-secret-stdin", is_flag=True, help="Read the client secret from stdin.")
@click.option("--import/--no-import", "import_enabled", default=True, show_default=True)
def add(name: str, environment: str, base_url: str | None, client_id: str,
        client_secret_stdin: bool, import_enabled: bool) -> None:
    """Add a store; the client secret comes from standard input or a hidden prompt."""
    secret = sys.stdin.readline().rstrip("\r\n") if client_secret_stdin else \
        click.prompt("Client secret", hide_input=True)
    try:
        store = create_store(StoreInput(name, Environment(environment), base_url, client_id,
                                        secret, import_enabled), by=None)
    except ActionRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Added store {store.name} ({store.environment.label}, {store.base_url}).")


@stores_cli.command("list")
def list_stores() -> None:
    """Stores with environment, base URL and import state (never the secret)."""
    for store in db.session.scalars(select(Store).order_by(Store.name)):
        last = store.last_import_at.isoformat() if store.last_import_at else "never"
        click.echo(f"{store.name}\t{store.environment.value}\t{store.base_url}\t"
                   f"import {'on' if store.import_enabled else 'off'}\tlast import {last}")


@stores_cli.command("set")
@click.argument("name")
@click.option("--ship-node", help="Walmart's id of the store's default ship node (\"\" clears it).")
def set_store(name: str, ship_node: str | None) -> None:
    """Change settings of the store NAME (only the options given)."""
    store = db.session.scalar(select(Store).where(Store.name == name))
    if store is None:
        raise click.ClickException(f"No store named {name!r}.")
    if ship_node is None:
        raise click.ClickException("Nothing to set: give an option, e.g. --ship-node ID.")
    try:
        set_default_ship_node(store, ship_node, by=None, actor="cli")
    except ActionRefused as exc:
        raise click.ClickException(str(exc)) from exc
    shown = store.default_ship_node or "not set (stock names no node)"
    click.echo(f"{store.name}: default ship node {shown}.")
