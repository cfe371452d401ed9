"""A Walmart client for a store, with its decrypted secret and the configured timeouts."""

from __future__ import annotations

from flask import current_app

from webapp.models import Store
from webapp.services.stores.editing import address_refusal, client_secret
from webapp.walmart import WalmartClient
from webapp.walmart.errors import AddressRefused


def client_for(store: Store) -> WalmartClient:
    """The client, only for an address a store may use (checked again here: the database may
    have been changed behind the form's back, or the simulator moved)."""
    refusal = address_refusal(store.environment, store.base_url)
    if refusal:
        raise AddressRefused(f"Nothing was sent to {store.base_url}: {refusal}")
    config = current_app.config
    return WalmartClient(store.base_url, store.client_id, client_secret(store),
                         connect_timeout=config["WALMART_CONNECT_TIMEOUT"],
                         read_timeout=config["WALMART_READ_TIMEOUT"])
