"""Sign-in throttling: an attempt is counted BEFORE its password is checked, atomically.

Two counters guard every password check:
- per client address, a fixed window (`LOGIN_LIMIT_PER_ADDRESS`, e.g. "20 per 15 minutes");
- per account, a few free tries (`LOGIN_FREE_TRIES`), then a growing delay between tries
  (1 s, 2 s, 4 s … capped at `LOGIN_DELAY_CAP`). A short delay instead of a long lock-out: an
  attacker can slow a real user down by a minute at most, never lock them out for 15.

Counting happens in one Redis script per counter, so N parallel attempts reserve at most the
allowed number of password checks (counting after the check, as flask-limiter's `deduct_when`
did, let every parallel request through). A successful sign-in gives its attempts back. When
Redis cannot be reached, the counters live in this process's memory instead: sign-in keeps
working, throttled per process.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

from flask import current_app
from limits import parse
from redis.exceptions import RedisError

from webapp.extensions import redis_connection

log = logging.getLogger(__name__)

# An account's failures are forgotten after this long without another one.
ACCOUNT_MEMORY_SECONDS = 15 * 60
FIRST_DELAY_SECONDS = 1.0

# KEYS[1] counter; ARGV limit, window seconds. Returns "0" (counted) or the seconds to wait.
_ADDRESS_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  local ttl = redis.call('TTL', KEYS[1])
  if ttl < 1 then ttl = 1 end
  return tostring(ttl)
end
return '0'
"""
# KEYS[1] hash {n: attempts counted, next: time the next try is allowed};
# ARGV now, free tries, first delay, cap, memory. Returns "0" (counted) or the seconds to wait.
_ACCOUNT_SCRIPT = """
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local next_at = tonumber(redis.call('HGET', KEYS[1], 'next') or '0')
local now = tonumber(ARGV[1])
local free = tonumber(ARGV[2])
if n >= free and now < next_at then return tostring(next_at - now) end
n = n + 1
redis.call('HSET', KEYS[1], 'n', n)
if n >= free then
  local delay = math.min(tonumber(ARGV[3]) * 2 ^ (n - free), tonumber(ARGV[4]))
  redis.call('HSET', KEYS[1], 'next', tostring(now + delay))
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
return '0'
"""
_GIVE_BACK_SCRIPT = """
if redis.call('TYPE', KEYS[1])['ok'] == 'hash' then
  if tonumber(redis.call('HGET', KEYS[1], 'n') or '0') > 0 then
    redis.call('HINCRBY', KEYS[1], 'n', -1)
  end
elseif tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
  redis.call('DECR', KEYS[1])
end
return 0
"""


def now() -> float:
    """The clock the delays are measured on (tests set it)."""
    return time.time()


class Throttled(Exception):
    """This attempt is refused before any password check; `wait` seconds until the next."""

    def __init__(self, message: str, wait: float) -> None:
        super().__init__(message)
        self.message = message
        self.wait = max(1, math.ceil(wait))


def _duration(seconds: float) -> str:
    seconds = max(1, math.ceil(seconds))
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


class _Memory:
    """The same counters in this process, for when Redis is unreachable."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.data: dict[str, dict[str, float]] = {}

    def _get(self, key: str, at: float) -> dict[str, float]:
        entry = self.data.get(key)
        if entry is None or entry["expires"] <= at:
            entry = self.data[key] = {"n": 0, "next": 0, "expires": math.inf}
        return entry

    def address(self, key: str, limit: int, window: int, at: float) -> float:
        with self.lock:
            entry = self._get(key, at)
            if entry["n"] >= limit:
                return max(1.0, entry["expires"] - at)
            if entry["n"] == 0:
                entry["expires"] = at + window
            entry["n"] += 1
            return 0.0

    def account(self, key: str, at: float, free: int, first: float, cap: float) -> float:
        with self.lock:
            entry = self._get(key, at)
            if entry["n"] >= free and at < entry["next"]:
                return entry["next"] - at
            entry["n"] += 1
            if entry["n"] >= free:
                entry["next"] = at + min(first * 2 ** (entry["n"] - free), cap)
            entry["expires"] = at + ACCOUNT_MEMORY_SECONDS
            return 0.0

    def give_back(self, key: str) -> None:
        with self.lock:
            entry = self.data.get(key)
            if entry and entry["n"] > 0:
                entry["n"] -= 1


_memory = _Memory()


# After Redis fails, count in memory for a while instead of waiting for its connect timeout
# at every attempt (per Redis address, so one app's outage does not affect another's).
RETRY_REDIS_AFTER_SECONDS = 30
_redis_down_until: dict[str, float] = {}


def _run(script: str, key: str, *args) -> float | None:
    """Run a counting script in Redis; None when Redis cannot be reached."""
    url = current_app.config["REDIS_URL"]
    if time.monotonic() < _redis_down_until.get(url, 0):
        return None
    try:
        reply = redis_connection().eval(script, 1, key, *args)
    except RedisError as exc:
        log.warning("sign-in throttle: Redis unreachable (%s); counting in this process", exc)
        _redis_down_until[url] = time.monotonic() + RETRY_REDIS_AFTER_SECONDS
        return None
    return float(reply)


@dataclass
class Attempt:
    """One reserved password check; `succeeded()` gives it back."""

    keys: tuple[str, ...]

    def succeeded(self) -> None:
        for key in self.keys:
            if _run(_GIVE_BACK_SCRIPT, key) is None:
                _memory.give_back(key)


def _prefix() -> str:
    return current_app.config.get("RATELIMIT_KEY_PREFIX") or "orderdeck"


def _reserve_address(address: str) -> str:
    item = parse(current_app.config["LOGIN_LIMIT_PER_ADDRESS"])
    key = f"{_prefix()}:login-address:{address}"
    limit, window = item.amount, item.get_expiry()
    wait = _run(_ADDRESS_SCRIPT, key, limit, window)
    if wait is None:
        wait = _memory.address(key, limit, window, now())
    if wait:
        raise Throttled("Too many failed sign-ins from your network address: wait "
                        f"{_duration(wait)} and try again.", wait)
    return key


def _reserve_account(email: str) -> str:
    config = current_app.config
    key = f"{_prefix()}:login-account:{email}"
    at, free = now(), int(config["LOGIN_FREE_TRIES"])
    first, cap = FIRST_DELAY_SECONDS, float(config["LOGIN_DELAY_CAP"])
    wait = _run(_ACCOUNT_SCRIPT, key, repr(at), free, first, cap, ACCOUNT_MEMORY_SECONDS)
    if wait is None:
        wait = _memory.account(key, at, free, first, cap)
    if wait:
        raise Throttled("Too many failed sign-ins for this account: wait "
                        f"{_duration(wait)} and try again.", wait)
    return key


def reserve(email: str, address: str | None) -> Attempt:
    """Count one sign-in attempt for this (normalised) e-mail and client address, or raise
    Throttled. The address is counted first; an attempt the account refuses gives it back."""
    address_key = _reserve_address(address or "unknown")
    try:
        account_key = _reserve_account(email[:254])
    except Throttled:
        Attempt((address_key,)).succeeded()
        raise
    return Attempt((address_key, account_key))
