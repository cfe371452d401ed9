"""CSV export of every order: its first byte (bench/orders_page.py times it against the bare
page baseline) and, in a process of its own, the whole file streamed with its memory.

    .venv/bin/python -m bench.csv_export --database-url URL --redis URL [--checkpoint ROWS]

The process signs in, GETs the Orders page's export URL (no filter: every order) through
Flask's test client without buffering, and reads the response chunk by chunk as a browser
would download it. Memory: the growth of the process's peak RSS over its RSS just before the
request (the peak is reset first, /proc/self/clear_refs), read after `--checkpoint` rows and
after the last; a stream whose memory is flat has the same peak at both. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT


def export_url(app) -> str:
    with app.test_request_context():
        from flask import url_for

        return url_for("orders.export")


def first_byte(client, url: str) -> float:
    """Seconds until the first non-empty chunk of the export; the download is then dropped."""
    started = time.perf_counter()
    response = client.get(url, buffered=False)
    try:
        assert response.status_code == 200, response.status_code
        for chunk in response.response:
            if chunk:
                return time.perf_counter() - started
        raise AssertionError("empty export")
    finally:
        response.close()


def _memory_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def stream(database_url: str, redis: str, checkpoint: int) -> dict:
    """Download the whole export in this process; sizes, time and peak memory growth."""
    from bench.orders_page import build_app, sign_in

    with tempfile.TemporaryDirectory() as instance:
        app = build_app(database_url, redis, Path(instance))
        client = sign_in(app)
        url = export_url(app)
        first_byte(client, url)  # imports and first queries, out of the measurement
        Path("/proc/self/clear_refs").write_text("5")  # the peak RSS starts again from now
        before = _memory_kb("VmRSS")
        started = time.perf_counter()
        response = client.get(url, buffered=False)
        assert response.status_code == 200, response.status_code
        size = rows = 0
        at_checkpoint = None
        first = None
        for chunk in response.response:
            if first is None and chunk:
                first = time.perf_counter() - started
            size += len(chunk)
            rows += chunk.count(b"\n")
            if at_checkpoint is None and rows > checkpoint:  # (the header is one line)
                at_checkpoint = {"rows": rows - 1, "peak_growth_mb": (
                    _memory_kb("VmHWM") - before) / 1024}
        response.close()
        seconds = time.perf_counter() - started
        peak = (_memory_kb("VmHWM") - before) / 1024
        return {"rows": rows - 1, "bytes": size, "seconds": seconds, "first_byte": first,
                "rss_before_mb": before / 1024, "peak_growth_mb": peak,
                "checkpoint": at_checkpoint or {"rows": rows - 1, "peak_growth_mb": peak}}


def measure_in_subprocess(database_url: str, redis: str, checkpoint: int) -> dict:
    """stream() in a fresh process (its memory is the export's alone)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.csv_export", "--database-url", database_url,
         "--redis", redis, "--checkpoint", str(checkpoint)],
        cwd=ROOT, capture_output=True, text=True, check=False, env={**os.environ})
    if done.returncode:
        raise RuntimeError(f"CSV export process failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    import logging

    logging.disable(logging.INFO)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--checkpoint", type=int, default=100_000)
    args = parser.parse_args()
    print(json.dumps(stream(args.database_url, args.redis, args.checkpoint)))


if __name__ == "__main__":
    main()
