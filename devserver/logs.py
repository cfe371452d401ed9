"""Where `make run` sends its processes' output: one file per process in instance/logs/, and
only what a person should see on the console (the address, the sign-in, warnings).

A worker logs a few lines per job (10,000 lines in half an hour of the demo); on the console
they buried the address and the first password. Each child writes straight into its own file
(its output never waits on the launcher); the launcher reads the new lines of the files of
Orderdeck's own processes and repeats their warnings and errors on the console, one line each.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

FOLDER = "logs"
# The level where the formats put it: the app's and RQ's ("2026-01-31 12:00:00,123 WARNING
# name: …") and gunicorn's ("[2026-01-31 12:00:00 +0000] [42] [ERROR] …").
LOUD = re.compile(rb"^(?:\d{4}-\d\d-\d\d[ T][\d:.,]+ |\[[^\]]*\] \[\d+\] \[)"
                  rb"(WARNING|ERROR|CRITICAL)\b")
LONGEST = 300  # characters of a repeated line


def folder(instance: Path) -> Path:
    """instance/logs/, made on start; each file of the last run moves to NAME.log.1."""
    path = instance / FOLDER
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("*.log"):
        old.replace(old.with_name(old.name + ".1"))
    return path


def launcher_logging(path: Path) -> None:
    """The launcher's own work (migrations, the demo's setup) logs into launcher.log; only
    warnings reach the console."""
    to_file = logging.FileHandler(path / "launcher.log")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    to_console = logging.StreamHandler(sys.stderr)
    to_console.setLevel(logging.WARNING)
    to_console.setFormatter(logging.Formatter("[run] %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[to_file, to_console], force=True)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # (see webapp/)


class Tail:
    """The lines a log file gained since the last look (a line still being written waits)."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset = path, 0

    def new_lines(self) -> list[bytes]:
        try:
            with self.path.open("rb") as fh:
                fh.seek(0, 2)
                if fh.tell() < self.offset:  # truncated or replaced: read it from the start
                    self.offset = 0
                fh.seek(self.offset)
                data = fh.read(1 << 20)
        except OSError:
            return []
        complete = data.rfind(b"\n") + 1
        self.offset += complete
        return data[:complete].splitlines()


def loud(lines: list[bytes], name: str, shown_path: str) -> list[str]:
    """The warnings and errors among these lines, as the console shows them."""
    shown = []
    for raw in lines:
        match = LOUD.search(raw)
        if not match:
            continue
        text = raw.decode("utf-8", "replace").strip()
        if len(text) > LONGEST:
            text = text[:LONGEST] + "…"
        if match.group(1) != b"WARNING":
            text += f"  (details: {shown_path})"
        shown.append(f"[{name}] {text}")
    return shown
