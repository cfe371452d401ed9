"""`flask --app wsgi orders …`: import, list, show, ship, cancel and print packing slips."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from webapp.formatting import money as money_text
from webapp.models import OrderStatus, PrintKind, Store
from webapp.models.base import utcnow
from webapp.numbers import MAX_QUANTITY, whole
from webapp.print_page import render_print
from webapp.services.errors import ActionRefused
from webapp.services.orders import detail as order_detail
from webapp.services.orders import importer
from webapp.services.orders import money as order_money
from webapp.services.orders import queries as order_queries
from webapp.services.printing import documents as print_documents
from webapp.services.printing import records as print_records
from webapp.services.printing import selection as print_selection
from webapp.services.shipping.ship import NeedsConfirmation, PackageInput, ship_order
from webapp.services.stock.cancelling import cancel_order
from webapp.services.stores import lookup
from webapp.walmart.enums import CANCELLATION_REASONS, cancellation_label

orders_cli = AppGroup("orders", help="Walmart orders.")
# Payment information, as the order page shows it.
PAYMENT = ("subtotal", "shipping", "tax", "total", "canceled", "refunded", "net")
STATUS_SLUGS = [s.slug for s in OrderStatus]


def _store(name: str | None) -> Store | None:
    if name is None:
        return None
    store = lookup.named(name)
    if store is None:
        raise click.ClickException(f"No store named {name!r}.")
    return store


@orders_cli.command("import")
@click.option("--store", "store_name", help="Only this store (default: every store).")
def import_orders(store_name: str | None) -> None:
    """Import now and print a summary (acknowledgements go to the sync workers)."""
    store = _store(store_name)
    stores = [store] if store else lookup.by_name()
    failed = False
    for each in stores:
        try:
            run = importer.import_store(each.id, trigger="cli")
        except (importer.ImportDeferred, importer.WalmartError) as exc:
            click.echo(f"{each.name}: import failed: {exc}")
            failed = True
            continue
        if run is None:
            click.echo(f"{each.name}: an import is already running")
            continue
        click.echo(f"{each.name}: {run.pages} page(s), {run.seen} order(s) read, {run.created} "
                   f"new, {run.updated} updated, {run.failed} could not be stored")
        if run.error:  # an incomplete pass: Walmart's pages came short or looped
            click.echo(f"{each.name}: {run.error}")
    if failed:
        raise SystemExit(1)


def _limit(_ctx, _param, value: str) -> int:
    number = whole(value, 10_000, minimum=1)
    if number is None:
        raise click.BadParameter("a whole number from 1 to 10,000")
    return number


@orders_cli.command("list")
@click.option("--store", "store_name")
@click.option("--status", type=click.Choice(STATUS_SLUGS))
@click.option("--limit", default="100", show_default=True, callback=_limit)
@click.option("--json", "as_json", is_flag=True)
def list_orders(store_name: str | None, status: str | None, limit: int, as_json: bool) -> None:
    """Newest orders first."""
    store = _store(store_name)
    f = order_queries.OrderFilter(status=OrderStatus.from_slug(status) if status else None,
                                  store_id=store.id if store else None)
    listed = order_queries.page(f, size=limit)
    orders = listed.orders
    if as_json:
        click.echo(json.dumps([order_detail.summary(o) for o in orders], indent=2))
    else:
        for o in orders:
            click.echo(f"{o.number}\t{o.purchase_order_id}\t{o.store_name}\t{o.status}\t"
                       f"{o.status_details or ''}")
    if listed.next_cursor:  # on stderr: what a script reads from stdout stays the list
        more = order_queries.count(f) - len(orders)
        click.echo(f"… and {more:,} more order{'s' if more != 1 else ''} not listed: raise "
                   f"--limit (at most 10,000) or narrow the list with --store / --status.",
                   err=True)


@orders_cli.command("show")
@click.argument("order")
@click.option("--json", "as_json", is_flag=True)
def show(order: str, as_json: bool) -> None:
    """One order (ORDER is our number or Walmart's purchase order id)."""
    found = order_detail.find(order)
    if found is None:
        raise click.ClickException(f"No order {order}.")
    data = order_detail.detail(found)
    money = order_money.payment(found)
    data["payment"] = {name: str(getattr(money, name)) for name in PAYMENT}
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"Order {data['number']} (Walmart PO {data['purchase_order_id']}), "
               f"{data['store']}: {data['status']}"
               + (f" — {data['status_details']}" if data["status_details"] else ""))
    click.echo("  payment: " + ", ".join(
        f"{name.replace('_', ' ')} {money_text(getattr(money, name), found.currency)}"
        for name in PAYMENT))
    for line in data["lines"]:
        click.echo(f"  line {line['line_number']} {line['sku']}: ordered {line['ordered']}, "
                   f"shipped {line['shipped']}, canceled {line['canceled']}, "
                   f"refunded {line['refunded']}")
    for task in data["sync_tasks"]:
        click.echo(f"  sync #{task['id']} {task['kind']}: {task['state']} after "
                   f"{task['attempts']} attempt(s)"
                   + (f" — {task['last_error']}" if task["last_error"] else ""))


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


@orders_cli.command("ship")
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


@orders_cli.command("cancel")
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


@orders_cli.command("slips")
@click.argument("keys", metavar="ORDER…", nargs=-1, required=True)
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The HTML file to write (open it in a browser and print).")
@click.option("--pick-list", is_flag=True, help="One pick list of these orders instead.")
def slips(keys: tuple[str, ...], output: str, pick_list: bool) -> None:
    """Packing slips of ORDER… (our numbers or Walmart's purchase order ids), one page each,
    as one HTML file; recorded as printed by "cli"."""
    found = {key: order_detail.find(key) for key in keys}
    if unknown := [key for key, order in found.items() if order is None]:
        raise click.ClickException(f"No order {', '.join(unknown)}.")
    kind = PrintKind.PICK_LIST if pick_list else PrintKind.SLIPS
    try:
        ids = print_selection.ticked(order.id for order in found.values())
        document = print_documents.build(kind, ids)
        record = print_records.record_print(document, by=None, actor="cli")
    except ActionRefused as exc:
        raise click.ClickException(str(exc)) from exc
    with current_app.test_request_context():  # templates read the (signed-out) user
        html = render_print(record, document, standalone=True)
    Path(output).write_text(html, encoding="utf-8")
    what = "a pick list of" if pick_list else "packing slips of"
    click.echo(f"Wrote {what} {record.order_count} order(s) to {output} (print #{record.id}).")
    for x in document.left_out:
        click.echo(f"Left out {x.customer_order_id or x.number}: {x.reason}.")
