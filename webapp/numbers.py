"""Numbers read from people and addresses — URLs, query strings, forms, CSV files, the CLI —
through one bounded parser.

str.isdigit() accepts "²" and "٣" (int() then fails on the first and reads 3 from the second),
int() reads 5,000 digits only after Python's conversion limit, and a 25-digit id overflows
SQLite's INTEGER: so a number is ASCII digits only, at most a few digits long, and at most a
maximum that the database (and the feature) can hold.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # ids are INTEGER columns (PostgreSQL's 4-byte integer; SQLite holds more)
MAX_QUANTITY = 1_000_000  # units of a SKU, a line or a refund
MAX_STAMP = 2**63 - 1  # microsecond timestamps (the Orders page's poll)
MAX_CALLS = 1_000_000  # Walmart calls per minute in a store's rate limits (benchmarks scale them)


def digits(text: object) -> bool:
    """ASCII digits and nothing else (no sign, space, superscript or other script's digit)."""
    return isinstance(text, str) and text.isascii() and text.isdigit()


def whole(value: object, maximum: int, minimum: int = 0) -> int | None:
    """The whole number `value` spells (spaces around it forgiven), or None when it is not
    ASCII digits or lies outside minimum..maximum. Never raises."""
    text = value.strip() if isinstance(value, str) else ""
    if not digits(text) or len(text) > len(str(maximum)):  # short before int(): no huge ones
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None


def row_id(value: object) -> int | None:
    """A database id (1 or more) from a query or form value, or None."""
    return whole(value, MAX_ID, minimum=1)


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: ASCII digits, at most MAX_ID. Anything else (25 digits, "٣")
    matches no route: a 404, where the default converter let it through to a 500 (an SQLite
    overflow) or read "٣" as 3."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = None, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits, min, MAX_ID if max is None else max, signed)
