"""bench.load's figures: per page kind, unloaded against loaded, and its docs section."""

from __future__ import annotations

from bench.common import machine, median, ms, now, p95
from bench.load_users import POLL_KINDS, SEARCHES

KINDS = ["Orders: first page", "Orders: status card", "Orders: next page",
         *(f"Orders: search by {meaning}" for meaning in SEARCHES), "order page", *POLL_KINDS,
         "ship: the order page", "ship: Add tracking number", "ship: Ship"]
TARGET = 5.0  # loaded p95 ≤ 5 × unloaded p95


def by_kind(samples: list) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for s in samples:
        if not s.error:
            out.setdefault(s.kind, []).append(s.seconds)
    return out


def rows(result: dict) -> list[dict]:
    quiet, busy = by_kind(result["unloaded"]), by_kind(result["loaded"])
    out = []
    for kind in KINDS:
        q, b = quiet.get(kind, []), busy.get(kind, [])
        ratio = p95(b) / p95(q) if q and b else None
        out.append({"kind": kind, "n_quiet": len(q), "n_busy": len(b),
                    "quiet_p50": median(q) if q else None, "quiet_p95": p95(q) if q else None,
                    "busy_p50": median(b) if b else None, "busy_p95": p95(b) if b else None,
                    "ratio": ratio})
    return out


def mix(samples: list) -> dict[str, int]:
    """What people did (a shipment is one action of three requests)."""
    out = {"Orders pages": 0, "order pages": 0, "polls": 0, "shipments": 0}
    for s in samples:
        if s.kind.startswith("Orders:"):
            out["Orders pages"] += 1
        elif s.kind == "order page":
            out["order pages"] += 1
        elif s.kind.startswith("poll:"):
            out["polls"] += 1
        elif s.kind == "ship: the order page":
            out["shipments"] += 1
    return out


def verdict(result: dict) -> dict:
    c = result["checks"]
    errors = [s for s in result["loaded"] + result["unloaded"] if s.error]
    ratios = [r["ratio"] for r in rows(result) if r["ratio"] is not None]
    once = (c["once_at_walmart"] == c["shipped"] == c["synced"] == c["tasks"] and
            c["one_task_each"] and c["accepted_calls"] == c["shipped"])
    quiet_logs = not c["failed_jobs"] and not any(c["tracebacks"].values())
    return {"errors": errors, "worst": max(ratios) if ratios else None,
            "ratios_ok": all(r <= TARGET for r in ratios), "once": once,
            "met": not errors and all(r <= TARGET for r in ratios) and once and quiet_logs}


def _ms(value) -> str:
    return ms(value) if value is not None else "—"


def _spread(values: list[float]) -> str:
    if not values:
        return "none"
    return (f"p50 {ms(median(values))}, p95 {ms(p95(values))}, max {ms(max(values))} "
            f"(n={len(values)})")


def _cores(cores: dict) -> str:
    ours = ", ".join(f"{name} {value:.2f}" for name, value in cores.items() if name != "machine")
    busy = f"the machine's cores were {cores['machine']:.0%} busy (everything on it, other " \
        "work included); " if "machine" in cores else ""
    return f"{busy}cores used: {ours}"


def _machine_line(m: dict) -> str:
    return (f"CPU during the load: {_cores(m['cores'])}; unloaded phase: "
            f"{_cores(m['quiet_cores'])} (PostgreSQL: the server processes of this "
            "database's connections; Redis not counted). Load average "
            f"{m['load_before'][0]:.1f} before the load, {m['load_after'][0]:.1f} after.")


def summary(result: dict) -> str:
    v, c = verdict(result), result["checks"]
    lines = [f"[load] {len(result['loaded'])} requests in {result['window']:.0f} s: "
             f"{len(result['loaded']) / result['window']:.1f}/s; errors {len(v['errors'])}; "
             f"GETs sent again {result['resent']}"]
    for e in v["errors"][:10]:
        lines.append(f"[load]   error: {e.kind}: {e.error}")
    for r in rows(result):
        lines.append(f"[load] {r['kind']}: unloaded p95 {_ms(r['quiet_p95'])} (n={r['n_quiet']}),"
                     f" loaded p95 {_ms(r['busy_p95'])} (n={r['n_busy']})"
                     + (f", ×{r['ratio']:.1f}" if r["ratio"] is not None else ""))
    lines.append(f"[load] shipments: {c['shipped']} shipped, {c['once_at_walmart']} once at "
                 f"Walmart, {c['synced']} Synced of {c['tasks']} tasks; waited "
                 f"{result['waited']} s")
    lines.append(f"[load] failed jobs {c['failed_jobs']}; tracebacks {c['tracebacks']}")
    lines.append(f"[load] queue delay of sync jobs: {_spread(result['delays']['sync'])}; "
                 f"jobs (count, longest run): {result['delays']['runs']}")
    lines.append(f"[load] {_machine_line(result['machine'])}")
    lines.append(f"[load] overall: {'met' if v['met'] else 'NOT met'}")
    return "\n".join(lines)


