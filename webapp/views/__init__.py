"""One blueprint per screen area."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from webapp.views import auth, cancelling, orders, returns, shipping, stock, stores, users

    for module in (auth, orders, shipping, cancelling, returns, stock, stores, users):
        app.register_blueprint(module.bp)
