"""`python -m simulator …`: the documented commands work on the state file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sim(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulator", "--db", str(db), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_cli_seeds_steers_and_shows_orders(tmp_path):
    """add-seller, seed, intent-to-cancel, buyer-cancel, show, faults and rate-scale all work."""
    db = tmp_path / "sim.sqlite"
    assert sim(db, "add-seller", "s1", "--client-id", "c", "--client-secret", "x").returncode == 0
    seeded = sim(db, "seed", "--seller", "s1", "--count", "5", "--seed", "3")
    assert seeded.stdout.strip() == "5 order(s) created for s1"
    from simulator import control
    conn = control.conn_for(db)
    po = conn.execute("SELECT po FROM orders ORDER BY order_ms LIMIT 1").fetchone()["po"]
    assert sim(db, "intent-to-cancel", "--seller", "s1", po, "--line", "1").returncode == 0
    shown = json.loads(sim(db, "show", "--seller", "s1", po).stdout)
    assert shown["orderLines"]["orderLine"][0]["intentToCancel"] == "BUYER_REQUESTED"
    assert "unit(s) cancelled" in sim(db, "buyer-cancel", "--seller", "s1", po).stdout
    shown = json.loads(sim(db, "show", "--seller", "s1", po).stdout)
    statuses = shown["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"]
    assert [s["status"] for s in statuses] == ["Cancelled"]
    faults = sim(db, "faults", "shipping", "--error-rate", "0.5", "--next", "timeout=2")
    assert json.loads(faults.stdout) == {"error_rate": 0.5, "next": {"timeout": 2}}
    throttle = sim(db, "faults", "acknowledge", "--next", "throttle=1", "--replenish-format",
                   "http_date", "--replenish-seconds", "3600")
    assert json.loads(throttle.stdout) == {"next": {"throttle": 1},
                                           "replenish_format": "http_date",
                                           "replenish_seconds": 3600.0}
    assert sim(db, "faults", "--clear").stdout.strip() == "faults cleared"
    assert sim(db, "rate-scale", "50").stdout.strip() == "rate limits ×50"
    assert control.counters(conn) == {}


def test_cli_reports_mistakes_without_a_traceback(tmp_path):
    """An unknown order or a malformed option is a one-line error with a non-zero exit."""
    db = tmp_path / "sim.sqlite"
    missing = sim(db, "show", "--seller", "nobody", "123")
    assert missing.returncode == 2 and missing.stderr.startswith("error:")
    bad = sim(db, "faults", "shipping", "--next", "timeout")
    assert bad.returncode != 0 and "NAME=NUMBER" in bad.stderr


def test_auto_cancel_after_ship_by_plus_four_days(tmp_path):
    """advance-clock past ship-by + 4 days cancels every unshipped line."""
    db = tmp_path / "sim.sqlite"
    sim(db, "add-seller", "s1", "--client-id", "c", "--client-secret", "x")
    sim(db, "seed", "--seller", "s1", "--count", "3", "--days", "0.01")
    assert sim(db, "advance-clock", "24").stdout.strip() == "0 line(s) auto-cancelled"
    result = sim(db, "advance-clock", "200").stdout
    assert result.strip().endswith("line(s) auto-cancelled") and not result.startswith("0 ")


def test_cli_sets_paging_faults_and_refuses_unknown_kinds(tmp_path):
    """The paging faults take rates and --next counts; a fault kind that does not exist is a
    one-line error, not a setting that silently never fires."""
    db = tmp_path / "sim.sqlite"
    faults = sim(db, "faults", "released", "--replay-page-rate", "0.2", "--short-count-rate",
                 "0.1", "--repeat-cursor-rate", "0.3", "--next", "repeat_cursor=2")
    assert json.loads(faults.stdout) == {"replay_page_rate": 0.2, "repeat_cursor_rate": 0.3,
                                         "short_count_rate": 0.1,
                                         "next": {"repeat_cursor": 2}}
    bad = sim(db, "faults", "orders", "--next", "replay=1")
    assert bad.returncode == 2 and "unknown fault kinds: replay" in bad.stderr


def test_cli_regenerates_a_secret_and_takes_permissions_away(tmp_path):
    """set-secret replaces the seller's secret; forbid makes its credentials lack a permission
    (token and/or calls) until forbid --clear; forbid without saying what is an error."""
    from simulator import control
    from simulator.gateway import forbidden

    db = tmp_path / "sim.sqlite"
    sim(db, "add-seller", "s1", "--client-id", "c", "--client-secret", "x")
    assert sim(db, "set-secret", "s1", "--client-secret", "y").returncode == 0
    conn = control.conn_for(db)
    assert conn.execute("SELECT client_secret FROM sellers WHERE seller_id = 's1'"
                        ).fetchone()[0] == "y"
    took = sim(db, "forbid", "s1", "--token", "--endpoint", "shipping")
    assert json.loads(took.stdout) == {"token": True, "endpoints": ["shipping"]}
    assert forbidden(conn, "s1") == {"token": True, "endpoints": ["shipping"]}
    assert sim(db, "forbid", "s1", "--clear").returncode == 0
    assert forbidden(conn, "s1") == {}
    vague = sim(db, "forbid", "s1")
    assert vague.returncode == 2 and vague.stderr.startswith("error:")
    assert sim(db, "set-secret", "nobody", "--client-secret", "z").returncode == 2


def test_ship_in_seller_center_follows_walmarts_rules(tmp_path):
    """ship-in-seller-center ships by Walmart's rules: refused (a one-line error, exit 2)
    while the order is not acknowledged, then shipped with its tracking number."""
    db = tmp_path / "sim.sqlite"
    sim(db, "add-seller", "s1", "--client-id", "c", "--client-secret", "x")
    sim(db, "seed", "--seller", "s1", "--count", "1", "--seed", "3")
    from simulator import control, rules
    conn = control.conn_for(db)
    po = conn.execute("SELECT po FROM orders").fetchone()["po"]
    args = ("ship-in-seller-center", "--seller", "s1", po, "--line", "1", "--tracking", "1ZSC1")
    refused = sim(db, *args)
    assert refused.returncode == 2 and "not acknowledged" in refused.stderr
    control.update_order(conn, "s1", po, rules.acknowledge)
    assert sim(db, *args).stdout.strip() == "1 unit(s) of line 1 shipped in Seller Center"
    shown = json.loads(sim(db, "show", "--seller", "s1", po).stdout)
    statuses = shown["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"]
    assert [(s["status"], (s["trackingInfo"] or {}).get("trackingNumber")) for s in statuses
            if s["status"] == "Shipped"] == [("Shipped", "1ZSC1")]
