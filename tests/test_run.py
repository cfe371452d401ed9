"""`make run`: embedded Redis, supervision, and the whole launcher end to end."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from devserver.net import free_port, wait_until_serving
from devserver.redis_server import EmbeddedRedis, reachable
from devserver.supervisor import Child, Supervisor

ROOT = Path(__file__).resolve().parent.parent


def test_embedded_redis_starts_answers_and_stops(tmp_path):
    """The embedded Redis is a real server on a free port, gone after stop()."""
    server = EmbeddedRedis(tmp_path).start()
    assert reachable(server.url)
    server.stop()
    assert not reachable(server.url, timeout=0.3)


def test_the_product_never_imports_the_dev_tools():
    """webapp/, jobs/ and the simulator run without `make run`'s package: none imports it."""
    importers = [str(path.relative_to(ROOT)) for folder in ("webapp", "jobs", "simulator")
                 for path in (ROOT / folder).rglob("*.py")
                 if re.search(r"^\s*(from|import) devserver\b", path.read_text(), re.M)]
    assert importers == []
    assert (ROOT / "wsgi.py").read_text().count("devserver") == 0


def test_waiting_for_a_server_that_exited_ends_at_once():
    """wait_until_serving gives up as soon as the server's process has exited, not at the
    timeout; a server that answers is seen."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    started = time.monotonic()
    assert not wait_until_serving(f"http://127.0.0.1:{free_port()}/", timeout=30,
                                  process=process)
    assert time.monotonic() - started < 5
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                               "127.0.0.1", "--directory", str(ROOT / "devserver")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until_serving(f"http://127.0.0.1:{port}/", timeout=30, process=server)
    finally:
        server.terminate()
        server.wait(10)


def test_supervisor_restarts_a_child_that_dies(tmp_path):
    """A child that exits is started again (after a short backoff)."""
    marker = tmp_path / "starts"
    script = f"open({str(marker)!r}, 'a').write('x')"
    marker.write_text("")
    supervisor = Supervisor()
    supervisor.add(Child("flaky", [sys.executable, "-c", script], dict(os.environ)))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(marker.read_text()) < 2:
        supervisor.tick()
        time.sleep(0.1)
    supervisor.stop_all()
    assert len(marker.read_text()) >= 2


def test_the_console_repeats_warnings_and_errors_of_the_log_files(tmp_path):
    """A child's warning or error line reaches the console once, one line (an error names its
    log file for the traceback); INFO lines and a traceback's own lines stay in the file."""
    log = tmp_path / "worker.log"
    log.write_text("")
    child = Child("worker", [sys.executable, "-c", "pass"], dict(os.environ), log=log,
                  echo=True)
    child.start()
    child.process.wait()
    with log.open("a") as fh:
        fh.write("2026-01-31 12:00:00,001 INFO rq.worker: orderdeck: Job OK (sync-1-1)\n"
                 "2026-01-31 12:00:01,002 WARNING jobs.sync: sync task 7 in Error (recorded "
                 "on the task): Carrier name 'UPX' is not supported\n"
                 "2026-01-31 12:00:02,003 ERROR rq.worker: [Job sync-8-1]: exception raised\n"
                 "Traceback (most recent call last):\n"
                 '  File "x.py", line 1, in <module>\n'
                 "RuntimeError: ERROR in a message is no level\n"
                 "[2026-01-31 12:00:03 +0000] [42] [CRITICAL] WORKER TIMEOUT (pid:43)\n"
                 "2026-01-31 12:00:04,004 WARNING half a line")
    shown = child.loud_lines()
    assert shown == [
        "[worker] 2026-01-31 12:00:01,002 WARNING jobs.sync: sync task 7 in Error (recorded "
        "on the task): Carrier name 'UPX' is not supported",
        f"[worker] 2026-01-31 12:00:02,003 ERROR rq.worker: [Job sync-8-1]: exception raised"
        f"  (details: {tmp_path.name}/worker.log)",
        f"[worker] [2026-01-31 12:00:03 +0000] [42] [CRITICAL] WORKER TIMEOUT (pid:43)"
        f"  (details: {tmp_path.name}/worker.log)"]
    assert child.loud_lines() == []  # each once; the half line waits for its end
    with log.open("a") as fh:
        fh.write(" is finished now\n")
    assert child.loud_lines() == ["[worker] 2026-01-31 12:00:04,004 WARNING half a line is "
                                  "finished now"]


def _opener():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


