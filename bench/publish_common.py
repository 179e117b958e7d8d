"""Shared harness of the publishing benchmarks: local Redis + MongoDB-wire server (child
processes), the sandbox and the receiver in-process on 127.0.0.1, accounts with minted tokens,
posts through the real API. Nothing leaves the machine."""

from __future__ import annotations

import sys
import tempfile
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox import SandboxConfig, build_sandbox_app  # noqa: E402
from sandbox.context import SANDBOX_KEY  # noqa: E402
from sandbox.meta.config import MetaConfig  # noqa: E402
from sandbox.meta.world import Meta  # noqa: E402
from socialsync.config import Settings  # noqa: E402
from socialsync.crypto import generate_key  # noqa: E402
from socialsync.devservers import free_port, mongo_process, redis_process  # noqa: E402
from socialsync.store.accounts import ConnectedAccount, StoredToken, upsert_connected  # noqa: E402
from socialsync.tenants import create_tenant  # noqa: E402
from webhooks.app import build_app  # noqa: E402
from webhooks.keys import SERVICES  # noqa: E402
from post_bodies import IMAGE, VIDEO, body  # noqa: E402, F401 - the benchmarks import them from here

async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


class Stack:
    def __init__(self, settings: Settings, sandbox_app: web.Application, api: httpx.AsyncClient,
                 sandbox: httpx.AsyncClient, services: Any) -> None:
        self.settings, self.sandbox_app, self.api, self.sandbox, self.services = settings, sandbox_app, api, sandbox, services
        self.api_key = ""

    @property
    def sandbox_state(self):  # noqa: ANN201
        return Meta.of(self.sandbox_app[SANDBOX_KEY]).state

    def published(self) -> list[Any]:
        """Meta's records in the sandbox's shared publish log, oldest first."""
        return list(self.sandbox_app[SANDBOX_KEY].published.records(platform="meta"))

    async def accounts(self, count: int) -> list[str]:
        tenant = await create_tenant(self.services.store, "bench")
        self.api_key = tenant.api_key
        ids = []
        for n in range(count):
            username = f"bench_{n}_{uuid.uuid4().hex[:4]}"
            created = (await self.sandbox.post("/_sandbox/accounts", json={
                "login": "instagram", "username": username, "buc_calls_per_window": 100000})).json()
            token = (await self.sandbox.post("/_sandbox/tokens", json={"username": username, "kind": "ig_long"})).json()
            now = datetime.now(UTC)
            ids.append(await upsert_connected(self.services.store, ConnectedAccount(
                tenant_id=tenant.id, platform="instagram", login="instagram", external_id=created["ig_user_id"], username=username,
                scopes=list(self.settings.instagram_scopes),
                token=StoredToken(ciphertext=self.services.cipher.encrypt(token["access_token"]), kind="ig_long_lived",
                                  issued_at=now, expires_at=now + timedelta(days=60)),
            )))
        return ids

    async def post(self, account_id: str, payload: dict[str, Any]) -> str:
        r = await self.api.post(f"/v1/accounts/{account_id}/posts", json=payload,
                                headers={"Authorization": f"Bearer {self.api_key}", "Idempotency-Key": uuid.uuid4().hex})
        r.raise_for_status()
        return r.json()["id"]


@asynccontextmanager
async def stack(**settings_overrides: object) -> AsyncIterator[Stack]:
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        redis = redis_process(Path(tmp) / "redis").start()
        mongo = mongo_process(Path(tmp) / "mongo").start()
        sandbox_app = build_sandbox_app(SandboxConfig(request_log_size=200000, platforms={"meta": MetaConfig(app_calls_per_hour=10_000_000)}))
        sandbox_runner, sandbox_url = await serve(sandbox_app)
        port = free_port()
        settings = Settings(
            redis_url=redis.url, mongodb_url=mongo.url, mongodb_db="bench", queue_name="bench:queue",
            sandbox=True, sandbox_url=sandbox_url, web_port=port, token_keys=generate_key(),
            log_level="WARNING", **settings_overrides,  # type: ignore[arg-type]
        )
        app = build_app(settings)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as api, \
                       httpx.AsyncClient(base_url=sandbox_url, timeout=30) as sb:
                yield Stack(settings, sandbox_app, api, sb, app[SERVICES])
        finally:
            await runner.cleanup()
            await sandbox_runner.cleanup()
            redis.stop()
            mongo.stop()
