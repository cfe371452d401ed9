"""`flask stores …`, `flask orders …` for scripts and operators."""

from __future__ import annotations

import json


def test_stores_add_and_list(app, runner, sim):
    """A store added from the CLI (secret on stdin) is listed without its secret."""
    seller = sim.seller()
    app.config["SIMULATOR_URL"] = sim.url
    result = runner.invoke(args=["stores", "add", "Main", "--environment", "simulator",
                                 "--base-url", sim.url, "--client-id", seller.client_id,
                                 "--client-secret-stdin"], input=seller.client_secret + "\n")
    assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["stores", "list"]).output
    assert "Main\tsimulator\t" in listed and seller.client_secret not in listed
    again = runner.invoke(args=["stores", "add", "Main", "--environment", "sandbox",
                                "--client-id", "x", "--client-secret-stdin"], input="s\n")
    assert again.exit_code != 0 and "already exists" in again.output


def test_orders_import_list_and_show(app, runner, walmart_store):
    """Import prints a summary; list and show print JSON with the documented fields."""
    _store_id, seller = walmart_store(orders=6)
    result = runner.invoke(args=["orders", "import"])
    assert result.exit_code == 0, result.output
    assert "6 order(s) read, 6 new, 0 updated, 0 could not be stored" in result.output
    listed = json.loads(runner.invoke(args=["orders", "list", "--json"]).output)
    assert len(listed) == 6
    assert set(listed[0]) >= {"number", "purchase_order_id", "customer_order_id", "store",
                              "status", "status_details"}
    assert {o["status"] for o in listed} == {"Open"}
    first = listed[0]
    for key in (first["number"], first["purchase_order_id"]):
        shown = json.loads(runner.invoke(args=["orders", "show", key, "--json"]).output)
        assert shown["purchase_order_id"] == first["purchase_order_id"]
    assert set(shown["lines"][0]) >= {"line_number", "sku", "ordered", "shipped", "canceled",
                                      "refunded"}
    assert shown["shipments"] == []
    assert shown["sync_tasks"][0] == {**shown["sync_tasks"][0], "kind": "acknowledge",
                                      "state": "pending", "attempts": 0, "last_error": None}
    errors = runner.invoke(args=["orders", "list", "--status", "error", "--json"]).output
    assert json.loads(errors) == []
    missing = runner.invoke(args=["orders", "show", "nope"])
    assert missing.exit_code != 0 and "No order nope" in missing.output


def test_orders_import_reports_a_failing_store(app, runner, walmart_store):
    """A store Walmart refuses makes `orders import` exit 1 with the reason."""
    from simulator import control

    _store_id, seller = walmart_store(orders=1)
    control.set_faults(seller.sim.conn, "released", down=True)
    result = runner.invoke(args=["orders", "import"])
    assert result.exit_code == 1 and "import failed" in result.output and "503" in result.output


def test_orders_list_says_how_many_more_there_are(app, runner, walmart_store):
    """`orders list` stops at --limit (100) and says, on stderr, how many it left out and
    how to see them; the list itself (stdout) stays one order a line, or JSON."""
    walmart_store(orders=103)
    assert runner.invoke(args=["orders", "import"]).exit_code == 0
    result = runner.invoke(args=["orders", "list"])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 100
    assert "… and 3 more orders not listed: raise --limit" in result.stderr
    as_json = runner.invoke(args=["orders", "list", "--json", "--limit", "101"])
    assert len(json.loads(as_json.stdout)) == 101 and "2 more orders" in as_json.stderr
    everything = runner.invoke(args=["orders", "list", "--limit", "103"])
    assert len(everything.stdout.splitlines()) == 103 and everything.stderr == ""
    assert runner.invoke(args=["orders", "list", "--status", "shipped"]).stderr == ""


def test_cli_commands_print_no_alembic_chatter(tmp_path, redis_url):
    """A real `flask --app wsgi …` command prints its own output only: none of the INFO
    lines Alembic writes as Flask-Migrate loads it (`setup plugin …`), nor the barcode library's
    "Pillow not found" as the printing code is imported: nothing at all on stderr."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "SECRET_KEY", "ORDERDECK_ENCRYPTION_KEY"}}
    env.update(ORDERDECK_INSTANCE=str(tmp_path), REDIS_URL=redis_url)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    upgrade = subprocess.run([*flask, "db", "upgrade"], cwd=root, env=env, text=True,
                             capture_output=True, timeout=120)
    assert upgrade.returncode == 0, upgrade.stderr
    listed = subprocess.run([*flask, "stores", "list"], cwd=root, env=env, text=True,
                            capture_output=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "alembic" not in listed.stdout + listed.stderr
    assert listed.stderr == ""
    assert "setup plugin" not in upgrade.stdout + upgrade.stderr
