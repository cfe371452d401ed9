"""A Walmart client for a store, with its decrypted secret and the configured timeouts."""

from __future__ import annotations

from flask import current_app

from webapp.models import Store
from webapp.services.stores import client_secret
from webapp.walmart import WalmartClient


def client_for(store: Store) -> WalmartClient:
    config = current_app.config
    return WalmartClient(store.base_url, store.client_id, client_secret(store),
                         connect_timeout=config["WALMART_CONNECT_TIMEOUT"],
                         read_timeout=config["WALMART_READ_TIMEOUT"])
