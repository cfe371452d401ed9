"""CSV export of a filtered order list, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from webapp.services.order_queries import OrderFilter, page

COLUMNS = ["Walmart Order #", "Order #", "Store", "Items", "Order Value", "Currency", "Ordered",
           "Ship By", "Deliver By", "Ship Method", "Last Update", "Status", "Status details",
           "Customer"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(value) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP's CSV injection advice)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _iso(value) -> str:
    return value.isoformat() if value else ""


def csv_rows(f: OrderFilter, batch: int = 500) -> Iterator[str]:
    """The CSV's text, piece by piece. The first page is read now, before the response starts:
    a filter the database refuses is an error page, not a download cut off mid-way (once
    streaming starts the status is sent and an error can only truncate the file)."""
    return _stream(f, page(f, size=batch), batch)


def _stream(f: OrderFilter, result, batch: int) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

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
