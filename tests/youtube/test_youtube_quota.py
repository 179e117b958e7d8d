"""The quota governor: charged before the call, reserve for publishing and moderation, fair
share per account, blocked until midnight Pacific (DST-aware)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from socialsync.platforms.youtube.errors import QuotaDeferred
from socialsync.platforms.youtube.quota import QuotaGovernor, next_reset

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


def test_reset_is_midnight_pacific_across_dst() -> None:
    before_dst_end = datetime(2026, 10, 31, 12, 0, tzinfo=LA).timestamp()
    assert next_reset(before_dst_end) == datetime(2026, 11, 1, 0, 0, tzinfo=LA).timestamp()
    day_of_change = datetime(2026, 11, 1, 12, 0, tzinfo=LA).timestamp()
    # 1 Nov 2026 has 25 hours in Los Angeles: the next reset is 25 h after the previous one
    assert next_reset(day_of_change) - next_reset(before_dst_end) == 25 * 3600
    assert datetime.fromtimestamp(next_reset(day_of_change), LA).hour == 0


async def test_sync_cannot_touch_the_reserve_but_moderation_can(redis: Redis) -> None:
    clock = Clock(datetime(2026, 12, 1, 9, 0, tzinfo=LA).timestamp())
    gov = QuotaGovernor(redis, "p", daily_units=120, reserve_units=100, now=clock)
    for _ in range(20):
        await gov.charge("videos.list", purpose="sync", account_id="a")
    with pytest.raises(QuotaDeferred) as refused:
        await gov.charge("videos.list", purpose="sync", account_id="a")
    assert refused.value.reason == "daily_budget" and refused.value.until == next_reset(clock.ts)
    assert await gov.charge("comments.setModerationStatus", purpose="moderation", account_id="a") == 50
    assert await gov.charge("comments.insert", purpose="moderation", account_id="a") == 50
    with pytest.raises(QuotaDeferred):
        await gov.charge("comments.delete", purpose="moderation", account_id="a")
    status = await gov.status()
    assert (status.spent, status.left) == (120, 0)
    clock.ts = next_reset(clock.ts) + 1
    assert await gov.charge("videos.list", purpose="sync", account_id="a") == 1


async def test_one_account_gets_only_its_fair_share(redis: Redis) -> None:
    gov = QuotaGovernor(redis, "p", daily_units=100, reserve_units=40, now=Clock(1.8e9))
    for _ in range(20):  # (100 - 40) / 3 accounts = 20 each
        await gov.charge("playlistItems.list", purpose="sync", account_id="a", active_accounts=3)
    with pytest.raises(QuotaDeferred) as refused:
        await gov.charge("playlistItems.list", purpose="sync", account_id="a", active_accounts=3)
    assert refused.value.reason == "fair_share"
    assert await gov.charge("playlistItems.list", purpose="sync", account_id="b", active_accounts=3) == 1
    assert (await gov.status()).by_account == {"a": 20, "b": 1}


async def test_blocked_project_refuses_everything_until_the_reset(redis: Redis) -> None:
    clock = Clock(datetime(2026, 12, 1, 23, 59, tzinfo=LA).timestamp())
    gov = QuotaGovernor(redis, "p", daily_units=10_000, reserve_units=0, now=clock)
    until = await gov.block_until_reset()
    assert until - clock.ts == 60
    with pytest.raises(QuotaDeferred):
        await gov.charge("comments.insert", purpose="moderation", account_id="a")
    clock.ts = until + 1
    assert await gov.charge("videos.list", purpose="sync", account_id="a") == 1
