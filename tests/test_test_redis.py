"""The test suite's own Redis: TEST_REDIS_URL or an embedded one, never REDIS_URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from redis import Redis

from devserver.redis_server import EmbeddedRedis

ROOT = Path(__file__).resolve().parent.parent
# Any quick test whose `app` fixture empties the test Redis before and after it.
INNER_TEST = "tests/test_auth.py::test_wrong_password_is_refused_with_a_message"


def test_a_session_without_test_redis_url_leaves_redis_url_alone(tmp_path):
    """With REDIS_URL set (the dashboard's Redis, queue and all) and TEST_REDIS_URL unset, a
    test session runs on an embedded Redis: the dashboard's keys are still there after it."""
    server = EmbeddedRedis(tmp_path / "redis").start()
    try:
        theirs = Redis.from_url(server.url)
        theirs.set("rq:queue:orderdeck-work", "a queued job of the running dashboard")
        env = {k: v for k, v in os.environ.items()
               if k not in {"TEST_REDIS_URL", "TEST_DATABASE_URL"}}  # SQLite, a tmp database
        env["REDIS_URL"] = server.url
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              INNER_TEST], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        assert theirs.get("rq:queue:orderdeck-work") == b"a queued job of the running dashboard"
        theirs.close()
    finally:
        server.stop()
