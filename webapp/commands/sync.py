"""`flask --app wsgi sync …`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from jobs.drain import drain as run_drain
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