def report(result: dict) -> str:
    args, c, v = result["args"], result["checks"], verdict(result)
    n = len(result["loaded"])
    rate = n / result["window"]
    actions = mix(result["loaded"])
    total = sum(actions.values()) or 1
    done = ", ".join(f"{k} {100 * x / total:.0f}%" for k, x in actions.items())
    waited = (f"all Synced {result['waited']:.1f} s after the load" if result["waited"]
              is not None else f"**not all Synced within {args.sync_wait:.0f} s**")
    delays = result["delays"]
    other = max((d for _f, d in delays["other"]), default=None)
    lines = [
        f"## Under load: {args.users} people for {args.seconds / 60:g} minutes (PostgreSQL)", "",
        f"{machine()}; {now()}. {args.orders:,} orders (seeded in {result['seed_seconds']:.0f} s) "
        f"in three bench stores (fake credentials, import off), plus a simulator store whose "
        f"{args.sim_orders} open orders were imported and acknowledged beforehand; its import "
        "stays on. Each in its own process: gunicorn as the README runs it (4 workers × 4 "
        f"threads), {args.workers} RQ worker(s) and the `rq cron` scheduler as "
        "docs/operations.md runs them, the simulator at Walmart's real rate limits. The load "
        "generator (one Python thread and `requests.Session` per person, signed in as an "
        "operator of its own) shares the machine, and times each request from the client.", "",
        f"Each person pauses 1–3 s between requests: 50% Orders pages (a fifth of them searches "
        "for a real PO, SKU prefix or name fragment of a random order; the rest first pages, "
        "status cards, next pages), 25% order pages (a row of their list, or any order), 20% "
        "polls (the `hx-get` of what is on screen: `#order-live` while the order shown is in "
        "flight, mostly one the person just shipped, else `#orders-results`), 5% shipments "
        "(the order page, Add tracking number, Ship: UPS and a new tracking number, each "
        f"open simulator-store order at most once). Done: {done}. Unloaded: one person, one "
        f"request at a time against the same processes, {args.unloaded} rounds of every shape "
        "after 6 warm-up rounds (the polls of a changed list with its marker made stale), and "
        f"{result['shipments_unloaded']} shipments whose order page is polled every 50 ms "
        "until it settles.", "",
        "| measurement | result | target | meets |", "|---|---|---|---|",
        f"| errors (any status but 2xx/3xx; 204 only for polls) | {len(v['errors'])} of "
        f"{n:,} requests | 0 | {'yes' if not v['errors'] else '**no**'} |",
        f"| failed RQ jobs; tracebacks in the processes' logs | {c['failed_jobs']}; "
        f"{sum(c['tracebacks'].values())} | 0 | "
        f"{'yes' if not c['failed_jobs'] and not any(c['tracebacks'].values()) else '**no**'} |",
        f"| requests per second | {rate:.1f} ({n:,} in {result['window']:.0f} s; "
        f"{result['resent']} GETs sent again on a new connection, see below) | — | — |",
        f"| p95 of each page kind, loaded / unloaded | worst ×{v['worst']:.1f} (table below) | "
        f"≤ ×{TARGET:g} | {'yes' if v['ratios_ok'] else '**no**'} |",
        f"| shipments synced exactly once | {c['shipped']} shipped ({result['shipments_loaded']} "
        f"under load); {c['once_at_walmart']} accepted exactly once by the simulator with "
        f"their tracking number ({c['accepted_calls']} accepted ship calls, "
        f"{c['refused_calls']} refused); {c['synced']} of {c['tasks']} ship tasks Synced, "
        f"{waited} | every one | {'yes' if v['once'] else '**no**'} |",
        f"| queue delay of sync jobs (RQ `enqueued_at` → `started_at`) | "
        f"{_spread(delays['sync'])} | — | — |",
        f"| shipment created → Synced (outbox `created_at` → `synced_at`) | "
        f"{_spread(c['sync_seconds'])} | — | — |", "",
        "| page kind | n unloaded | n loaded | unloaded p50 | unloaded p95 | loaded p50 | "
        "loaded p95 | ratio | target | meets |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows(result):
        ratio = f"{r['ratio']:.1f}" if r["ratio"] is not None else "—"
        meets = "—" if r["ratio"] is None else ("yes" if r["ratio"] <= TARGET else "**no**")
        lines.append(f"| {r['kind']} | {r['n_quiet']} | {r['n_busy']} | {_ms(r['quiet_p50'])} | "
                     f"{_ms(r['quiet_p95'])} | {_ms(r['busy_p50'])} | {_ms(r['busy_p95'])} | "
                     f"{ratio} | ≤ {TARGET:g} | {meets} |")
    lines += [
        "", "Queue delay is read from the workers: sync jobs are enqueued with `result_ttl=0`, "
        "so RQ deletes each one as it succeeds and its registries never list it, and the outbox "
        "records when a task was created and synced but not when a worker took it; "
        "`bench/load_worker.py` runs `jobs/worker.py`'s worker and notes each job's "
        "`enqueued_at` and `started_at` as it ends. "
        + (f"Other jobs in the window (imports, sweeps): {len(delays['other'])}, longest queue "
           f"delay {ms(other)}. " if other is not None else "No other job ran in the window. ")
        + "Jobs run, and the longest run of each: " + ", ".join(
            f"`{func.removeprefix('jobs.')}` {count} ({ms(most)})"
            for func, (count, most) in sorted(delays["runs"].items())) + ".",
        "", "A GET sent on a keep-alive connection just as gunicorn closes it (it closes "
        "connections idle for 2 s; people pause 1–3 s) is sent again once on a new connection, "
        "as browsers do, and counts once, its time including both tries; POSTs always follow "
        "another request at once and are never sent again.",
        "", _machine_line(result["machine"]),
        "", f"Overall: {'meets' if v['met'] else 'does **not** meet'} the targets. "
        f"The whole run took {result['wall'] / 60:.0f} minutes.", "",
        "Reproduce: `make bench` (with `TEST_DATABASE_URL` set) or `.venv/bin/python -m "
        f"bench.load --orders {args.orders} --seconds {args.seconds:g} --users {args.users}` "
        "(`BENCH_DATABASE_URL` or `TEST_DATABASE_URL`: a PostgreSQL database of its own)."]
    return "\n".join(lines)
