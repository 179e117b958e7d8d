"""API calls of TikTok syncs, counted by the sandbox: a first listing of 100 videos, an
incremental listing after 3 new videos (goal ≤ 2 calls) and a count refresh of 100 videos (goal
≤ 6 calls), each next to the naive approach on the same data (re-list everything; query one id
per call). Real Redis (the window governor), an in-process sandbox over HTTP.
Run: ``python bench/tiktok_sync_calls.py``."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from aiohttp import web
from redis.asyncio import Redis

from sandbox.app import build_sandbox_app
from socialsync.config import Settings
from socialsync.devservers import free_port, redis_process
from socialsync.platforms.base import AccountRef, Credentials, MediaRecord
from socialsync.platforms.tiktok.plugin import TikTokPlatform


@dataclass
class Context:
    settings: Settings
    http: httpx.AsyncClient
    redis: Redis


async def calls(sandbox: httpx.AsyncClient) -> int:
    return (await sandbox.get("/_sandbox/stats")).json()["total"]


async def run(platform: TikTokPlatform, account: AccountRef, stage: str, checkpoint: dict,
              state: dict | None = None) -> tuple[list, dict]:
    """One stage; returns (videos, the cross-run state after it)."""
    records, kept = [], dict(state or {})
    async for batch in platform.sync.stage(account, stage, checkpoint=checkpoint, state=kept, now=datetime.now(UTC)):
        records += [r for r in batch.records if isinstance(r, MediaRecord)]
        kept = dict(batch.state) if batch.state is not None else kept
    return records, kept


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        redis_proc = redis_process(Path(tmp) / "redis").start()
        runner = web.AppRunner(build_sandbox_app(), access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        base = f"http://127.0.0.1:{port}"
        redis = Redis.from_url(redis_proc.url)
        try:
            async with httpx.AsyncClient(base_url=base) as sandbox, httpx.AsyncClient() as http:
                settings = Settings(sandbox=True, sandbox_url=base, token_keys="x" * 44)  # type: ignore[arg-type]
                platform = TikTokPlatform(Context(settings, http, redis))
                await sandbox.post("/_sandbox/tiktok/videos", json={"account": "tt_creator", "count": 40})
                minted = (await sandbox.post("/_sandbox/tiktok/tokens", json={"account": "tt_creator"})).json()
                account = AccountRef(
                    id="acc_bench", tenant_id="t", platform="tiktok", login="tiktok", external_id=minted["open_id"],
                    credentials=Credentials(access_token=minted["access_token"], kind="tiktok_oauth",
                                            scopes=tuple(minted["scope"].split(","))))
                before = await calls(sandbox)
                videos, checkpoint = await run(platform, account, "videos", {})
                first = await calls(sandbox) - before
                print(f"first listing: {len(videos)} videos in {first} calls (20 per page)")
                await sandbox.post("/_sandbox/tiktok/videos", json={"account": "tt_creator", "count": 3})
                before = await calls(sandbox)
                new, _ = await run(platform, account, "videos", {}, checkpoint)
                incremental = await calls(sandbox) - before
                before = await calls(sandbox)
                await run(platform, account, "videos", {})
                relist = await calls(sandbox) - before
                print(f"incremental after 3 new: {len(new)} new in {incremental} call(s) "
                      f"(goal <= 2) | naive re-list: {relist} calls")
                ids = [v.platform_id for v in videos][:100]
                before = await calls(sandbox)
                fresh, _ = await run(platform, account, "counts", {"video_ids": ids})
                counts = await calls(sandbox) - before
                before = await calls(sandbox)
                for vid in ids:
                    await run(platform, account, "counts", {"video_ids": [vid]})
                one_by_one = await calls(sandbox) - before
                print(f"count refresh of {len(ids)} videos: {len(fresh)} refreshed in {counts} calls "
                      f"(goal <= 6) | one id per call: {one_by_one} calls")
        finally:
            await redis.aclose()
            await runner.cleanup()
            redis_proc.stop()


if __name__ == "__main__":
    asyncio.run(main())
