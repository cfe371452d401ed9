"""A seeded SQLite database kept between runs (`--reuse`): seeding a million orders takes
minutes, measuring them less.

The file is kept under ~/.cache/orderdeck-bench (or $XDG_CACHE_HOME, or --cache-dir), named
by the order count, the seed, the UTC day (the data is dated relative to when it was made: a
file from yesterday would have its open orders a day late) and a digest of what makes the
data — bench/seed*.py, bench/bulk_load.py and the migrations. Each run works on a copy, so
what a run changes (an update put in flight for the polls) never reaches the next one. A new
file replaces the older ones of its kind (one kept per kind).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bench.common import ROOT

DEFAULT_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "orderdeck-bench"


def key(count: int, seed: int, kind: str = "orders") -> str:
    """The cached file's name; `kind` keeps apart data made for different benchmarks (the
    Orders page's three stores, the import's one), each kind keeping its own newest file."""
    digest = hashlib.sha256()
    for path in sorted([*ROOT.glob("bench/seed*.py"), ROOT / "bench" / "bulk_load.py",
                        *ROOT.glob("migrations/versions/*.py")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return (f"{kind}-{count}-seed{seed}-{datetime.now(UTC):%Y%m%d}-"
            f"{digest.hexdigest()[:12]}")


def kind_of(name: str) -> str:
    """The kind a key() was made for: "import-orders-1000-seed7-…" → "import-orders"."""
    return name.rsplit("-seed", 1)[0].rsplit("-", 1)[0]


def restore(folder: Path, name: str, work: Path) -> dict | None:
    """Copy the cached database to `work`; its samples, or None when there is none."""
    cached, meta = folder / f"{name}.sqlite", folder / f"{name}.json"
    if not (cached.exists() and meta.exists()):
        return None
    shutil.copyfile(cached, work)
    return {**json.loads(meta.read_text()), "reused": str(cached)}


def save(folder: Path, name: str, work: Path, samples: dict) -> None:
    """Keep a consistent copy of `work` (SQLite's backup: the WAL's pages included)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{kind_of(name)}-[0-9]*"):  # (not another kind's)
        old.unlink()
    partial = folder / f"{name}.partial"
    source, target = sqlite3.connect(work), sqlite3.connect(partial)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    partial.rename(folder / f"{name}.sqlite")
    (folder / f"{name}.json").write_text(json.dumps(samples))
