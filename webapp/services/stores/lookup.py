"""Finding stores: every store in name order (lists, pickers, the CLI), one by its name."""

from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Store


def by_name() -> list[Store]:
    """Every store, in name order."""
    return list(db.session.scalars(select(Store).order_by(Store.name)))


def named(name: str) -> Store | None:
    """The store of this name (names are unique), or None."""
    return db.session.scalar(select(Store).where(Store.name == name))
