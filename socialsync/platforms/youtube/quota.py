"""YouTube's quota, configured on the core governor (socialsync/ratelimit/): Data API units per
Google project per Pacific day, every call charged its documented cost *before* it is made, in
Redis, shared by every worker replica (`policy` builds the `DailyUnitsPolicy`).

- The day ends at midnight America/Los_Angeles (DST-aware: the governor's ``reset_tz``).
- Sync calls may use ``daily_units - reserve_units``; publishing and moderation calls
  (`MODERATION_CALLS`, `PUBLISH_CALLS`) may use the reserve too, so a day of syncing never
  starves a publish or a reply.
- Fair share: one account's sync may spend at most ``(daily_units - reserve) / active accounts``.
- ``quotaExceeded`` from Google marks the day spent until the reset (nothing is called
  meanwhile); ``rateLimitExceeded`` blocks for the answer's delay or the governor's backoff.
A refusal raises the core's `RateLimited` with the seconds to wait; jobs defer, never fail.
`status` reads today's numbers back for ``GET /v1/platforms/youtube/quota``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from socialsync.ratelimit.policies import DailyUnitsPolicy

if TYPE_CHECKING:
    from socialsync.ratelimit.governor import Governor

PACIFIC = ZoneInfo("America/Los_Angeles")

# Documented costs (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §7.1). Unknown calls cost 1.
COSTS: dict[str, int] = {
    "channels.list": 1, "playlistItems.list": 1, "videos.list": 1, "commentThreads.list": 1,
    "comments.list": 1, "comments.insert": 50, "comments.update": 50,
    "comments.setModerationStatus": 50, "comments.delete": 50, "commentThreads.insert": 50,
    "thumbnails.set": 50, "videos.update": 50, "videos.delete": 50,
    "videos.insert": 0,  # its own 100-a-day bucket (`policy`'s buckets)
}


def pacific_day(ts: float) -> date:
    return datetime.fromtimestamp(ts, PACIFIC).date()


def next_reset(ts: float) -> float:
    """The next midnight Pacific after ``ts`` (23, 24 or 25 hours per day around DST)."""
    tomorrow = pacific_day(ts) + timedelta(days=1)
    return datetime.combine(tomorrow, dtime(0), PACIFIC).timestamp()


MODERATION_CALLS = frozenset({"comments.insert", "comments.update", "comments.setModerationStatus",
                              "comments.delete", "commentThreads.insert"})
PUBLISH_CALLS = frozenset({"videos.insert", "thumbnails.set", "videos.update", "videos.delete"})
INSERTS_PER_DAY = 100  # videos.insert: its own bucket, one per call (§7.1, after 2026-06-01)


def policy(project: str, *, daily_units: int, reserve_units: int) -> DailyUnitsPolicy:
    """YouTube's budgets, configured on the core's `DailyUnitsPolicy`: ``youtube:<project>:units``
    (every Data API call at its documented cost), ``…:units:unreserved`` (all but publishing and
    moderation: the reserve stays for them), ``…:units:acct:<account>`` (fair share of syncing)
    and ``…:units:videos.insert`` (the upload bucket)."""
    return DailyUnitsPolicy(
        platform=f"youtube:{project}", limit=daily_units, costs={k: v for k, v in COSTS.items() if v},
        buckets={"videos.insert": (INSERTS_PER_DAY, 1)}, reset_tz=str(PACIFIC),
        reserve=min(reserve_units, daily_units), reserved_for=MODERATION_CALLS | PUBLISH_CALLS, fair_share=True,
    )


@dataclass(frozen=True, slots=True)
class QuotaStatus:
    day: str
    daily_units: int
    reserve_units: int
    spent: int
    left: int
    blocked_until: float | None
    resets_at: float
    inserts: int
    by_account: dict[str, int]


async def status(governor: Governor, rates: DailyUnitsPolicy, account_keys: list[str], now: float) -> QuotaStatus:
    """Today's numbers, read from the core governor's state of the policy's scopes."""
    day = pacific_day(now).isoformat()

    async def used(scope: str) -> tuple[int, float]:
        state = await governor.state(scope)
        spent = int(state.get("used", 0)) if str(state.get("day", "")) == day else 0
        return spent, float(state.get("blocked_until", 0.0) or 0.0)

    spent, blocked = await used(rates.scope)
    inserts, _ = await used(f"{rates.platform}:units:videos.insert")
    by_account = {}
    for key in account_keys:
        mine, _ = await used(rates.account_scope(key))
        if mine:
            by_account[key] = mine
    return QuotaStatus(
        day=day, daily_units=rates.limit, reserve_units=rates.reserve, spent=spent,
        left=max(0, rates.limit - spent), blocked_until=blocked if blocked > now else None,
        resets_at=next_reset(now), inserts=inserts, by_account=by_account,
    )
