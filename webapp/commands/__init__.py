"""`flask --app wsgi …` commands: one module per group, named after it."""

from flask import Flask

from webapp.commands.orders import orders_cli
from webapp.commands.returns import returns_cli
from webapp.commands.stock import stock_cli
from webapp.commands.stores import stores_cli
from webapp.commands.sync import sync_cli
from webapp.commands.users import users_cli


def init_cli(app: Flask) -> None:
    for group in (users_cli, stores_cli, orders_cli, sync_cli, stock_cli, returns_cli):
        app.cli.add_command(group)
