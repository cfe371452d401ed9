"""Ports and waiting for a server to answer: for `make run`, the tests and the benchmarks.

Imports nothing from the app, so the tests and the benchmarks can use it before any app exists.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request


def free_port() -> int:
    """A loopback port nobody listens on now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_until_serving(url: str, timeout: float = 30, *,
                       process: subprocess.Popen | None = None, every: float = 0.1) -> bool:
    """True once a GET of `url` answers without an error status; False when `timeout` seconds
    pass first, or as soon as `process` (the server being waited for) has exited."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:  # refused, reset, timed out, or an HTTP error status
            pass
        if process is not None and process.poll() is not None:
            return False
        if time.monotonic() >= deadline:
            return False
        time.sleep(every)
