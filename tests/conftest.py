"""Test harness: a real Redis server and a real MongoDB-wire server as child processes (or the
ones named by SOCIALSYNC_TEST_REDIS_URL / SOCIALSYNC_TEST_MONGODB_URL), the platform sandbox
and the receiver served over real HTTP on loopback. No mocks of any of them.

Isolation: each test gets its own MongoDB database (emptied, from a pool: see `databases`), its
own arq queue name, a flushed Redis database and a sandbox reset to its seed.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from aiohttp import web
import pymongo
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError
from redis.asyncio import Redis

from socialsync.config import Settings
from socialsync.context import Services, open_services, ssl_context
from socialsync.crypto import generate_key
from socialsync.devservers import ManagedProcess, free_port, mongo_process, redis_process
from socialsync.tenants import NewTenant, create_tenant
from webhooks.app import build_app
from webhooks.keys import SERVICES
from worker.main import build_worker

ADMIN_TOKEN = "test-admin-token-0123456789"
RETURN_URL = "https://crm.example.com/connected"


@pytest.fixture(scope="session")
def server_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="session")
def redis_url(server_dir: Path) -> Iterator[str]:
    if url := os.environ.get("SOCIALSYNC_TEST_REDIS_URL"):
        yield url
        return
    proc = redis_process(server_dir / "redis").start()
    try:
        yield proc.url
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def mongodb_url(server_dir: Path) -> Iterator[str]:
    if url := os.environ.get("SOCIALSYNC_TEST_MONGODB_URL"):
        yield url
        return
    proc = mongo_process(server_dir / "mongo").start()
    try:
        yield proc.url
    finally:
        proc.stop()


async def serve(app: web.Application, port: int | None = None) -> tuple[web.AppRunner, str]:
    """Serve an aiohttp app on loopback over real TCP."""
    runner = web.AppRunner(app)  # with aiohttp's access log: it passes the redactor too
    await runner.setup()
    port = port or free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return runner, f"http://127.0.0.1:{port}"


CLEAR_SECONDS = 3.0


class DatabasePool:
    """Databases for the `env` fixture, reused from test to test. A new database costs the
    MongoDB-wire server ~0.3 s of index creation at the app's start (measured: 0.25-0.3 s new,
    0.07 s to confirm existing indexes), ~3 minutes over the suite; an emptied one keeps its
    indexes. A database is emptied (every collection's documents deleted, the migration marks
    included) when it is handed out, so a test never sees another's data; one in use is never
    handed out twice. Slow tests (they kill processes) do not take part."""

    def __init__(self, client: AsyncMongoClient) -> None:
        self.client = client
        self.free: list[str] = []

    async def take(self) -> str:
        while self.free:
            name = self.free.pop()
            db = self.client[name]
            try:
                # A worker SIGKILLed inside a transaction (the ledger's numbering) leaves it open
                # until the server's transaction lifetime ends, and a delete waits for it: such a
                # database is dropped from the pool, not waited for.
                with pymongo.timeout(CLEAR_SECONDS):
                    for collection in await db.list_collection_names():
                        await db[collection].delete_many({})
            except PyMongoError:
                continue
            return name
        return f"test_{uuid.uuid4().hex[:10]}"

    def give_back(self, name: str) -> None:
        self.free.append(name)


@pytest_asyncio.fixture(scope="session")
async def databases(mongodb_url: str) -> AsyncIterator[DatabasePool]:
    client: AsyncMongoClient = AsyncMongoClient(mongodb_url, tz_aware=True)
    try:
        yield DatabasePool(client)
    finally:
        await client.close()


@pytest_asyncio.fixture(scope="session")
async def sandbox_url() -> AsyncIterator[str]:
    from sandbox.app import build_sandbox_app  # noqa: PLC0415

    runner, url = await serve(build_sandbox_app())
    try:
        yield url
    finally:
        await runner.cleanup()


@pytest.fixture(scope="session")
def token_key() -> str:
    return generate_key()


def make_settings(
    *, redis_url: str, mongodb_url: str, sandbox_url: str, token_key: str, web_port: int, **extra: object
) -> Settings:
    tag = uuid.uuid4().hex[:10]
    values: dict[str, object] = {
        "redis_url": redis_url,
        "mongodb_url": mongodb_url,
        "mongodb_db": f"test_{tag}",
        "queue_name": f"test:queue:{tag}",
        "sandbox": True,
        "sandbox_url": sandbox_url,
        "web_port": web_port,
        "public_url": f"http://127.0.0.1:{web_port}",
        "token_keys": token_key,
        "admin_token": ADMIN_TOKEN,
        "return_url_allowlist": "https://crm.example.com,http://localhost",
        "log_json": True,
    }
    values.update(extra)
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class Env:
    """One test's running system: settings, the receiver's URL, clients to everything."""

    settings: Settings
    url: str
    sandbox_url: str
    http: httpx.AsyncClient  # to the receiver
    sandbox: httpx.AsyncClient  # to the sandbox (control API and OAuth pages)
    services: Services  # the receiver's own services (store, redis)
    redis: Redis

    async def tenant(self, name: str = "Acme CRM") -> NewTenant:
        return await create_tenant(self.services.store, name)

    def auth(self, tenant: NewTenant) -> dict[str, str]:
        return {"Authorization": f"Bearer {tenant.api_key}"}

    async def run_worker(self, **overrides: object) -> None:
        """Run the real arq worker in burst mode until its queue is empty."""
        worker = build_worker(self.settings, burst=True, poll_delay=0.05, handle_signals=False, **overrides)
        try:
            await worker.main()
        finally:
            await worker.close()


@pytest_asyncio.fixture
async def env(
    redis_url: str, mongodb_url: str, sandbox_url: str, token_key: str, databases: DatabasePool,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Env]:
    port = free_port()
    # A slow test (OS processes, SIGKILLs) gets a database of its own that is never reused.
    pooled = request.node.get_closest_marker("slow") is None
    database = await databases.take() if pooled else f"test_{uuid.uuid4().hex[:10]}"
    settings = make_settings(
        redis_url=redis_url, mongodb_url=mongodb_url, sandbox_url=sandbox_url,
        token_key=token_key, web_port=port, mongodb_db=database,
    )
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=10, verify=ssl_context()) as sandbox:
        (await sandbox.post("/_sandbox/reset")).raise_for_status()
        app = build_app(settings)
        runner, url = await serve(app, port)
        try:
            async with httpx.AsyncClient(base_url=url, timeout=15, verify=ssl_context()) as http:
                yield Env(settings, url, sandbox_url, http, sandbox, app[SERVICES], redis)
        finally:
            await runner.cleanup()
            await redis.aclose()
            if pooled:
                databases.give_back(database)


@pytest.fixture
def log_records(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


__all__ = ["ADMIN_TOKEN", "RETURN_URL", "Env", "ManagedProcess", "make_settings", "open_services", "serve"]
