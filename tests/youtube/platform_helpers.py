"""Build the YouTube platform objects against the sandbox and the test Redis."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from redis.asyncio import Redis

from socialsync.config import Settings, sandbox_base
from socialsync.platforms.youtube.client import Endpoints, YouTubeClient
from socialsync.platforms.youtube.quota import policy, status
from socialsync.platforms.youtube.settings import YouTubeSettings
from socialsync.ratelimit import Governor
from socialsync.ratelimit.policies import DailyUnitsPolicy

PROJECT = "test-project"


def endpoints(sandbox_url: str) -> Endpoints:
    return Endpoints.resolve(YouTubeSettings(), lambda real: sandbox_base(sandbox_url, real))


def governor(redis: Redis, now: Callable[[], float] = time.time) -> Governor:
    """The core governor over the test Redis (the YouTube plugin's budgets live in it)."""
    return Governor(redis, Settings(), now=now)


def rates(daily_units: int = 10_000, reserve_units: int = 1000) -> DailyUnitsPolicy:
    return policy(PROJECT, daily_units=daily_units, reserve_units=reserve_units)


def client(http: httpx.AsyncClient, sandbox_url: str, gov: Governor, token: str, account_id: str = "acc1",
           active_accounts: int = 1, budget: DailyUnitsPolicy | None = None) -> YouTubeClient:
    return YouTubeClient(http, endpoints(sandbox_url), gov, budget or rates(), token, account_id=account_id,
                         active_accounts=active_accounts)


async def spent(yt: YouTubeClient) -> int:
    """Units the governor charged today for the client's project."""
    assert yt.governor is not None
    return (await status(yt.governor, yt.rates, [], time.time())).spent