@pytest.mark.slow
def test_make_run_serves_the_dashboard_and_stops_everything(tmp_path):
    """The launcher starts Redis, web, worker and cron; the admin signs in; SIGINT stops all."""
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"REDIS_URL", "DATABASE_URL", "SECRET_KEY", "ORDERDECK_ENCRYPTION_KEY"}}
    env.update(ORDERDECK_INSTANCE=str(tmp_path), PORT=str(port),
               ORDERDECK_ADMIN_EMAIL="owner@example.com",
               ORDERDECK_ADMIN_PASSWORD="owner password 1", ORDERDECK_DEMO_ORDERS="40",
               ORDERDECK_SIMULATOR_PORT=str(free_port()))
    launcher = subprocess.Popen([sys.executable, "-m", "devserver"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_serving(f"{base}/login", timeout=90, process=launcher):
            assert launcher.poll() is None, launcher.stdout.read()
            raise AssertionError("make run did not serve /login in time")
        runtime = json.loads((tmp_path / "runtime.json").read_text())
        assert reachable(runtime["redis_url"])  # other shells find the same Redis

        opener = _opener()
        page = opener.open(f"{base}/login").read().decode()
        token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"email": "owner@example.com",
                                       "password": "owner password 1", "csrf_token": token})
        with opener.open(f"{base}/login", data=form.encode()) as response:
            assert "<h1>Home</h1>" in response.read().decode()
        with opener.open(f"{base}/orders/") as response:
            assert "<h1>Orders</h1>" in response.read().decode()
        with opener.open(f"{base}/users/") as response:
            assert "owner@example.com" in response.read().decode()
        with opener.open(f"{base}/stores/") as response:  # the demo store, on the simulator
            assert "Demo store (simulator)" in response.read().decode()
        assert runtime["simulator_url"] in (tmp_path / "runtime.json").read_text()
        from simulator import control
        sim = control.conn_for(tmp_path / "simulator.sqlite")
        assert sim.execute("SELECT count(*) FROM orders").fetchone()[0] == 40
        worker_log = tmp_path / "logs" / "worker.log"
        deadline = time.monotonic() + 60  # the worker has run jobs (the first import's)
        while "Job OK" not in worker_log.read_text():
            assert time.monotonic() < deadline, "the worker logged no job"
            time.sleep(0.5)
    finally:
        launcher.send_signal(signal.SIGINT)
        output, _ = launcher.communicate(timeout=60)
    # The console: where to go, how to sign in, where the logs are — and no chatter.
    assert f"Orderdeck is running on http://127.0.0.1:{port}" in output
    assert "sign in as owner@example.com with the password in ORDERDECK_ADMIN_PASSWORD" \
        in output
    assert f"logs: {tmp_path / 'logs'}/" in output
    assert "[run] stopped" in output
    assert "rq.worker" not in output and " INFO " not in output and "[INFO]" not in output
    assert "alembic" not in output and "Traceback" not in output
    assert len(output.splitlines()) <= 10, output
    # The processes' own output is in instance/logs/, one file each.
    logs = tmp_path / "logs"
    assert {"web.log", "worker.log", "cron.log", "simulator.log", "redis.log",
            "launcher.log"} <= {p.name for p in logs.iterdir()}
    assert "INFO rq.worker: " in (logs / "worker.log").read_text()
    assert "Listening at: http://127.0.0.1" in (logs / "web.log").read_text()
    assert "Running upgrade" in (logs / "launcher.log").read_text()
    assert not reachable(runtime["redis_url"], timeout=0.3)
    try:
        urllib.request.urlopen(f"{runtime['simulator_url']}/_sim/api/counters", timeout=2)
        raise AssertionError("the simulator is still serving")
    except OSError:
        pass
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == ""


@pytest.mark.slow
def test_ctrl_c_while_starting_stops_what_was_started(tmp_path):
    """The children have process groups of their own (so Ctrl-C reaches the launcher, which
    stops them in order): a Ctrl-C before everything is up still stops every one of them."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"REDIS_URL", "DATABASE_URL", "SECRET_KEY", "ORDERDECK_ENCRYPTION_KEY"}}
    env.update(ORDERDECK_INSTANCE=str(tmp_path), PORT=str(free_port()),
               ORDERDECK_ADMIN_PASSWORD="owner password 1", ORDERDECK_DEMO_ORDERS="40",
               ORDERDECK_SIMULATOR_PORT=str(free_port()))
    launcher = subprocess.Popen([sys.executable, "-m", "devserver"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
    try:
        seen = ""
        while "Walmart simulator at" not in seen:  # Redis and the simulator are up
            line = launcher.stdout.readline()
            assert line, seen
            seen += line
    finally:
        launcher.send_signal(signal.SIGINT)
        output, _ = launcher.communicate(timeout=60)
    assert "[run] stopped" in output and "Traceback" not in output
    # (Redis renames its process and the simulator's gunicorn names no path: ask them.)
    redis_url = re.search(r"embedded Redis at (\S+)", seen).group(1)
    simulator_url = re.search(r"Walmart simulator at (\S+)", seen).group(1)
    assert not reachable(redis_url, timeout=0.3)
    try:
        urllib.request.urlopen(f"{simulator_url}/_sim/api/counters", timeout=2)
        raise AssertionError("the simulator is still serving")
    except OSError:
        pass
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == ""
