"""The Walmart simulator as its own server process, for the benchmarks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.common import ROOT


class SimulatorProcess:
    """`python -m simulator serve` on a free port, with a fresh state file."""

    def __init__(self, folder: Path, rate_scale: float = 1.0, workers: int = 2) -> None:
        from devserver.net import free_port, wait_until_serving
        from simulator import control

        self.db = folder / "simulator.sqlite"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "simulator", "--db", str(self.db), "serve", "--port",
             str(self.port), "--workers", str(workers), "--threads", "8"], cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_until_serving(f"{self.url}/_sim/api/counters", process=self.process):
            raise RuntimeError("the simulator did not start")
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
