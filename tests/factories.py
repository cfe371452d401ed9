"""make_<model>(**overrides): rows built through the services, as users would create them."""

from __future__ import annotations

import itertools

from webapp.extensions import db

_seq = itertools.count(1)
PASSWORD = "correct horse battery"


def make_user(**overrides):
    from webapp.services.users.accounts import create_user

    n = next(_seq)
    user = create_user(overrides.pop("email", f"user{n}@example.com"),
                       overrides.pop("role", "operator"), overrides.pop("password", PASSWORD))
    for key, value in overrides.items():
        setattr(user, key, value)
    db.session.commit()
    db.session.refresh(user)
    db.session.expunge(user)
    return user


def make_store(**overrides):
    from webapp.models import Environment
    from webapp.services.stores.editing import StoreInput, create_store

    n = next(_seq)
    data = StoreInput(name=overrides.pop("name", f"Store {n}"),
                      environment=Environment(overrides.pop("environment", "sandbox")),
                      base_url=overrides.pop("base_url", None),
                      client_id=overrides.pop("client_id", f"client-{n}"),
                      client_secret=overrides.pop("client_secret", f"secret-{n}-do-not-leak"),
                      import_enabled=overrides.pop("import_enabled", True),
                      rate_limits=overrides.pop("rate_limits", None))
    store = create_store(data, by=None)
    for key, value in overrides.items():
        setattr(store, key, value)
    db.session.commit()
    db.session.refresh(store)
    db.session.expunge(store)
    return store
