"""Keep child processes alive: restart one that dies, stop them all on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import dataclass, field


@dataclass
class Child:
    name: str
    command: list[str]
    env: dict[str, str]
    process: subprocess.Popen | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = field(default=0.0)

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.env)
        self.started_at = time.monotonic()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Supervisor:
    def __init__(self) -> None:
        self.children: list[Child] = []
        self.stopping = False

    def add(self, child: Child) -> Child:
        self.children.append(child)
        child.start()
        return child

    def _on_signal(self, signum, _frame) -> None:
        self.stopping = True

    def run(self) -> None:
        """Watch children until a signal asks to stop, then stop them all."""
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        try:
            while not self.stopping:
                self.tick()
                time.sleep(0.5)
        finally:
            self.stop_all()

    def tick(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.alive():
                if now - child.started_at > 60:
                    child.restarts = 0  # it ran long enough: a later death starts backoff anew
                continue
            if child.next_start == 0.0:
                # Back off 1, 2, 4 … 30 s so a child that cannot start does not spin.
                delay = min(30.0, 2.0 ** child.restarts)
                code = child.process.returncode if child.process else None
                print(f"[run] {child.name} exited ({code}); restarting in {delay:.0f}s", flush=True)
                child.next_start = now + delay
            elif now >= child.next_start:
                child.restarts += 1
                child.next_start = 0.0
                child.start()

    def stop_all(self) -> None:
        for child in reversed(self.children):  # web first, Redis last
            if child.alive():
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in reversed(self.children):
            if child.process is None:
                continue
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
