"""Shared set-up of the sync benchmarks (not a benchmark itself).

Starts a private Redis and MongoDB-wire server (socialsync.devservers) and the sandbox as a
child process (``python -m sandbox``) so the figures measure this process only, all on
127.0.0.1; creates sandbox accounts, stores them as connected (minted long-lived tokens, no
browser), and runs the real arq worker in burst mode.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from socialsync.config import Settings  # noqa: E402
from socialsync.context import Services, open_services  # noqa: E402
from socialsync.crypto import generate_key  # noqa: E402
from socialsync.devservers import free_port, mongo_process, redis_process  # noqa: E402
from socialsync.sync.schedule import request_sync  # noqa: E402
from socialsync.store import accounts as account_store  # noqa: E402
from socialsync.store.accounts import ConnectedAccount, StoredToken  # noqa: E402
from worker.main import build_worker  # noqa: E402


@dataclass
class Bench:
    settings: Settings
    services: Services
    sandbox: httpx.AsyncClient

    async def ig_account(self, username: str, *, media: int = 0, followers: int = 5000, **mix: Any) -> str:
        r = await self.sandbox.post("/_sandbox/accounts", json={"login": "instagram", "username": username,
                                                                "followers_count": followers})
        r.raise_for_status()
        ig_user_id = r.json()["ig_user_id"]
        if media:
            await self.seed(username, count=media, **mix)
        token = (await self.sandbox.post("/_sandbox/tokens", json={"username": username})).json()["access_token"]
        now = datetime.now(UTC)
        account_id = await account_store.upsert_connected(self.services.store, ConnectedAccount(
            tenant_id="ten_bench", platform="instagram", login="instagram", external_id=ig_user_id, username=username,
            scopes=["instagram_business_basic", "instagram_business_manage_insights"],
            token=StoredToken(ciphertext=self.services.cipher.encrypt(token), kind="ig_long_lived",
                              issued_at=now, expires_at=now + timedelta(days=60)),
        ))
        return account_id

    async def seed(self, username: str, **mix: Any) -> list[str]:
        r = await self.sandbox.post("/_sandbox/media/seed", json={"account": username, **mix})
        r.raise_for_status()
        return r.json()["media"]

    async def sync(self, account_id: str, kind: str = "full") -> dict[str, Any]:
        account = await account_store.get(self.services.store, account_id)
        run, _ = await request_sync(self.services, account, kind, "bench")
        return run

    async def run_worker(self, **overrides: Any) -> float:
        started = time.perf_counter()
        worker = build_worker(self.settings, burst=True, poll_delay=0.05, handle_signals=False, **overrides)
        try:
            await worker.main()
        finally:
            await worker.close()
        return time.perf_counter() - started

    async def run_doc(self, run_id: str) -> dict[str, Any]:
        return await self.services.store["sync_runs"].find_one({"_id": run_id})

    async def stats(self) -> dict[str, Any]:
        return (await self.sandbox.get("/_sandbox/stats")).json()

    async def requests(self, limit: int = 100000) -> list[dict[str, Any]]:
        return (await self.sandbox.get("/_sandbox/requests", params={"limit": limit})).json()["requests"]


@asynccontextmanager
async def system(in_process_sandbox: Any = None, **overrides: Any) -> AsyncIterator[Bench]:
    """``in_process_sandbox``: a SandboxConfig to serve the sandbox in this process instead
    (needed for a bigger request log); by default it runs as a child process."""
    tmp = Path(tempfile.mkdtemp(prefix="socialsync-bench-"))
    redis = redis_process(tmp / "redis").start()
    mongo = mongo_process(tmp / "mongo").start()
    port = free_port()
    sandbox = runner = None
    if in_process_sandbox is None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        sandbox = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(port)], cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        from aiohttp import web  # noqa: PLC0415

        from sandbox.app import build_sandbox_app  # noqa: PLC0415

        runner = web.AppRunner(build_sandbox_app(in_process_sandbox), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            for _ in range(100):
                try:
                    if (await client.get("/_sandbox/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            settings = Settings(
                redis_url=redis.url, mongodb_url=mongo.url, mongodb_db="bench", queue_name="bench:queue",
                sandbox=True, sandbox_url=url, token_keys=generate_key(), log_level="WARNING", **overrides,
            )
            import logging  # noqa: PLC0415
            logging.disable(logging.WARNING)
            async with open_services(settings) as services:
                yield Bench(settings, services, client)
    finally:
        if sandbox is not None:
            sandbox.terminate()
            sandbox.wait(10)
        if runner is not None:
            await runner.cleanup()
        mongo.stop()
        redis.stop()


if __name__ == "__main__":
    print("helper module of the sync benchmarks: run bench/sync_calls.py, sync_scale.py or sync_governor.py")
