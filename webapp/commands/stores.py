"""`flask --app wsgi stores …`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from webapp.models import Environment, Store
from webapp.services.errors import ActionRefused
from webapp.services.stores import connection_check, lookup
from webapp.services.stores import mode as store_mode
from webapp.services.stores.editing import (
    StoreInput,
    create_store,
    set_default_ship_node,
    set_slip_settings,
)

stores_cli = AppGroup("stores", help="Walmart seller accounts.")


@stores_cli.command("add")
@click.argument("name")
@click.option("--environment", type=click.Choice([e.value for e in Environment]),
              required=True)
@click.option("--base-url", help="Defaults to the environment's address.")
@click.option("--client-id", required=True)
@click.option("--client-secret-stdin", is_flag=True, help="Read the client secret from stdin.")
@click.option("--import/--no-import", "import_enabled", default=True, show_default=True)
@click.option("--read-only", is_flag=True,
              help="Import and show everything, send nothing to Walmart.")
def add(name: str, environment: str, base_url: str | None, client_id: str,
        client_secret_stdin: bool, import_enabled: bool, read_only: bool) -> None:
    """Add a store; the client secret comes from standard input or a hidden prompt."""
    secret = sys.stdin.readline().rstrip("\r\n") if client_secret_stdin else \
        click.prompt("Client secret", hide_input=True)
    try:
        store = create_store(StoreInput(name, Environment(environment), base_url, client_id,
                                        secret, import_enabled, read_only=read_only), by=None)
    except ActionRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Added store {store.name} ({store.environment.label}, {store.base_url})"
               + (", read-only: nothing is sent to Walmart." if store.read_only else "."))


@stores_cli.command("list")
def list_stores() -> None:
    """Stores with environment, base URL and import state (never the secret)."""
    for store in lookup.by_name():
        last = store.last_import_at.isoformat() if store.last_import_at else "never"
        click.echo(f"{store.name}\t{store.environment}\t{store.base_url}\t"
                   f"import {'on' if store.import_enabled else 'off'}\tlast import {last}"
                   + ("\tread-only" if store.read_only else ""))


def _store_named(name: str) -> Store:
    store = lookup.named(name)
    if store is None:
        raise click.ClickException(f"No store named {name!r}.")
    return store


@stores_cli.command("set")
@click.argument("name")
@click.option("--read-only/--read-write", "read_only", default=None,
              help="Read-only: import and show, send nothing. Read-write reads waiting orders "
                   "back and acknowledges those still Created at Walmart (asks to confirm).")
@click.option("--yes", is_flag=True, help="Do not ask to confirm switching to read-write.")
@click.option("--ship-node", help="Walmart's id of the store's default ship node (\"\" clears it).")
@click.option("--slip-name", help="The name printed on packing slips (\"\" prints none).")
@click.option("--slip-prices/--no-slip-prices", default=None,
              help="Show prices on packing slips (off by default).")
def set_store(name: str, read_only: bool | None, yes: bool, ship_node: str | None,
              slip_name: str | None, slip_prices: bool | None) -> None:
    """Change settings of the store NAME (only the options given)."""
    store = _store_named(name)
    if read_only is None and ship_node is None and slip_name is None and slip_prices is None:
        raise click.ClickException("Nothing to set: give an option, e.g. --ship-node ID, "
                                   "--slip-name NAME, --read-only or --read-write.")
    if slip_name is not None or slip_prices is not None:
        try:
            set_slip_settings(store, name=slip_name, prices=slip_prices, by=None, actor="cli")
        except ActionRefused as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{store.name}: packing slips show {store.slip_name or 'no name'}, "
                   f"{'with' if store.slip_prices else 'without'} prices.")
    if ship_node is not None:
        try:
            set_default_ship_node(store, ship_node, by=None, actor="cli")
        except ActionRefused as exc:
            raise click.ClickException(str(exc)) from exc
        shown = store.default_ship_node or "not set (stock names no node)"
        click.echo(f"{store.name}: default ship node {shown}.")
    if read_only:
        store_mode.set_read_only(store, by=None)
        click.echo(f"{store.name} is read-only: Orderdeck sends nothing to Walmart for it.")
    elif read_only is False:
        _read_write(store, yes)


def _read_write(store: Store, yes: bool) -> None:
    if not store.read_only:
        click.echo(f"{store.name} is already read-write.")
        return
    waiting = len(store_mode.waiting_orders(store))
    if not yes:
        click.confirm(f"Switch {store.name} to read-write? Orderdeck will send every update to "
                      f"Walmart from now on; {waiting} waiting order(s) are read back and "
                      "acknowledged where Walmart still shows them Created; no stock is pushed "
                      "until someone changes it.", abort=True)
    queued = store_mode.set_read_write(store, by=None)
    click.echo(f"{store.name} is read-write; {queued} waiting order(s) are read back.")


@stores_cli.command("check")
@click.argument("name")
def check(name: str) -> None:
    """Test connection: take a token and make one read; exit 1 when anything fails."""
    store = _store_named(name)
    result = connection_check.check_store(store, by=None)
    for step in result.steps:
        click.echo(f"{'OK    ' if step.ok else 'FAILED'} {step.label}"
                   + (f": {step.detail}" if step.detail else ""))
    if result.advice:
        click.echo(f"What to do: {result.advice}")
    if not result.ok:
        sys.exit(1)
