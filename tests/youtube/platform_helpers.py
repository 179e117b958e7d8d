"""Build the YouTube platform objects against the sandbox and the test Redis."""

from __future__ import annotations

import httpx
from redis.asyncio import Redis

from socialsync.config import sandbox_base
from socialsync.platforms.youtube.client import Endpoints, YouTubeClient
from socialsync.platforms.youtube.quota import QuotaGovernor
from socialsync.platforms.youtube.settings import YouTubeSettings


def endpoints(sandbox_url: str) -> Endpoints:
    return Endpoints.resolve(YouTubeSettings(), lambda real: sandbox_base(sandbox_url, real))


def governor(redis: Redis, **kw: object) -> QuotaGovernor:
    return QuotaGovernor(redis, "test-project", daily_units=int(kw.get("daily_units", 10_000)),  # type: ignore[arg-type]
                         reserve_units=int(kw.get("reserve_units", 1000)), now=kw.get("now") or __import__("time").time)  # type: ignore[arg-type]


def client(http: httpx.AsyncClient, sandbox_url: str, gov: QuotaGovernor, token: str, account_id: str = "acc1",
           active_accounts: int = 1) -> YouTubeClient:
    return YouTubeClient(http, endpoints(sandbox_url), gov, token, account_id=account_id,
                         active_accounts=active_accounts)
