"""Packing slips and "Not yet printed" at scale: the filter's plan and time at a million
orders, and the time to build, render and print (Chromium, to PDF) 200 orders' slips.

Seeds N orders (SQLite, bench/seed.py), marks every order no longer open as printed (a shop
that prints as it packs), then:
- the Orders page with "Not yet printed" (alone, under the Open card, sorted by Ship By, under
  a store) against the page without it, and the database's plan for each (EXPLAIN QUERY PLAN);
- 200 open orders' slips: recording the print and showing it (POST then GET, as the browser
  does), the document built and rendered alone, and Chromium printing it to PDF (Letter, A4).

Reports to docs/benchmarks.md (section "slips"). No assertion: numbers are read, not tested.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

from bench import seed_cache
from bench.common import machine, median, ms, now, p95, redis_url, write_section
from bench.orders_page import build_app, prepare, sign_in

SLIPS = 200
SHAPES = [("first page", {}), ("status card: Open", {"status": "open"}),
          ("sorted by Ship By", {"sort": "ship_by"}), ("store filter", {"store": "2"})]


def _mark_printed(app) -> int:
    """Every order no longer open printed; the per-status counts folded (as the sweeper does
    within a minute: the seed's million +1 rows would otherwise be summed on every page)."""
    from sqlalchemy import text

    from webapp.extensions import db
    from webapp.services.orders import status_counts

    with app.app_context():
        done = db.session.execute(text(
            "UPDATE orders SET printed_at = updated_at WHERE status NOT IN "
            "('Open', 'Partially Shipped', 'Error')")).rowcount
        db.session.commit()
        status_counts.fold()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return done


def _plan(app, args: dict) -> str:
    """SQLite's plan of the page query the Orders page runs for these arguments."""
    from sqlalchemy import text
    from werkzeug.datastructures import MultiDict

    from webapp.extensions import db
    from webapp.models import Order, Store
    from webapp.order_filters import parse_filter
    from webapp.services.orders import queries

    with app.test_request_context("/orders/", query_string=MultiDict(args)):
        f = parse_filter()
        column, direction = queries.SORTS[f.sort]
        order = (column.desc(), Order.id.desc()) if direction == "desc" else \
            (column.asc(), Order.id.asc())
        query = queries.base_query(f).where(column.is_not(None)).with_only_columns(
            *queries.ROW_COLUMNS, Store.name).join(Store, Store.id == Order.store_id) \
            .order_by(*order).limit(queries.PAGE_SIZE + 1)
        sql = str(query.compile(dialect=db.engine.dialect,
                                compile_kwargs={"literal_binds": True}))
        rows = db.session.execute(text(f"EXPLAIN QUERY PLAN {sql}")).all()
        return "; ".join(row[-1] for row in rows)


def _time(func, runs: int) -> list[float]:
    func()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return times


def _filter_rows(app, client, requests: int) -> list[str]:
    lines = []
    for name, args in SHAPES:
        def page(a=args):
            assert client.get("/orders/", query_string=a).status_code == 200
        def unprinted(a=args):
            assert client.get("/orders/", query_string={**a, "printed": "no"}
                              ).status_code == 200
        plain, narrowed = _time(page, requests), _time(unprinted, requests)
        plan = _plan(app, {**args, "printed": "no"})
        lines.append(f"| {name} | {ms(median(plain))} | {ms(p95(plain))} | "
                     f"{ms(median(narrowed))} | {ms(p95(narrowed))} | `{plan}` |")
    return lines


def _open_ids(app, count: int) -> list[int]:
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Order, OrderStatus

    with app.app_context():
        return list(db.session.scalars(select(Order.id).where(Order.status == OrderStatus.OPEN)
                                       .order_by(Order.id.desc()).limit(count)))


def _slips(app, client, ids: list[int], runs: int) -> tuple[dict, str]:
    from webapp.extensions import db
    from webapp.models import PrintKind, PrintRecord
    from webapp.print_page import render_print
    from webapp.services.printing import documents

    token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"',
                      client.get("/orders/").text).group(1)
    html = {}

    def post_and_show():
        response = client.post("/print/", data={"csrf_token": token, "scope": "ticked",
                                                "kind": "slips", "order": ids})
        assert response.status_code == 303, response.status_code
        page = client.get(response.headers["Location"])
        html["page"] = page.text

    def build():
        with app.app_context():
            documents.slips(ids)

    def build_and_render():
        with app.test_request_context():
            record = db.session.scalars(db.select(PrintRecord).limit(1)).one()
            render_print(record, documents.build(PrintKind.SLIPS, ids))

    times = {"POST and GET (recorded, shown)": _time(post_and_show, runs),
             "document built": _time(build, runs),
             "document built and rendered": _time(build_and_render, runs)}
    return times, html["page"]


