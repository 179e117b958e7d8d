"""The long-lived resources both processes use, opened and closed in one place.

Passed explicitly: the web app keeps it under an `AppKey`, the worker in arq's `ctx`.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings

from socialsync.clock import PROCESS, Clock
from socialsync.config import Settings
from socialsync.crypto import TokenCipher
from socialsync.platforms.registry import Registry
from socialsync.ratelimit import Governor
from socialsync.store import Store, open_store


@dataclass
class Services:
    """Also the `PlatformContext` plugins are built with (settings, http, governor, clock)."""

    settings: Settings
    store: Store
    redis: ArqRedis
    http: httpx.AsyncClient
    cipher: TokenCipher
    governor: Governor | None = field(default=None)
    clock: Clock = field(default=PROCESS)
    platforms: Registry = field(init=False)

    def __post_init__(self) -> None:
        if self.governor is None:
            self.governor = Governor(self.redis, self.settings, now=self.clock.time)
        self.platforms = Registry.build(self)


def redis_settings(settings: Settings) -> RedisSettings:
    rs = RedisSettings.from_dsn(settings.redis_dsn)
    rs.conn_timeout = 2
    rs.conn_retries = 2
    return rs


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """One verifying TLS context per process: building one loads the CA bundle (~0.1 s), and
    every client would otherwise build its own."""
    return httpx.create_ssl_context()


def http_client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        verify=ssl_context(),
        timeout=httpx.Timeout(settings.http_timeout_seconds, connect=5.0),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        headers={"User-Agent": "socialsync/0.1"},
        follow_redirects=False,
    )


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    cipher = TokenCipher.from_settings(settings)  # fail fast on a missing key
    store = await open_store(settings)
    redis = await create_pool(redis_settings(settings), default_queue_name=settings.queue_name)
    http = http_client(settings)
    try:
        yield Services(settings=settings, store=store, redis=redis, http=http, cipher=cipher)
    finally:
        await http.aclose()
        await redis.aclose()
        await store.close()
