"""`flask --app wsgi …` commands, one group per area."""

from flask import Flask


def init_cli(app: Flask) -> None:
    from webapp.commands.orders import orders_cli
    from webapp.commands.returns_cli import returns_cli
    from webapp.commands.shipping_cli import ship
    from webapp.commands.stock_cli import cancel, stock_cli

    orders_cli.add_command(ship)
    orders_cli.add_command(cancel)
    from webapp.commands.stores import stores_cli
    from webapp.commands.sync import sync_cli
    from webapp.commands.users import users_cli

    for group in (users_cli, stores_cli, orders_cli, sync_cli, stock_cli, returns_cli):
        app.cli.add_command(group)