def _chromium(page_html: str, static: Path, runs: int) -> dict:
    """Chromium prints the slips page (its stylesheet inlined, as the CLI's file) to PDF."""
    import io

    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    css = (static / "css" / "print.css").read_text()
    standalone = re.sub(r'<link rel="stylesheet"[^>]*>', f"<style>{css}</style>", page_html)
    standalone = re.sub(r"<script[^>]*></script>", "", standalone)
    out = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_content(standalone)
        for paper in ("Letter", "A4"):
            pdf = {}

            def render(p=paper, out=pdf):
                out["bytes"] = page.pdf(format=p, prefer_css_page_size=True)
            times = _time(render, runs)
            pages = len(PdfReader(io.BytesIO(pdf["bytes"])).pages)
            out[paper] = (times, pages, len(pdf["bytes"]))
        browser.close()
    return out


def main() -> None:
    import logging

    logging.disable(logging.INFO)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true",
                        help="copy the seeded SQLite file bench.orders_page --reuse kept "
                             "(bench/seed_cache.py) instead of seeding again")
    parser.add_argument("--cache-dir", type=Path, default=seed_cache.DEFAULT_DIR)
    args = parser.parse_args()
    with redis_url() as redis, tempfile.TemporaryDirectory() as folder:
        from redis import Redis

        Redis.from_url(redis).flushdb()
        url = f"sqlite:///{folder}/bench.sqlite"
        name = seed_cache.key(args.orders, args.seed)
        samples = (seed_cache.restore(args.cache_dir, name, Path(folder) / "bench.sqlite")
                   if args.reuse else None)
        app = build_app(url, redis, Path(folder))
        if samples is None:
            samples = prepare(app, url, args.orders, args.seed)
            if args.reuse:
                seed_cache.save(args.cache_dir, name, Path(folder) / "bench.sqlite", samples)
        print(f"seeded {args.orders:,} orders in {samples['seconds']:.0f} s")
        printed = _mark_printed(app)
        print(f"{printed:,} orders marked printed")
        client = sign_in(app)
        filter_lines = _filter_rows(app, client, args.requests)
        print("\n".join(filter_lines))
        ids = _open_ids(app, SLIPS)
        slip_times, page_html = _slips(app, client, ids, args.runs)
        for name, times in slip_times.items():
            print(f"{name}: p50 {ms(median(times))}")
        printed_pdf = _chromium(page_html, Path(app.static_folder), args.runs)
        for paper, (times, pages, size) in printed_pdf.items():
            print(f"Chromium {paper}: p50 {ms(median(times))}, {pages} pages, {size:,} bytes")
    unprinted = args.orders - printed
    lines = [
        f"## Packing slips and \"Not yet printed\" at {args.orders:,} orders", "",
        f"{machine()}; {now()}; SQLite. {printed:,} orders marked printed (every order no "
        f"longer open), {unprinted:,} not yet printed. Server time through Flask's test "
        f"client, {args.requests} requests per shape after a warm-up; plans from `EXPLAIN "
        "QUERY PLAN` of the page query with the filter.", "",
        "| shape | p50 | p95 | with \"Not yet printed\" p50 | p95 | plan with the filter |",
        "|---|---|---|---|---|---|", *filter_lines, "",
        f"{len(ids)} open orders' packing slips ({args.runs} runs after a warm-up; "
        f"{len(page_html):,} bytes of HTML):", "",
        "| step | p50 | p95 |", "|---|---|---|",
        *(f"| {name} | {ms(median(t))} | {ms(p95(t))} |" for name, t in slip_times.items()),
        *(f"| Chromium prints it to PDF, {paper} ({pages} pages, {size / 1024:,.0f} KiB) | "
          f"{ms(median(t))} | {ms(p95(t))} |"
          for paper, (t, pages, size) in printed_pdf.items()),
        "", "Reproduce: `.venv/bin/python -m bench.slips --orders 1000000` (needs Chromium at "
        "/usr/bin/chromium and pypdf from requirements-dev.txt)."]
    write_section("slips", "\n".join(lines))


if __name__ == "__main__":
    main()
