"""The governor's budget styles beside Meta's usage headers: per-minute windows (TikTok) and daily
units reset at midnight Pacific (YouTube), on a real Redis, with the clock moved by the test."""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from redis.asyncio import Redis

from socialsync.config import get_settings
from socialsync.platforms.base import Budget, Call, ErrorKind, PlatformError, RateLimited
from socialsync.ratelimit import DailyUnitsPolicy, Governor, WindowPolicy, WindowRule

PACIFIC = ZoneInfo("America/Los_Angeles")


class Clock:
    def __init__(self, start: datetime) -> None:
        self.t = start.timestamp()

    def __call__(self) -> float:
        return self.t


@pytest.fixture
async def redis(redis_url: str):  # noqa: ANN201
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def _governor(redis: Redis, clock: Clock) -> Governor:
    return Governor(redis, get_settings(), now=clock)


def _scope() -> str:
    return "test:" + secrets.token_hex(4)


async def test_a_window_lets_limit_calls_through_then_waits_for_the_oldest_to_age_out(redis: Redis) -> None:
    clock = Clock(datetime(2026, 12, 1, 12, 0, tzinfo=PACIFIC))
    gov = _governor(redis, clock)
    budget = [Budget(scope=_scope(), style="window", limit=3, window_seconds=60)]
    for step in range(3):
        await gov.acquire(budget)
        clock.t += 10 * (step + 1)  # calls at 0, 10, 30 s
    clock.t = datetime(2026, 12, 1, 12, 0, 40, tzinfo=PACIFIC).timestamp()
    with pytest.raises(RateLimited) as full:
        await gov.acquire(budget)
    assert full.value.reason == "window"
    assert full.value.retry_after == pytest.approx(20.0)  # the call at 0 s leaves the window at 60 s
    clock.t += 20.5
    await gov.acquire(budget)  # one slot came back
    with pytest.raises(RateLimited):
        await gov.acquire(budget)


async def test_daily_units_run_out_and_come_back_at_midnight_pacific(redis: Redis) -> None:
    clock = Clock(datetime(2026, 12, 1, 23, 0, tzinfo=PACIFIC))
    gov = _governor(redis, clock)
    scope = _scope()
    insert = [Budget(scope=scope, style="daily_units", cost=50, limit=120)]
    await gov.acquire(insert)
    await gov.acquire(insert)  # 100 of 120 spent
    with pytest.raises(RateLimited) as spent:
        await gov.acquire(insert)
    assert spent.value.reason == "quota"
    assert spent.value.retry_after == pytest.approx(3600.0)  # midnight Pacific, not UTC
    await gov.acquire([Budget(scope=scope, style="daily_units", cost=20, limit=120)])  # 20 still fit
    clock.t = datetime(2026, 12, 2, 0, 0, 1, tzinfo=PACIFIC).timestamp()
    await gov.acquire(insert)  # a new day
    assert (await gov.state(scope))["used"] == 50


async def test_a_call_spending_several_budgets_spends_none_when_one_refuses(redis: Redis) -> None:
    clock = Clock(datetime(2026, 12, 1, 9, 0, tzinfo=PACIFIC))
    gov = _governor(redis, clock)
    window = Budget(scope=_scope(), style="window", limit=5, window_seconds=60)
    units = Budget(scope=_scope(), style="daily_units", cost=10, limit=10)
    await gov.acquire([window, units])
    with pytest.raises(RateLimited) as refused:
        await gov.acquire([window, units])
    assert refused.value.scope == units.scope
    for _ in range(4):  # the refused call did not take a slot of the window
        await gov.acquire([window])
    with pytest.raises(RateLimited):
        await gov.acquire([window])


async def test_policies_name_their_budgets_and_learn_from_errors(redis: Redis) -> None:
    clock = Clock(datetime(2026, 12, 1, 22, 30, tzinfo=PACIFIC))
    gov = _governor(redis, clock)
    youtube = DailyUnitsPolicy(platform="yt" + secrets.token_hex(3), limit=10_000,
                               costs={"comments.insert": 50}, buckets={"videos.insert": (100, 1)})
    listing = Call(operation="videos.list", account_key="UC1")
    assert [(b.scope, b.cost) for b in youtube.budgets(listing)] == [(f"{youtube.platform}:units", 1)]
    assert youtube.budgets(Call(operation="comments.insert", account_key="UC1"))[0].cost == 50
    upload = youtube.budgets(Call(operation="videos.insert", account_key="UC1"))
    assert upload[0].scope == f"{youtube.platform}:units:videos.insert" and upload[0].limit == 100
    answer = httpx.Response(403, request=httpx.Request("GET", "https://www.googleapis.com/youtube/v3/videos"))
    quota = PlatformError("quotaExceeded", kind=ErrorKind.QUOTA_EXCEEDED, status=403, code="quotaExceeded")
    await gov.learn(youtube.learn(listing, answer, quota))
    with pytest.raises(RateLimited) as blocked:
        await gov.acquire(youtube.budgets(listing))
    assert blocked.value.reason == "blocked" and blocked.value.retry_after == pytest.approx(5400.0)  # 22:30 → midnight Pacific
    await gov.acquire(upload)  # its own bucket is not spent

    tiktok = WindowPolicy(platform="tt" + secrets.token_hex(3), rules=(
        WindowRule("/v2/video/list/", limit=600), WindowRule("/v2/post/publish/video/init/", limit=6, per="account"),
    ))
    sandboxed = Call("POST", httpx.URL("http://127.0.0.1:8090/open.tiktokapis.com/v2/post/publish/video/init/"),
                     account_key="open-1")
    (init,) = tiktok.budgets(sandboxed)
    assert init.scope == f"{tiktok.platform}:acct:open-1:/v2/post/publish/video/init/" and init.limit == 6
    throttled = PlatformError("rate_limit_exceeded", kind=ErrorKind.THROTTLED, status=429, retry_after=30)
    await gov.learn(tiktok.learn(sandboxed, answer, throttled))
    with pytest.raises(RateLimited) as waiting:
        await gov.acquire([init])
    assert waiting.value.retry_after == pytest.approx(30.0)
