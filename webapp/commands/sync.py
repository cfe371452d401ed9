"""`flask --app wsgi sync …`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from jobs.drain import drain as run_drain
from webapp.extensions import db
from webapp.services.errors import ActionRefused
from webapp.services.sync.actions import send_now as send
from webapp.services.sync.explain import target

sync_cli = AppGroup("sync", help="The outbox of Walmart updates.")


@sync_cli.command("drain")
@click.option("--timeout", type=float, default=300.0, show_default=True,
              help="Seconds to wait for every task to settle.")
def drain(timeout: float) -> None:
    """Process sync work now until nothing is pending (exit 0) or the timeout passes (exit 1)."""
    left = run_drain(timeout)
    if not left:
        click.echo("No sync task is pending.")
        return
    click.echo(f"{len(left)} task(s) still pending after {timeout:g}s:")
    for task in left:
        click.echo(f"  #{task.id} {task.kind} {target(task)}: attempt {task.attempts}, next at "
                   f"{task.next_attempt_at.isoformat()}"
                   + (f", last error: {task.last_error_message}" if task.last_error_message
                      else ""))
    sys.exit(1)


@sync_cli.command("send-now")
@click.argument("task_id", type=click.IntRange(1, 2**31 - 1))
def send_now(task_id: int) -> None:
    """Send now a task waiting out its retry delay (its next try is due at once)."""
    try:
        sent = send(task_id, by=None, actor="cli")
    except ActionRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Task {task_id} is being sent to Walmart now." if sent else
               f"Task {task_id} is already on its way to Walmart.")


@sync_cli.command("reconcile")
@click.option("--store", "store_name", help="Only this store (by name); default: every store.")
@click.option("--days", type=click.IntRange(1, 3650), default=None,
              help="Orders changed in the last N days, besides every open one (default: "
                   "ORDERDECK_RECONCILE_DAYS, 30).")
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
def reconcile(store_name: str | None, days: int | None, as_json: bool) -> None:
    """Compare every open (and recently changed) order, its returns and tracked stock with
    Walmart now, and print the differences. Exit 0: none; 1: differences; 2: some reads
    still failed after every retry (not compared)."""
    import json

    from webapp.services.reconcile import findings
    from webapp.services.reconcile import run as reconcile_run
    from webapp.services.stores import lookup

    if store_name is not None:
        store = lookup.named(store_name)
        if store is None:
            raise click.ClickException(f"No store named {store_name!r}.")
        stores = [store]
    else:
        stores = lookup.by_name()
    runs = []
    for store in stores:
        found, _new = reconcile_run.start(store.id, "cli", days)
        db.session.commit()
        if not _new:
            click.echo(f"{store.name}: a pass is already going; waiting for it.", err=True)
        runs.append(reconcile_run.run_now(found.id))
    names = findings.store_names()
    open_ = [d for store in stores for d in findings.open_findings(store.id, limit=100000)]
    unread = sum(r.unread for r in runs if r is not None)
    if as_json:
        click.echo(json.dumps({"differences": [findings.as_json(d, names) for d in open_],
                               "runs": [{"store": names.get(r.store_id), "compared": r.checked,
                                         "skipped": r.skipped, "reads": r.reads,
                                         "failed_reads": r.failed_reads, "unread": r.unread,
                                         "error": r.error} for r in runs]}, indent=2))
    else:
        for r in runs:
            click.echo(f"{names.get(r.store_id)}: {r.checked} compared, {r.skipped} skipped "
                       f"(an update on its way or failed), {r.reads} reads, "
                       f"{r.failed_reads} failed and read again"
                       + (f"; {r.error}" if r.error else ""))
        if not open_:
            click.echo("No difference: Orderdeck and Walmart agree.")
        for d in open_:
            why = findings.explain(d)
            click.echo(f"- {names.get(d.store_id)}, {findings.subject(d)}: {why.title}. "
                       f"Orderdeck: {d.ours}; Walmart: {d.walmart}.")
    if open_:
        sys.exit(1)
    if unread or any(r.phase == "failed" for r in runs):
        sys.exit(2)
