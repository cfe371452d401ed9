"""CSV export of a filtered order list, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from decimal import Decimal

from webapp.services.orders.queries import OrderFilter, page

COLUMNS = ["Walmart Order #", "Order #", "Store", "Items", "Order Value", "Currency", "Ordered",
           "Ship By", "Deliver By", "Ship Method", "Last Update", "Status", "Status details",
           "Customer"]
# OWASP (CSV Injection): a cell a spreadsheet may read as a formula starts with = + - @ tab
# or CR. Spreadsheets skip leading spaces before a formula (" =1+1"), and one opened in a
# locale whose separator is ";" (or told to split on "," or "|") cuts "Bob;=1+1" into "Bob"
# and a formula cell: a trigger after such a separator counts too.
TRIGGERS = ("=", "+", "-", "@")
CONTROL_START = ("\t", "\r", "\n")
AFTER_SEPARATOR = re.compile(r"([;,|]\s*)(?=[=+\-@])")
# A plain number (a negative price, say) is a number to every spreadsheet, never a formula.
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def safe(value) -> str:
    """A cell a spreadsheet will not run as a formula, in any locale: a ' in front when its
    first non-space character (or its first character, a control one) could start a formula,
    and a ' before each formula start after a separator. Ordinary values, negative numbers
    included, are left as they are."""
    if value is None:
        return ""
    text = str(value)
    if isinstance(value, (int, float, Decimal)) or NUMBER.fullmatch(text):
        return text
    text = AFTER_SEPARATOR.sub(lambda m: m.group(1) + "'", text)
    if text.startswith(CONTROL_START) or text.lstrip().startswith(TRIGGERS):
        return "'" + text
    return text


def _iso(value) -> str:
    return value.isoformat() if value else ""


# The rows read before the response starts: as many as the Orders page shows, so the download
# starts as fast as the page answers (500 took 4–7× the bare page at a million orders).
FIRST_ROWS = 50


def csv_rows(f: OrderFilter, batch: int = 500) -> Iterator[str]:
    """The CSV's text, piece by piece. The first rows are read now, before the response starts:
    a filter the database refuses is an error page, not a download cut off mid-way (once
    streaming starts the status is sent and an error can only truncate the file); the rest in
    batches as the download goes."""
    return _stream(f, page(f, size=min(FIRST_ROWS, batch)), batch)


def _stream(f: OrderFilter, result, batch: int) -> Iterator[str]:
    buffer = io.StringIO()
    # Every cell in quotes: a spreadsheet splitting on ";" or tab keeps a quoted cell whole.
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    writer.writerow(COLUMNS)
    yield flush()
    while True:
        for o in result.orders:
            items = "; ".join(f"{x.sku} x{x.quantity}" for x in o.lines)
            writer.writerow([safe(v) for v in (
                o.purchase_order_id, o.number, o.store_name, items, o.order_value, o.currency,
                _iso(o.order_date), _iso(o.ship_by), _iso(o.deliver_by), o.ship_method,
                _iso(o.updated_at), o.status, o.status_details, o.customer_name)])
        yield flush()
        if not result.next_cursor:
            return
        result = page(f, after=result.next_cursor, size=batch)
