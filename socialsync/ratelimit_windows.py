"""The governor's ``window`` budgets: at most ``limit`` units per sliding ``window_seconds``.

Shared by every worker replica through Redis (one sorted set of call times per scope, plus a
``:blocked`` key set after a throttle answer). ``acquire`` checks and spends all budgets of a call
in one Lua script on Redis' own clock, so two workers can never both take the last slot; a refusal
raises `RateLimited` with the time until a slot frees, which jobs turn into ``Retry(defer=…)``
(never a sleep). The budgets come from a platform's `RatePolicy` (TikTok: 600/min per endpoint
per app, 6/min post init per user token, ...); `apply` takes its `BudgetUpdate`s.
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

from socialsync.platforms.base import Budget, BudgetUpdate, RateLimited

KEY_PREFIX = "ratelimit:window:"

# KEYS: one window zset per budget. ARGV: n, then (limit, window_seconds, cost) per budget.
# Returns {wait_ms, index (1-based, 0 = granted), reason}.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = tonumber(ARGV[1])
local wait, which, reason = 0, 0, ''
for i = 1, n do
  local key = KEYS[i]
  local limit = tonumber(ARGV[2 + (i - 1) * 3])
  local window = tonumber(ARGV[3 + (i - 1) * 3]) * 1000
  local cost = tonumber(ARGV[4 + (i - 1) * 3])
  local blocked = tonumber(redis.call('GET', key .. ':blocked') or '0')
  if blocked > now and blocked - now > wait then
    wait, which, reason = blocked - now, i, 'blocked'
  end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local used = redis.call('ZCARD', key)
  if used + cost > limit then
    local oldest = redis.call('ZRANGE', key, 0, used + cost - limit - 1, 'WITHSCORES')
    local free_at = tonumber(oldest[#oldest]) + window
    if free_at - now > wait then wait, which, reason = free_at - now, i, 'window' end
  end
end
if wait > 0 then return {wait, which, reason} end
for i = 1, n do
  local key = KEYS[i]
  local window = tonumber(ARGV[3 + (i - 1) * 3]) * 1000
  local cost = tonumber(ARGV[4 + (i - 1) * 3])
  for c = 1, cost do
    local seq = redis.call('INCR', key .. ':seq')
    redis.call('ZADD', key, now, now .. ':' .. seq)
  end
  redis.call('PEXPIRE', key, window + 1000)
  redis.call('PEXPIRE', key .. ':seq', window + 1000)
end
return {0, 0, ''}
"""

_BLOCK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]) + 1000) end
return until_ms
"""


class WindowGovernor:
    """Spends and blocks ``window`` budgets in Redis; other styles are left to their governor."""

    def __init__(self, redis: Redis, *, default_block_seconds: float = 60.0) -> None:
        self._redis = redis
        self.default_block_seconds = default_block_seconds
        self._acquire = redis.register_script(_ACQUIRE)
        self._block = redis.register_script(_BLOCK)

    async def acquire(self, budgets: Sequence[Budget]) -> None:
        """Spend one call of every window budget, or raise `RateLimited` (nothing spent)."""
        windows = [b for b in budgets if b.style == "window"]
        if not windows:
            return
        args: list[float | int] = [len(windows)]
        for b in windows:
            args += [b.limit, b.window_seconds, b.cost]
        wait_ms, which, reason = await self._acquire(keys=[KEY_PREFIX + b.scope for b in windows], args=args)
        if int(wait_ms) > 0:
            scope = windows[int(which) - 1].scope
            raise RateLimited(scope, int(wait_ms) / 1000, reason.decode() if isinstance(reason, bytes) else str(reason))

    async def apply(self, updates: Sequence[BudgetUpdate]) -> None:
        """A throttle answer blocks its scope (for the platform's estimate, else the default)."""
        for u in updates:
            if u.throttled or u.default_block or u.blocked_for:
                seconds = u.blocked_for or self.default_block_seconds
                await self._block(keys=[KEY_PREFIX + u.scope + ":blocked"], args=[int(seconds * 1000)])
