"""The section of docs/benchmarks.md that bench/orders_page.py writes."""

from __future__ import annotations

from bench.common import machine, ms, now

FLAT_MB = 10  # "flat": the peak after every row within this much of the peak after a tenth


def report(runs: list[dict], args, minutes: float) -> str:
    count = args.orders
    lines = [f"## Orders page, Home and CSV export at {count:,} orders", "",
             f"{machine()}; {now()}; {args.requests} timed requests per shape after 3 "
             f"warm-ups; the run took {minutes:.0f} minutes; load average (1 min) when each "
             "database's run began: "
             + ", ".join(f"{r['db']} {r['load']:.1f}" for r in runs) + ".", "",
             "Server time through Flask's test client, in one process. **Baseline: the bare "
             "page** — a view of the same app (same session cookie, sign-in check and security "
             "headers, nothing else) running the plain first page's SQL straight through the "
             "driver (page query + the rows' items) into a minimal Jinja table. It is requested "
             "in every round of every shape, interleaved with the measured request; its p95 "
             "over the run is the denominator of every ratio in the first column. The second "
             "column keeps the old ratio: the same bare view running the shape's own SQL (for "
             "the polls: a view returning a constant fragment, their target).", "",
             "Rendered rows are kept by their content (`webapp/row_cache.py`), so repeated "
             "requests of a shape reuse them, as people and polls do; \"first page, rows not "
             "yet cached\" empties that cache before every request. The polls answer 204 while "
             "nothing they show changed. Searches also say how many orders they find (the "
             "app's own count); an exact search whose page lacks the pinned order is marked "
             "**wrong result**.", ""]
    lines += _seeding(runs, count)
    lines += ["", "### Targets", "", "| target | " + " | ".join(r["db"] for r in runs)
              + " | met |", "|---|" + "---|" * len(runs) + "---|"]
    lines += _targets(runs, count)
    lines += ["", "### Every shape", "",
              "| database | shape | orders found | p50 | p95 | × bare page p95 | "
              "× same-SQL baseline p95 (old) | raw SQL p50 | target | meets |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for run in runs:
        lines.append(f"| {run['db']} | **bare page baseline** ({run['bare_n']} requests) | — | "
                     f"{ms(run['bare_p50'])} | {ms(run['bare_p95'])} | 1.00 | — | — | — | — |")
        for r in run["results"]:
            found = "—" if r["found"] is None else f"{r['found']:,}"
            same = "—" if r["same_ratio"] is None else f"{r['same_ratio']:.2f}"
            raw = "—" if r["raw_median"] is None else ms(r["raw_median"])
            target = (f"≤ {r['target']} × fragment" if r["fragment"] else
                      f"≤ {r['target']:.0f} × bare page")
            verdict = ("**wrong result**" if r["wrong"] else
                       "yes" if _meets(r) else "**no**")
            shape = r["shape"] + (f" ({r['n']} requests)" if r["n"] < args.requests else "")
            lines.append(f"| {r['db']} | {shape} | {found} | {ms(r['median'])} | "
                         f"{ms(r['p95'])} | {r['bare_ratio']:.2f} | {same} | {raw} | {target} | "
                         f"{verdict} |")
    lines += ["", "### CSV export of every order", "",
              "Downloaded in a process of its own (`bench/csv_export.py`): the Orders page's "
              "export URL with no filter, read chunk by chunk through the test client. Memory: "
              "growth of the process's peak RSS over its RSS before the request.", "",
              "| database | rows | size | total time | rows/s | peak memory growth after "
              "the first tenth | after every row | RSS before |",
              "|---|---|---|---|---|---|---|---|"]
    for run in runs:
        c = run["csv"]
        lines.append(f"| {run['db']} | {c['rows']:,} | {c['bytes'] / 1e6:.0f} MB | "
                     f"{c['seconds']:.1f} s | {c['rows'] / c['seconds']:,.0f} | "
                     f"{c['checkpoint']['peak_growth_mb']:.1f} MB "
                     f"({c['checkpoint']['rows']:,} rows) | {c['peak_growth_mb']:.1f} MB | "
                     f"{c['rss_before_mb']:.0f} MB |")
    lines += ["", "Reproduce: `make bench`, or `.venv/bin/python -m bench.orders_page "
              f"--orders {count} --requests {args.requests}` (PostgreSQL too when "
              "`TEST_DATABASE_URL` is set; `--reuse` keeps the seeded SQLite file for the next "
              "run)."]
    return "\n".join(lines)


def _meets(r: dict) -> bool:
    ratio = r["same_ratio"] if r["fragment"] else r["bare_ratio"]
    return ratio is not None and ratio <= r["target"]


def _seeding(runs: list[dict], count: int) -> list[str]:
    first = runs[0]["samples"]
    lines = [f"Data (`bench/seed.py`): {count:,} orders over three years (about "
             f"{count / 1095:,.0f} a day), with "
             + ", ".join(f"{n:,} {table.replace('_', ' ')}" for table, n in first["rows"].items()
                         if table != "orders") + ".",
             "", "Seeding (wall time, on a machine whose load is given above):", ""]
    for run in runs:
        s = run["samples"]
        steps = ", ".join(f"{k} {v:.0f} s" for k, v in s["timings"].items() if v >= 0.5)
        lines.append(f"- {run['db']}: {s['seconds']:.0f} s ({steps}; "
                     f"{s['cpu_seconds']:.0f} s of the seeding process's CPU)"
                     + (" — reused from the cache this run" if s.get("reused") else ""))
    lines += ["", "Pinned searches (from orders placed half-way through the three years): Walmart "
              f"PO `{first['po']}`, customer order `{first['customer_order']}`, our number "
              f"`{first['number']}`, tracking `{first['tracking']}`, SKU prefix "
              f"`{first['sku_prefix']}`, name fragments `{first['name3']}` and "
              f"`{first['name6']}` (from inside “{first['customer']}”), name prefix "
              f"`{first['name2']}`."]
    return lines


def _targets(runs: list[dict], count: int) -> list[str]:
    def worst(run, pick, key="bare_ratio"):
        rows = [r for r in run["results"] if pick(r)]
        top = max(rows, key=lambda r: r[key])
        over = [r for r in rows if not _meets(r)]
        text = f"worst {top[key]:.2f}× ({top['shape']})"
        if over:
            text += "; over: " + ", ".join(f"{r['shape']} {r[key]:.2f}×" for r in over)
        return text, not over

    def orders_shape(r):
        return not r["fragment"] and r["shape"] != "Home" and not r["shape"].startswith("CSV")

    rows = []
    for title, pick, key in [
        (f"Every Orders-page shape (search included) p95 ≤ 3× the bare page at {count:,}",
         orders_shape, "bare_ratio"),
        ("Home p95 ≤ 3× the bare page", lambda r: r["shape"] == "Home", "bare_ratio"),
        ("live-status polls p95 ≤ 1.5× a constant fragment", lambda r: r["fragment"],
         "same_ratio"),
        ("CSV export: first byte p95 ≤ 3× the bare page",
         lambda r: r["shape"].startswith("CSV"), "bare_ratio")]:
        cells = [worst(run, pick, key) for run in runs]
        rows.append(f"| {title} | " + " | ".join(text for text, _ in cells)
                    + f" | {'yes' if all(met for _, met in cells) else '**no**'} |")
    cells = []
    for run in runs:
        c = run["csv"]
        growth = c["peak_growth_mb"] - c["checkpoint"]["peak_growth_mb"]
        cells.append((f"peak +{c['checkpoint']['peak_growth_mb']:.1f} MB after "
                      f"{c['checkpoint']['rows']:,} rows, +{c['peak_growth_mb']:.1f} MB after "
                      f"{c['rows']:,}", growth <= FLAT_MB))
    rows.append(f"| CSV export of every order streams: memory flat (peak after every row within "
                f"{FLAT_MB} MB of the peak after a tenth) | "
                + " | ".join(text for text, _ in cells)
                + f" | {'yes' if all(met for _, met in cells) else '**no**'} |")
    return rows
