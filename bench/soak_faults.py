"""Soak: the probe's fault campaign, 20 times in a row; the slowest settle time.

    .venv/bin/python -m bench.soak_faults [--rounds 20] [--window 300]

Each round is `acknowledgement_campaign()` from tests/test_fault_campaign.py (the same code,
not a copy): 40 new orders imported and acknowledged by two worker processes while 20 % of
Walmart calls answer 500 before acting and 10 % act and then lose the answer, at the
production backoff (2 s base, 10 minute cap). A round settles when nothing is pending; it must
do so within the window (300 s). It runs through pytest for the test fixtures (a fresh
database, Redis database and simulator seller per round): TEST_REDIS_URL and
TEST_DATABASE_URL apply as in the tests. Not part of `make test` (minutes long): the result
goes into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import pytest

from bench.common import ROOT, machine, now, write_section

RESULTS = "ORDERDECK_SOAK_RESULTS"


def _rounds() -> list[int]:
    return list(range(1, int(os.environ.get("ORDERDECK_SOAK_ROUNDS", "20")) + 1))


@pytest.mark.parametrize("round_", _rounds())
def test_campaign_round(app, walmart_store, workers, round_):
    """One round of the campaign settles within the window; its settle time is recorded."""
    from tests.test_fault_campaign import acknowledgement_campaign

    window = float(os.environ.get("ORDERDECK_SOAK_WINDOW", "300"))
    settled = acknowledgement_campaign(app, walmart_store, workers, window=window,
                                       seed=round_)
    with open(os.environ[RESULTS], "a") as out:
        out.write(json.dumps({"round": round_, "settled": settled}) + "\n")
    assert settled is not None, f"round {round_} still pending after {window:.0f} s"


def _seconds(settled: float | None) -> str:
    return "not settled" if settled is None else f"{settled:.1f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--window", type=float, default=300.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        # (ORDERDECK_SOAK_RESULTS keeps the rounds' results where a person can read them.)
        results = Path(os.environ.get(RESULTS) or Path(folder) / "results.jsonl")
        os.environ.update({RESULTS: str(results), "ORDERDECK_SOAK_ROUNDS": str(args.rounds),
                           "ORDERDECK_SOAK_WINDOW": str(args.window)})
        code = pytest.main(["-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
                            "-p", "tests.test_fault_campaign", "--rootdir", str(ROOT),
                            str(Path(__file__).resolve())])
        rows = [json.loads(x) for x in results.read_text().splitlines()] \
            if results.exists() else []
    times = [r["settled"] for r in rows if r["settled"] is not None]
    late = [r["round"] for r in rows if r["settled"] is None]
    database = "PostgreSQL" if os.environ.get("TEST_DATABASE_URL") else "SQLite"
    summary = (f"{len(rows)} round(s), {len(late)} not settled within {args.window:.0f} s; "
               + (f"settle time slowest {max(times):.1f} s, fastest {min(times):.1f} s"
                  if times else "no round settled"))
    print(summary)
    if rows:
        lines = "\n".join(f"| {r['round']} | {_seconds(r['settled'])} |" for r in rows)
        write_section("soak_faults", f"""## Fault soak (`python -m bench.soak_faults`)

The probe's fault campaign, {len(rows)} times in a row: 40 new orders imported and acknowledged
by two worker processes while 20 % of Walmart calls answer 500 before acting and 10 % act and
then lose the answer; production backoff (2 s base, 10 minute cap), a 300 s window per round.
Settle time: from the import's start until nothing is pending. {database}; {machine()};
{now()}.

**{summary}.**

| round | settled after |
| ---: | ---: |
{lines}
""")
    return int(code) if not late else 1


if __name__ == "__main__":
    sys.exit(main())
