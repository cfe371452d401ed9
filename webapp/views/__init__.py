"""One blueprint per screen area."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from webapp.views import (
        audit,
        auth,
        cancelling,
        corrections,
        home,
        orders,
        returns,
        shipping,
        stock,
        stores,
        sync,
        users,
    )

    for module in (auth, home, orders, shipping, cancelling, corrections, returns, stock, stores,
                   sync, audit, users):
        app.register_blueprint(module.bp)
