from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio


@pytest_asyncio.fixture
async def yts(sandbox_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client to the sandbox, reset to its seed (the YouTube side included)."""
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=15) as client:
        (await client.post("/_sandbox/reset")).raise_for_status()
        yield client
