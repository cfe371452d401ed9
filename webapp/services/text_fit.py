"""Walmart's text made storable: cut to our column sizes (PostgreSQL refuses longer text,
SQLite would keep it) and without NUL characters (PostgreSQL refuses those outright)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import String

_NO_LIMIT = float("inf")


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
    """`values` (column → value) with every text fitting its column (a copy; an import calls
    this for every order and line, so what already fits is only looked at)."""
    lengths = _lengths(model)
    fitted = dict(values)
    for key, value in values.items():
        if value.__class__ is str and ("\x00" in value or len(value) > lengths.get(key, _NO_LIMIT)):
            fitted[key] = clean(value, lengths.get(key))
    return fitted


def fit_one(model, key: str, value: Any) -> Any:
    return clean(value, _lengths(model).get(key))
