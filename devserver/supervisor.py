"""Keep child processes alive: restart one that dies, stop them all on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from devserver import logs


@dataclass
class Child:
    name: str
    command: list[str]
    env: dict[str, str]
    # Its output goes to this file (appended to across restarts); None: the console.
    log: Path | None = None
    # Repeat the file's warnings and errors on the console (Orderdeck's own processes).
    echo: bool = False
    process: subprocess.Popen | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = field(default=0.0)
    tail: logs.Tail | None = None

    def start(self) -> None:
        # Its own process group: Ctrl-C in the terminal reaches the launcher only, which
        # stops the children in order (Redis last), not all at once.
        if self.log is None:
            self.process = subprocess.Popen(self.command, env=self.env, process_group=0)
        else:
            with self.log.open("ab") as out:  # the child keeps its own copy of the handle
                self.process = subprocess.Popen(self.command, env=self.env, process_group=0,
                                                stdin=subprocess.DEVNULL, stdout=out,
                                                stderr=subprocess.STDOUT)
            if self.echo and self.tail is None:
                self.tail = logs.Tail(self.log)
        self.started_at = time.monotonic()

    @property
    def where(self) -> str:
        """The log file as the console names it."""
        return f"{self.log.parent.name}/{self.log.name}" if self.log else "the console"

    def loud_lines(self) -> list[str]:
        """Warnings and errors it logged since the last look."""
        return logs.loud(self.tail.new_lines(), self.name, self.where) if self.tail else []

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
        self.echo()
        for child in self.children:
            if child.alive():
                if now - child.started_at > 60:
                    child.restarts = 0  # it ran long enough: a later death starts backoff anew
                continue
            if child.next_start == 0.0:
                # Back off 1, 2, 4 … 30 s so a child that cannot start does not spin.
                delay = min(30.0, 2.0 ** child.restarts)
                code = child.process.returncode if child.process else None
                print(f"[run] {child.name} exited ({code}); restarting in {delay:.0f}s "
                      f"(its log: {child.where})", flush=True)
                child.next_start = now + delay
            elif now >= child.next_start:
                child.restarts += 1
                child.next_start = 0.0
                child.start()

    def echo(self) -> None:
        """Repeat the children's new warnings and errors on the console."""
        for child in self.children:
            for line in child.loud_lines():
                print(line, flush=True)

    def stop_all(self) -> None:
        """Web first, Redis last, each one gone before the next is asked to stop: a worker
        finishing its job still has Redis and the simulator (else its last words are
        tracebacks about them). What has not stopped by the deadline is killed."""
        deadline = time.monotonic() + 20
        for child in reversed(self.children):
            if child.process is None:
                continue
            if child.alive():
                child.process.send_signal(signal.SIGTERM)
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
