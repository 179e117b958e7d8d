"""The YouTube quota governor: every Data API call is charged its documented cost in Redis
*before* it is made, per Google project per Pacific day, shared by every worker replica.

- The day ends at midnight America/Los_Angeles (DST-aware); keys expire a day after.
- ``sync`` calls may use ``daily_units - reserve_units``; ``publish`` and ``moderation`` may use
  the reserve too, so a day of syncing never starves a publish or a reply.
- Fair share: one account's sync may spend at most ``(daily_units - reserve) / active accounts``.
- ``quotaExceeded`` from Google blocks the project until the reset (nothing is called meanwhile);
  ``rateLimitExceeded`` sets a short back-off.
A refusal raises `QuotaDeferred` with the time to retry at; jobs turn it into a deferral.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Literal
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from socialsync.platforms.youtube.errors import QuotaDeferred

PACIFIC = ZoneInfo("America/Los_Angeles")
Purpose = Literal["sync", "publish", "moderation"]

# Documented costs (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §7.1). Unknown calls cost 1.
COSTS: dict[str, int] = {
    "channels.list": 1, "playlistItems.list": 1, "videos.list": 1, "commentThreads.list": 1,
    "comments.list": 1, "comments.insert": 50, "comments.update": 50,
    "comments.setModerationStatus": 50, "comments.delete": 50, "commentThreads.insert": 50,
    "thumbnails.set": 50, "videos.update": 50, "videos.delete": 50,
    "videos.insert": 0,  # its own 100-a-day bucket (counted apart, see `charge_insert`)
}

# KEYS[1] the day hash. ARGV: units, limit, account field, account cap, now, ttl.
# Returns {status, value}: status 0 = charged (value = spent), 1 = blocked (value = until),
# 2 = project limit, 3 = account share.
_CHARGE = """
local units = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local cap = tonumber(ARGV[4])
local now = tonumber(ARGV[5])
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked_until') or '0')
if blocked > now then return {1, tostring(blocked)} end
local backoff = tonumber(redis.call('HGET', KEYS[1], 'backoff_until') or '0')
if backoff > now then return {4, tostring(backoff)} end
local spent = tonumber(redis.call('HGET', KEYS[1], 'spent') or '0')
if spent + units > limit then return {2, tostring(spent)} end
if cap >= 0 then
  local mine = tonumber(redis.call('HGET', KEYS[1], ARGV[3]) or '0')
  if mine + units > cap then return {3, tostring(mine)} end
end
redis.call('HINCRBY', KEYS[1], 'spent', units)
redis.call('HINCRBY', KEYS[1], ARGV[3], units)
redis.call('HINCRBY', KEYS[1], 'calls', 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
return {0, tostring(spent + units)}
"""


def pacific_day(ts: float) -> date:
    return datetime.fromtimestamp(ts, PACIFIC).date()


def next_reset(ts: float) -> float:
    """The next midnight Pacific after ``ts`` (23, 24 or 25 hours per day around DST)."""
    tomorrow = pacific_day(ts) + timedelta(days=1)
    return datetime.combine(tomorrow, dtime(0), PACIFIC).timestamp()


@dataclass(frozen=True, slots=True)
class QuotaStatus:
    day: str
    daily_units: int
    reserve_units: int
    spent: int
    left: int
    calls: int
    blocked_until: float | None
    resets_at: float
    by_account: dict[str, int]


class QuotaGovernor:
    def __init__(self, redis: Redis, project: str, *, daily_units: int, reserve_units: int,
                 now: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self.project = project
        self.daily_units = daily_units
        self.reserve_units = min(reserve_units, daily_units)
        self.now = now
        self._charge = redis.register_script(_CHARGE)

    def key(self, ts: float | None = None) -> str:
        day = pacific_day(self.now() if ts is None else ts)
        return f"ytquota:{self.project}:{day.isoformat()}"

    async def charge(self, method: str, *, purpose: Purpose, account_id: str | None,
                     active_accounts: int = 1) -> int:
        """Charge one call of ``method`` (``"videos.list"``) or raise `QuotaDeferred`."""
        units = COSTS.get(method, 1)
        if units == 0:
            return 0
        now = self.now()
        limit = self.daily_units if purpose != "sync" else self.daily_units - self.reserve_units
        cap = -1
        if purpose == "sync" and account_id is not None and active_accounts > 1:
            cap = (self.daily_units - self.reserve_units) // active_accounts
        status, value = await self._charge(
            keys=[self.key(now)],
            args=[units, limit, f"acct:{account_id or '-'}", cap, now, 2 * 86400],
        )
        status = int(status)
        if status == 0:
            return units
        reset = next_reset(now)
        if status in (1, 4):
            until = float(value)
            raise QuotaDeferred(until, "quota_blocked" if status == 1 else "rate_limited")
        raise QuotaDeferred(reset, "daily_budget" if status == 2 else "fair_share")

    async def block_until_reset(self) -> float:
        """Google said quotaExceeded: nothing goes out for this project until midnight PT."""
        now = self.now()
        until = next_reset(now)
        key = self.key(now)
        await self._redis.hset(key, "blocked_until", str(until))
        await self._redis.expire(key, 2 * 86400)
        return until

    async def back_off(self, seconds: float) -> float:
        now = self.now()
        until = now + max(1.0, seconds)
        key = self.key(now)
        await self._redis.hset(key, "backoff_until", str(until))
        await self._redis.expire(key, 2 * 86400)
        return until

    async def status(self) -> QuotaStatus:
        now = self.now()
        raw = {k.decode() if isinstance(k, bytes) else k: v.decode() if isinstance(v, bytes) else v
               for k, v in (await self._redis.hgetall(self.key(now))).items()}
        spent = int(raw.get("spent", 0))
        blocked = float(raw.get("blocked_until", 0))
        return QuotaStatus(
            day=pacific_day(now).isoformat(), daily_units=self.daily_units,
            reserve_units=self.reserve_units, spent=spent, left=max(0, self.daily_units - spent),
            calls=int(raw.get("calls", 0)), blocked_until=blocked if blocked > now else None,
            resets_at=next_reset(now),
            by_account={k[5:]: int(v) for k, v in raw.items() if k.startswith("acct:") and k != "acct:-"},
        )
