"""The Orders dashboard and the order page."""

from __future__ import annotations

from flask import Blueprint, Response, request, stream_with_context, url_for
from markupsafe import Markup

from webapp import list_versions
from webapp.htmx import is_htmx, render_page, stop_polling
from webapp.models import OrderStatus
from webapp.numbers import MAX_STAMP, row_id, whole
from webapp.order_filters import filter_args, parse_filter
from webapp.order_page import order_or_404, render_order
from webapp.services.orders import queries as order_queries
from webapp.services.orders.dashboard import NEEDS_LABELS
from webapp.services.orders.export import csv_rows
from webapp.services.printing import selection as print_selection
from webapp.services.stores import health as store_health
from webapp.services.stores import lookup as store_lookup

bp = Blueprint("orders", __name__)


def _nothing_new() -> bool:
    """A poll whose watched orders have not changed since it was rendered."""
    if not (is_htmx() and request.args.get("poll")):
        return False
    watch = [n for x in request.args.get("watch", "").split(",")[:order_queries.PAGE_SIZE]
             if (n := row_id(x)) is not None]
    since = whole(request.args.get("since"), MAX_STAMP)
    return since is not None and order_queries.unchanged_since(watch, since)


def _list_unchanged() -> bool:
    """A poll of results nothing changed since they were rendered: the orders' change marker
    is the one they carry (one Redis call, no SQL) — any order, a colleague's or this page's
    own. Without Redis: rows in flight, none of which changed (one indexed query)."""
    current = list_versions.mark("orders")
    if current is not None:
        return request.args.get("v", "")[:64] == current
    return _nothing_new()


@bp.get("/orders/")
def index():
    """Orders with status cards, filters, search and keyset pages; htmx gets the results.

    The results always poll: every POLL_INTERVAL_MS while rows are in flight, else every
    IDLE_POLL_MS; a poll answers 204 until an order changes — this page's own work, a
    colleague's ship, the CLI, an import (_list_unchanged)."""
    if is_htmx() and request.args.get("poll") and _list_unchanged():
        return Response(status=204)
    version = list_versions.mark("orders")  # before the rows: a change after it shows later
    f = parse_filter()
    result = order_queries.page(f, after=request.args.get("after"),
                                before=request.args.get("before"))
    watched = [order for order in result.orders if order.in_flight]
    watch = dict(watch=",".join(str(o.id) for o in watched),
                 since=order_queries.stamp(watched)) if watched else {}
    context = dict(
        f=f, page=result, counts=order_queries.status_counts(f), statuses=list(OrderStatus),
        stores=store_lookup.by_name(),
        args=filter_args(f), filter_args=filter_args, in_flight=bool(watched),
        needs_labels=NEEDS_LABELS, print_cap=print_selection.MAX_ORDERS,
        line_break=Markup("<br>"),
        poll_url=url_for("orders.index", **filter_args(f), poll=1,
                         after=request.args.get("after"), before=request.args.get("before"),
                         v=version, **watch))
    if not result.orders:  # an empty list says why: an import running, or failing
        context["import_health"] = store_health.all_health(count_today=False)
    return render_page("orders/index.html", "results", **context)


@bp.get("/orders.csv")
def export():
    """The current filter as CSV (every matching order, not just one page). Every parameter is
    parsed (bounded) and the first page read before the streamed response starts."""
    f = parse_filter()
    response = Response(stream_with_context(csv_rows(f)), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=orders.csv"
    return response


@bp.get("/orders/<int:order_id>")
def show(order_id: int):
    """One order: lines, customer, payment, shipments, sync history, Ship; htmx polls 'live'."""
    if _nothing_new() and request.args.get("watch") == str(order_id):
        return Response(status=204)
    order = order_or_404(order_id)
    response = render_order(order, block="live")
    if is_htmx() and request.args.get("poll") and not order.in_flight:
        stop_polling(response)
    return response
