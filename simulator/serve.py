"""Serve the simulator with gunicorn, keeping header names that contain '_'.

Werkzeug's server and gunicorn (by default) silently drop `WM_SEC.ACCESS_TOKEN` and the other
Walmart headers; `--header-map dangerous` keeps them.
"""

from __future__ import annotations

import os
import sys

from simulator.db import connect


def command(db: str, host: str, port: int, workers: int, threads: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--header-map", "dangerous",
            "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
            "--bind", f"{host}:{port}", "--timeout", "120", "--graceful-timeout", "3",
            "--no-control-socket", "--log-level", "warning", "simulator.wsgi:app"]


def serve(db: str, host: str, port: int, workers: int, threads: int) -> int:
    connect(db)  # create the schema before the workers race to
    os.environ["SIMULATOR_DB"] = os.path.abspath(db)
    os.execv(sys.executable, command(db, host, port, workers, threads))
    return 0  # not reached
