"""One token bucket per store and Walmart endpoint, in Redis, shared by every worker."""

from __future__ import annotations

from dataclasses import dataclass

from webapp.extensions import redis_connection
from webapp.models import Store
from webapp.walmart.enums import RATE_LIMITS

# Atomic refill-and-take using Redis' own clock, so workers on hosts with skewed clocks agree.
_TAKE = """
local key, capacity, rate = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
local reserve = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local wait = 0
if tokens >= 1 + reserve then
  tokens = tokens - 1
  allowed = 1
else
  wait = (1 + reserve - tokens) / rate
end
redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', key, math.ceil(capacity / rate) + 60)
return {allowed, tostring(wait)}
"""


@dataclass(frozen=True)
class Take:
    allowed: bool
    wait_seconds: float


def limit_for(store: Store, endpoint: str) -> int:
    """Calls per minute: the store's own figure, else Walmart's default."""
    return int((store.rate_limits or {}).get(endpoint) or RATE_LIMITS[endpoint])


# Background work (acknowledging imported orders) leaves this share of the bucket to calls a
# person is waiting for, so a shipment never queues behind hundreds of acknowledgements.
URGENT_SHARE = 0.2


def take(store: Store, endpoint: str, urgent: bool = False) -> Take:
    """Take one call from the bucket; when empty, say how long until there is one."""
    per_minute = limit_for(store, endpoint)
    reserve = 0 if urgent else max(1.0, per_minute * URGENT_SHARE) if per_minute > 2 else 0
    conn = redis_connection()
    script = conn.register_script(_TAKE)
    allowed, wait = script(keys=[f"orderdeck:bucket:{store.id}:{endpoint}"],
                           args=[per_minute, per_minute / 60.0, reserve])
    return Take(bool(int(allowed)), float(wait))
