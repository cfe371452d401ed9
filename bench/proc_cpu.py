"""CPU time from /proc (Linux): of process trees, and of the whole machine, for bench.load."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
Pids = list[int] | Callable[[], list[int]]  # a callable is asked again at each snapshot


def _processes() -> dict[int, tuple[int, float]]:
    """pid → (parent pid, CPU seconds so far)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        out[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK)
    return out


def snapshot(groups: dict[str, Pids]) -> dict:
    """CPU seconds used so far by each group's process trees (a root and its descendants), by
    root; by this process alone ("load generator"); by the machine ("machine busy", "machine
    total": every core's time)."""
    if not Path("/proc/stat").exists():
        return {}
    procs = _processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _cpu) in procs.items():
        children.setdefault(parent, []).append(pid)

    def tree(pid: int) -> float:
        return procs.get(pid, (0, 0.0))[1] + sum(tree(c) for c in children.get(pid, []))

    out: dict = {name: {pid: tree(pid) for pid in (pids() if callable(pids) else pids)}
                 for name, pids in groups.items()}
    mine = os.times()
    out["load generator"] = {0: mine.user + mine.system}  # every thread of this process
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    out["machine total"], out["machine busy"] = sum(values) / TICK, (sum(values) - idle) / TICK
    return out


def usage(before: dict, after: dict, seconds: float) -> dict[str, float]:
    """Cores used by each group between two snapshots (a root that appeared meanwhile counts
    from its start); "machine" as a fraction of all cores."""
    if not before or not after:
        return {}
    out = {name: sum(cpu - before[name].get(pid, 0.0) for pid, cpu in after[name].items())
           / seconds for name in before if not name.startswith("machine")}
    out["machine"] = (after["machine busy"] - before["machine busy"]) / max(
        1e-9, after["machine total"] - before["machine total"])
    return out
