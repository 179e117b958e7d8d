"""A real sandbox on a real port for every test here (reset before each test).

Tests that need other settings start their own with ``start_sandbox(SandboxConfig(...))``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from sandbox_driver import Driver, running_sandbox

from sandbox import SandboxConfig


@pytest.fixture(scope="session")
async def sandbox_url() -> AsyncIterator[str]:
    async with running_sandbox() as url:
        yield url


@pytest.fixture
def start_sandbox() -> Callable[[SandboxConfig | None], AbstractAsyncContextManager[str]]:
    return running_sandbox


@pytest.fixture
async def http(sandbox_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=5.0) as client:
        reset = await client.post("/_sandbox/reset")
        assert reset.status_code == 200
        yield client


@pytest.fixture
def sb(http: httpx.AsyncClient) -> Driver:
    return Driver(http)
