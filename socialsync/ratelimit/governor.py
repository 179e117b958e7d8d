"""The rate-limit governor: one shared view of every platform's budgets in Redis, for every replica.

Platforms name the budgets a call spends (`socialsync.platforms.base.RatePolicy.budgets`) and
say what an answer meant (``learn``); the governor does the bookkeeping for the three styles
(`Budget.style`), atomically for all budgets of a call in one Lua script:

- ``usage`` (Meta): the platform reports a usage percentage; refused while ``blocked_until`` is
  ahead, and above the threshold one call per ``pace`` seconds is let through;
- ``window`` (TikTok): at most ``limit`` units per sliding ``window_seconds`` (a sorted-set log
  of the units spent);
- ``daily_units`` (YouTube): ``limit`` units per day, the count reset at midnight in the
  budget's time zone (Pacific for Google); a spent day is refused until the reset.

Each scope is a Redis hash ``ratelimit:<scope>`` (``usage``, ``blocked_until``, ``next_at``,
``strikes``, ``day``, ``used``) plus, for windows, a sorted set ``ratelimit:<scope>:log``.
A refusal raises `RateLimited` with the time to wait, which jobs turn into ``Retry(defer=…)``.
A throttled scope is never called again before it regains access: Meta extends lockouts for
callers that keep trying (PLATFORM_FACTS.md §4).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from socialsync.config import Settings
from socialsync.logs import get_logger
from socialsync.platforms.base import Budget, BudgetUpdate, RateLimited

log = get_logger(__name__)

KEY_PREFIX = "ratelimit:"
STATE_TTL_SECONDS = 2 * 24 * 3600
MAX_BLOCK_SECONDS = 3600.0
_STYLE_CODE = {"usage": "u", "window": "w", "daily_units": "d"}

# KEYS: per budget, its hash and its log. ARGV: now, threshold, pace, nonce, then per budget
# style, cost, limit, window seconds, day id, seconds to the day's reset.
# Returns {wait, budget index, reason}; commits the spending only when every budget allows it.
_ACQUIRE = """
local now = tonumber(ARGV[1])
local threshold = tonumber(ARGV[2])
local pace = tonumber(ARGV[3])
local nonce = ARGV[4]
local n = #KEYS / 2
local wait, which, reason = 0, 0, ''
local function arg(i, k) return ARGV[4 + (i - 1) * 6 + k] end
for i = 1, n do
  local key = KEYS[2 * i - 1]
  local blocked = tonumber(redis.call('HGET', key, 'blocked_until') or '0')
  if blocked > now and blocked - now > wait then wait, which, reason = blocked - now, i, 'blocked' end
end
if wait > 0 then return {tostring(wait), which, reason} end
local paced = {}
for i = 1, n do
  local key, logkey = KEYS[2 * i - 1], KEYS[2 * i]
  local style, cost, limit = arg(i, 1), tonumber(arg(i, 2)), tonumber(arg(i, 3))
  local w = 0
  if style == 'u' then
    local usage = tonumber(redis.call('HGET', key, 'usage') or '0')
    if usage >= threshold then
      local next_at = tonumber(redis.call('HGET', key, 'next_at') or '0')
      if next_at > now then w = next_at - now else table.insert(paced, key) end
    end
    if w > wait then wait, which, reason = w, i, 'paced' end
  elseif style == 'w' then
    local window = tonumber(arg(i, 4))
    redis.call('ZREMRANGEBYSCORE', logkey, '-inf', now - window)
    local spent = redis.call('ZCARD', logkey)
    if spent + cost > limit then
      local need = spent + cost - limit
      local oldest = redis.call('ZRANGE', logkey, need - 1, need - 1, 'WITHSCORES')
      w = (oldest[2] and (tonumber(oldest[2]) + window - now)) or window
      if w <= 0 then w = 0.001 end
      if w > wait then wait, which, reason = w, i, 'window' end
    end
  else
    local day = arg(i, 5)
    local used = 0
    if redis.call('HGET', key, 'day') == day then used = tonumber(redis.call('HGET', key, 'used') or '0') end
    if used + cost > limit then
      w = tonumber(arg(i, 6))
      if w > wait then wait, which, reason = w, i, 'quota' end
    end
  end
end
if wait > 0 then return {tostring(wait), which, reason} end
for _, key in ipairs(paced) do redis.call('HSET', key, 'next_at', tostring(now + pace)) end
for i = 1, n do
  local key, logkey = KEYS[2 * i - 1], KEYS[2 * i]
  local style, cost = arg(i, 1), tonumber(arg(i, 2))
  if style == 'w' then
    for u = 1, cost do redis.call('ZADD', logkey, now, nonce .. ':' .. i .. ':' .. u) end
    redis.call('PEXPIRE', logkey, math.ceil((tonumber(arg(i, 4)) + 60) * 1000))
  elseif style == 'd' then
    local day = arg(i, 5)
    if redis.call('HGET', key, 'day') ~= day then
      redis.call('HSET', key, 'day', day, 'used', cost)
    else
      redis.call('HINCRBY', key, 'used', cost)
    end
    redis.call('EXPIRE', key, math.ceil(tonumber(arg(i, 6))) + 172800)
  end
