"""Rendered Orders-page rows (and Home's chart), kept by their content.

A page of 50 rows costs more to render than to query. A row's HTML depends only on the row's
own values, the team's time zone and today's date (overdue / due today), so those values are
its key: a row whose order changed has a new key and is rendered afresh — nothing to
invalidate. Each process keeps the most recent rows (the first pages, which people and polls
ask for again and again).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import current_app, request
from jinja2 import pass_context
from markupsafe import Markup

from webapp.formatting import row_cells

MAX_ROWS = 5000


class RowCache:
    def __init__(self, size: int = MAX_ROWS) -> None:
        self.size = size
        self._rows: OrderedDict[tuple, Markup] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Markup | None:
        with self._lock:
            html = self._rows.get(key)
            if html is not None:
                self._rows.move_to_end(key)
            return html

    def put(self, key: tuple, html: Markup) -> None:
        with self._lock:
            self._rows[key] = html
            if len(self._rows) > self.size:
                self._rows.popitem(last=False)


@pass_context
def order_row(ctx, order, order_path: str, line_break: Markup) -> Markup:
    """The row's HTML (templates/orders/row.html), from the cache when its content is known."""
    cache: RowCache = current_app.extensions.setdefault("orderdeck_rows", RowCache())
    zone, today = ctx.get("team_zone"), ctx.get("team_today")
    key = (order.content_key(), str(zone), today, order_path, request.script_root)
    html = cache.get(key)
    if html is None:
        macro = ctx.environment.get_template("orders/row.html").module.order_row
        html = Markup(macro(order, row_cells(ctx, order), order_path, line_break))
        cache.put(key, html)
    return html


def _chart_key(chart) -> tuple:
    return (chart.width, chart.height,
            tuple((d.day, d.orders, d.due, d.on_time) for d in chart.days))


@pass_context
def home_chart(ctx, chart) -> Markup:
    """Home's 30-day chart (templates/home/chart.html): some 150 SVG elements and table cells,
    most of Home's rendering, and the same until a figure or the day changes — so kept by the
    figures it draws (a few per process: one per team zone and day)."""
    cache: RowCache = current_app.extensions.setdefault("orderdeck_charts", RowCache(size=8))
    key = _chart_key(chart)
    html = cache.get(key)
    if html is None:
        macro = ctx.environment.get_template("home/chart.html").module.chart_section
        html = Markup(macro(chart))
        cache.put(key, html)
    return html
