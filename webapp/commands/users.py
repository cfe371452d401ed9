"""`flask --app wsgi users …`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Role, User
from webapp.services.errors import ActionRefused
from webapp.services.users import accounts as user_service

users_cli = AppGroup("users", help="Manage the people who can sign in.")


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.OPERATOR.value,
              show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(email: str, role: str, password_stdin: bool) -> None:
    """Create a user; the password comes from a prompt or standard input."""
    try:
        user = user_service.create_user(email, role, _read_password(password_stdin))
    except ActionRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {user.email} ({user.role}).")


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password(email: str, password_stdin: bool) -> None:
    """Set a user's password (ends their open sessions)."""
    user = user_service.find_by_email(email)
    if user is None:
        raise click.ClickException(f"No user with the e-mail {email}.")
    try:
        user_service.set_password(user, _read_password(password_stdin))
    except ActionRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Password changed for {user.email}.")


@users_cli.command("list")
def list_users() -> None:
    """List users with role and state."""
    for user in db.session.scalars(select(User).order_by(User.email)):
        click.echo(f"{user.email}\t{user.role}\t{'active' if user.active else 'inactive'}")

