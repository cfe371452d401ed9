"""One blueprint per screen area."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from webapp.views import auth, orders, shipping, stores, users

    for module in (auth, orders, shipping, stores, users):
        app.register_blueprint(module.bp)
