"""The Walmart simulator as its own server process, for the benchmarks."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.common import ROOT


class SimulatorProcess:
    """`python -m simulator serve` on a free port, with a fresh state file."""

    def __init__(self, folder: Path, rate_scale: float = 1.0, workers: int = 2) -> None:
        from simulator import control
        from webapp.run.redis_server import free_port

        self.db = folder / "simulator.sqlite"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "simulator", "--db", str(self.db), "serve", "--port",
             str(self.port), "--workers", str(workers), "--threads", "8"], cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_sim/api/counters", timeout=1):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the simulator did not start") from None
                time.sleep(0.1)
        self.conn = control.conn_for(self.db)
        control.set_rate_scale(self.conn, rate_scale)

    def seller(self, name: str = "bench-seller"):
        from simulator import control

        control.add_seller(self.conn, name, f"{name}-id", f"{name}-secret")
        return name, f"{name}-id", f"{name}-secret"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
