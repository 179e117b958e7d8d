"""YouTube's quota on the core governor (socialsync/ratelimit/) with the plugin's policy: charged
before the call, a reserve only publishing and moderation may spend, a fair share per account,
a spent day refused until midnight Pacific (DST-aware)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio
from redis.asyncio import Redis

from socialsync.config import Settings
from socialsync.platforms.base import Call, ErrorKind, PlatformError, RateLimited
from socialsync.platforms.youtube.quota import next_reset, policy, status
from socialsync.ratelimit import Governor

LA = ZoneInfo("America/Los_Angeles")


@pytest_asyncio.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    r = Redis.from_url(redis_url)
    await r.flushdb()
    yield r
    await r.aclose()


class Clock:
    def __init__(self, ts: float) -> None:
        self.ts = ts

    def __call__(self) -> float:
        return self.ts


def call(operation: str, account: str = "a", sharers: int = 1) -> Call:
    return Call(operation=operation, account_key=account, sharers=sharers)


def test_reset_is_midnight_pacific_across_dst() -> None:
    before_dst_end = datetime(2026, 10, 31, 12, 0, tzinfo=LA).timestamp()
    assert next_reset(before_dst_end) == datetime(2026, 11, 1, 0, 0, tzinfo=LA).timestamp()
    day_of_change = datetime(2026, 11, 1, 12, 0, tzinfo=LA).timestamp()
    # 1 Nov 2026 has 25 hours in Los Angeles: the next reset is 25 h after the previous one
    assert next_reset(day_of_change) - next_reset(before_dst_end) == 25 * 3600
    assert datetime.fromtimestamp(next_reset(day_of_change), LA).hour == 0


async def test_sync_cannot_touch_the_reserve_but_moderation_can(redis: Redis) -> None:
    clock = Clock(datetime(2026, 12, 1, 9, 0, tzinfo=LA).timestamp())
    gov, rates = Governor(redis, Settings(), now=clock), policy("p", daily_units=120, reserve_units=100)
    for _ in range(20):
        await gov.acquire(rates.budgets(call("videos.list")))
    with pytest.raises(RateLimited) as refused:
        await gov.acquire(rates.budgets(call("videos.list")))
    assert refused.value.scope == "youtube:p:units:unreserved" and refused.value.reason == "quota"
    assert refused.value.retry_after == pytest.approx(next_reset(clock.ts) - clock.ts)
    await gov.acquire(rates.budgets(call("comments.setModerationStatus")))  # 50 from the reserve
    await gov.acquire(rates.budgets(call("comments.insert")))
    with pytest.raises(RateLimited):
        await gov.acquire(rates.budgets(call("comments.delete")))  # 120 spent: the day is gone
    today = await status(gov, rates, ["a"], clock.ts)
    assert (today.spent, today.left) == (120, 0)
    clock.ts = next_reset(clock.ts) + 1
    await gov.acquire(rates.budgets(call("videos.list")))
    assert (await status(gov, rates, [], clock.ts)).spent == 1


async def test_one_account_gets_only_its_fair_share(redis: Redis) -> None:
    gov, rates = Governor(redis, Settings(), now=Clock(1.8e9)), policy("p", daily_units=100, reserve_units=40)
    for _ in range(20):  # (100 - 40) / 3 accounts = 20 each
        await gov.acquire(rates.budgets(call("playlistItems.list", "a", sharers=3)))
    with pytest.raises(RateLimited) as refused:
        await gov.acquire(rates.budgets(call("playlistItems.list", "a", sharers=3)))
    assert refused.value.scope == "youtube:p:units:acct:a"
    await gov.acquire(rates.budgets(call("playlistItems.list", "b", sharers=3)))
    assert (await status(gov, rates, ["a", "b", "c"], 1.8e9)).by_account == {"a": 20, "b": 1}


async def test_quota_exceeded_blocks_everything_until_the_reset(redis: Redis) -> None:
    clock = Clock(datetime(2026, 12, 1, 23, 59, tzinfo=LA).timestamp())
    gov, rates = Governor(redis, Settings(), now=clock), policy("p", daily_units=10_000, reserve_units=0)
    said = PlatformError("quota", kind=ErrorKind.QUOTA_EXCEEDED, status=403, code="quotaExceeded")
    await gov.learn(rates.learn(call("videos.list"), httpx.Response(403), said))
    with pytest.raises(RateLimited) as refused:
        await gov.acquire(rates.budgets(call("comments.insert")))  # the reserve too: Google said so
    assert refused.value.retry_after == pytest.approx(60)
    clock.ts += 61
    await gov.acquire(rates.budgets(call("videos.list")))


async def test_uploads_spend_their_own_bucket(redis: Redis) -> None:
    gov, rates = Governor(redis, Settings(), now=Clock(1.8e9)), policy("p", daily_units=10, reserve_units=0)
    for _ in range(100):
        await gov.acquire(rates.budgets(call("videos.insert")))
    with pytest.raises(RateLimited) as refused:
        await gov.acquire(rates.budgets(call("videos.insert")))
    assert refused.value.scope == "youtube:p:units:videos.insert"
    today = await status(gov, rates, [], 1.8e9)
    assert (today.spent, today.inserts) == (0, 100)
