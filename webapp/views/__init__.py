"""One blueprint per screen area."""

from flask import Flask

from webapp.views import (
    audit,
    auth,
    cancelling,
    corrections,
    home,
    orders,
    printing,
    reconcile,
    returns,
    shipping,
    stock,
    stores,
    sync,
    users,
    walmart_events,
)


def register_blueprints(app: Flask) -> None:
    for module in (auth, home, orders, printing, shipping, cancelling, corrections, returns,
                   stock, stores, sync, reconcile, audit, users, walmart_events):
        app.register_blueprint(module.bp)
