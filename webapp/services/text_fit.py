"""Walmart's text made storable: cut to our column sizes (PostgreSQL refuses longer text,
SQLite would keep it) and without NUL characters (PostgreSQL refuses those outright)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import String


@cache
def _lengths(model) -> dict[str, int]:
    return {column.key: column.type.length for column in model.__table__.columns
            if isinstance(column.type, String) and column.type.length}


def clean(value: Any, length: int | None) -> Any:
    if not isinstance(value, str):
        return value
    if "\x00" in value:
        value = value.replace("\x00", "")
    return value[:length] if length and len(value) > length else value


def fit(model, values: dict[str, Any]) -> dict[str, Any]:
    """`values` (column → value) with every text fitting its column."""
    lengths = _lengths(model)
    return {key: clean(value, lengths.get(key)) for key, value in values.items()}


def fit_one(model, key: str, value: Any) -> Any:
    return clean(value, _lengths(model).get(key))
