"""The Orders page's filter as a query string, both ways: read by the Orders page, its CSV
export and the prints of "all matching the filter" (a view never imports another view)."""

from __future__ import annotations

from datetime import date

from flask import request
from werkzeug.datastructures import MultiDict

from webapp.models import OrderStatus
from webapp.numbers import row_id
from webapp.services.orders import queries as order_queries
from webapp.services.orders.dashboard import NEEDS_LABELS


def _date(args: MultiDict, name: str) -> date | None:
    try:
        return date.fromisoformat(args.get(name, ""))
    except ValueError:
        return None


def parse_filter(args: MultiDict | None = None) -> order_queries.OrderFilter:
    """The filter in `args` (default: the request's query string); bad values are ignored."""
    args = request.args if args is None else args
    sort = args.get("sort", "ordered")
    return order_queries.OrderFilter(
        status=OrderStatus.from_slug(args.get("status", "")),
        store_id=row_id(args.get("store")),
        q=args.get("q", "").strip()[:100] or None,
        date_from=_date(args, "from"), date_to=_date(args, "to"),
        sort=sort if sort in order_queries.SORTS else "ordered",
        needs=need if (need := args.get("needs")) in NEEDS_LABELS else None,
        unprinted=args.get("printed") == "no")


def filter_args(f: order_queries.OrderFilter, **changes) -> dict:
    """The query string of a filter (for links: cards, pager, export, polling)."""
    args = {"status": f.status.slug if f.status else None, "store": f.store_id, "q": f.q,
            "from": f.date_from.isoformat() if f.date_from else None,
            "to": f.date_to.isoformat() if f.date_to else None,
            "sort": f.sort if f.sort != "ordered" else None, "needs": f.needs,
            "printed": "no" if f.unprinted else None}
    args.update(changes)
    return {k: v for k, v in args.items() if v not in (None, "")}