end
return {'0', 0, ''}
"""


def day_and_reset(now: float, tz: str) -> tuple[str, float]:
    """The budget day (in ``tz``) that ``now`` falls in, and the seconds to its next midnight."""
    local = datetime.fromtimestamp(now, ZoneInfo(tz))
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=local.tzinfo)
    return local.date().isoformat(), max(1.0, midnight.timestamp() - now)


class Governor:
    """Checks before, and learns after, every platform call (see module docstring)."""

    def __init__(self, redis: Redis, settings: Settings, now: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._settings = settings
        self._now = now
        self._acquire = redis.register_script(_ACQUIRE)

    @staticmethod
    def key(scope: str) -> str:
        return KEY_PREFIX + scope

    async def acquire(self, budgets: Sequence[Budget]) -> None:
        """Spend these budgets for one call, or raise `RateLimited` (nothing spent) when one is
        blocked, paced, its window full or its day used up."""
        if not budgets:
            return
        now = self._now()
        keys: list[str] = []
        args: list[object] = [now, self._settings.ratelimit_threshold_percent,
                              self._settings.ratelimit_pace_seconds, secrets.token_hex(6)]
        for b in budgets:
            keys += [self.key(b.scope), self.key(b.scope) + ":log"]
            day, reset_in = day_and_reset(now, b.reset_tz) if b.style == "daily_units" else ("", 0.0)
            args += [_STYLE_CODE[b.style], b.cost, b.limit, b.window_seconds, day, reset_in]
        wait, which, reason = await self._acquire(keys=keys, args=args)
        wait = float(wait)
        if wait > 0:
            reason = reason.decode() if isinstance(reason, bytes) else reason
            raise RateLimited(budgets[int(which) - 1].scope, wait, reason)

    async def learn(self, updates: Sequence[BudgetUpdate]) -> None:
        """Apply what answers said: usage figures, blocks, throttles, spent days."""
        if not updates:
            return
        now = self._now()
        pipe = self._redis.pipeline(transaction=False)
        throttles: list[BudgetUpdate] = []
        for u in updates:
            key = self.key(u.scope)
            if u.usage is not None:
                pipe.hset(key, mapping={"usage": u.usage, "updated_at": now})
                pipe.expire(key, STATE_TTL_SECONDS)
            if u.throttled:
                throttles.append(u)
                continue
            seconds = u.blocked_for
            if u.spent_until_reset:
                seconds = day_and_reset(now, u.reset_tz)[1]
            elif seconds is None and u.default_block:
                seconds = self._settings.ratelimit_block_seconds
            if seconds is not None and seconds > 0:
                pipe.hset(key, mapping={"blocked_until": now + seconds})
                pipe.expire(key, max(STATE_TTL_SECONDS, int(seconds) + 60))
            if u.clears_strikes:
                pipe.hdel(key, "strikes")
        await pipe.execute()
        for u in throttles:
            await self.block(u.scope, u.blocked_for, now=now)

    async def block(self, scope: str, seconds: float | None = None, *, now: float | None = None) -> float:
        """Block a scope for ``seconds`` (the platform's estimate) or an escalating backoff."""
        now = self._now() if now is None else now
        key = self.key(scope)
        strikes = await self._redis.hincrby(key, "strikes", 1)
        if seconds is None or seconds <= 0:
            base = self._settings.ratelimit_block_seconds
            seconds = min(MAX_BLOCK_SECONDS, base * 2 ** max(0, strikes - 1))
        await self._redis.hset(key, mapping={"blocked_until": now + seconds, "usage": 100})
        await self._redis.expire(key, STATE_TTL_SECONDS)
        log.warning("rate limit scope blocked", scope=scope, seconds=round(seconds, 1), strikes=strikes)
        return seconds

    async def blocked_for(self, scopes: Sequence[str]) -> float:
        """Seconds until every one of these scopes is open again (0: open)."""
        now = self._now()
        values = [await self._redis.hget(self.key(s), "blocked_until") for s in scopes]
        return max([float(v) - now for v in values if v is not None] + [0.0])

    async def state(self, scope: str) -> dict[str, float | str]:
        raw = await self._redis.hgetall(self.key(scope))
        out: dict[str, float | str] = {}
        for k, v in raw.items():
            name, value = (k.decode() if isinstance(k, bytes) else k), (v.decode() if isinstance(v, bytes) else v)
            try:
                out[name] = float(value)
            except ValueError:
                out[name] = value
        return out

    async def clear(self, scope: str) -> None:
        """Forget a scope's state (operators; tests)."""
        await self._redis.delete(self.key(scope), self.key(scope) + ":log")
