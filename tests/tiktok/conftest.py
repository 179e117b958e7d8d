"""TikTok tests share the session's sandbox (the same one ``env`` points at), reset per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from tiktok_driver import TikTok


@pytest.fixture
async def tt(sandbox_url: str) -> AsyncIterator[TikTok]:
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=30.0) as client:
        assert (await client.post("/_sandbox/reset")).status_code == 200
        yield TikTok(client)


@pytest.fixture
async def platform(redis_url: str, mongodb_url: str, sandbox_url: str, token_key: str, tt: TikTok):
    """The TikTok plugin, built as a process builds it: real settings, httpx, Redis governor."""
    from dataclasses import dataclass  # noqa: PLC0415

    from redis.asyncio import Redis  # noqa: PLC0415

    from socialsync.devservers import free_port  # noqa: PLC0415
    from socialsync.platforms.tiktok.plugin import TikTokPlatform  # noqa: PLC0415
    from tests.conftest import make_settings  # noqa: PLC0415

    settings = make_settings(redis_url=redis_url, mongodb_url=mongodb_url, sandbox_url=sandbox_url,
                             token_key=token_key, web_port=free_port())
    settings.tiktok.app_audited = True
    settings.tiktok.upload_chunk_bytes = 10 * 1024 * 1024  # several chunks in small test files

    @dataclass
    class Context:
        settings: object
        http: httpx.AsyncClient
        redis: Redis

    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    async with httpx.AsyncClient(timeout=30.0) as http:
        yield TikTokPlatform(Context(settings, http, redis))
    await redis.aclose()
