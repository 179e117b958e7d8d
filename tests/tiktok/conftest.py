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
