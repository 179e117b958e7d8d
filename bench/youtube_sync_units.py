"""Data API units of YouTube syncs, counted by the sandbox (its per-project quota meter):

    python bench/youtube_sync_units.py

- full sync of a channel with N videos (channel + uploads playlist + videos.list), N = 150,
  500, 1,000 (videos added through the sandbox control API): goal <= 2 * ceil(N / 50) + 1;
- incremental sync after one new upload (channel + first playlist page + one videos.list with
  the new video and the look-back videos): goal <= 3;
- the same incremental done the naive way (re-list the whole playlist, videos.list everything),
  as the baseline in the same run.
Analytics (reports.query) are another API's quota and are counted apart (calls, not units).
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox.app import build_sandbox_app  # noqa: E402
from socialsync.config import Settings  # noqa: E402
from socialsync.devservers import redis_process  # noqa: E402
from socialsync.platforms.base import AccountRef  # noqa: E402
from socialsync.platforms.registry import Registry  # noqa: E402
from tests.conftest import serve  # noqa: E402
from tests.youtube.test_youtube_plugin import REDIRECT, _consent  # noqa: E402


@dataclass
class Context:
    settings: Settings
    http: httpx.AsyncClient
    redis: Redis
    clock: Any = time.time


async def units(yts: httpx.AsyncClient) -> int:
    return (await yts.get("/_sandbox/youtube/quota")).json()["units_used"]


async def main() -> None:
    tmp = Path("/tmp/yt-bench-redis")
    redis_proc = redis_process(tmp).start()
    runner, sb = await serve(build_sandbox_app())
    redis = Redis.from_url(redis_proc.url)
    try:
        settings = Settings(sandbox=True, sandbox_url=sb)
        async with httpx.AsyncClient(base_url=sb, timeout=30) as yts, httpx.AsyncClient(timeout=30) as http:
            plugin = Registry.build(Context(settings, http, redis), ["youtube"]).get("youtube")
            rows = []
            present = 150
            for n in (150, 500, 1000):
                for i in range(n - present):
                    await yts.post("/_sandbox/youtube/videos", json={
                        "channel": "yt_creator", "title": f"extra {i}", "published_at": 1.5e9 + i})
                present = n
                params = await _consent(yts, plugin, "yt_creator")  # type: ignore[arg-type]
                [new] = await plugin.connect.callback("google", params=params, redirect_uri=REDIRECT,  # type: ignore[union-attr]
                                                      code_verifier=params["_verifier"])
                account = AccountRef("acc_bench", "t", "youtube", "google", new.external_id, new.credentials,
                                     new.profile, new.extra)
                now = datetime.now(UTC)
                before = await units(yts)
                cp: dict[str, Any] = {}
                for stage in ("channel", "videos_all"):
                    async for batch in plugin.sync.stage(account, stage, checkpoint={}, state=cp, now=now):  # type: ignore[union-attr]
                        cp = dict(batch.state) if batch.state is not None else cp
                full = await units(yts) - before
                analytics_before = (await yts.get("/_sandbox/stats")).json()["by_endpoint"]
                async for _ in plugin.sync.stage(account, "analytics", checkpoint={}, state={}, now=now):  # type: ignore[union-attr]
                    pass
                after = (await yts.get("/_sandbox/stats")).json()["by_endpoint"]
                reports = sum(v for k, v in after.items() if "/v2/reports" in k) - \
                    sum(v for k, v in analytics_before.items() if "/v2/reports" in k)
                await yts.post("/_sandbox/youtube/videos", json={"channel": "yt_creator", "title": "fresh"})
                present += 1
                before = await units(yts)
                async for batch in plugin.sync.stage(account, "channel", checkpoint={}, state={}, now=now):  # type: ignore[union-attr]
                    pass
                async for batch in plugin.sync.stage(account, "videos_new", checkpoint={}, state=cp, now=now):  # type: ignore[union-attr]
                    pass
                incremental = await units(yts) - before
                before = await units(yts)
                naive_cp: dict[str, Any] = {}
                for stage in ("channel", "videos_all"):
                    async for batch in plugin.sync.stage(account, stage, checkpoint={}, state=naive_cp, now=now):  # type: ignore[union-attr]
                        naive_cp = dict(batch.state) if batch.state is not None else naive_cp
                naive = await units(yts) - before
                rows.append((present - 1, full, 2 * math.ceil((present - 1) / 50) + 1, reports, incremental, naive))
                await yts.post("/_sandbox/youtube/quota", json={"units_used": 0})
        print(f"{'videos N':>9} {'full sync':>10} {'goal 2⌈N/50⌉+1':>15} {'analytics calls':>16} "
              f"{'incremental (ours)':>19} {'naive re-list':>14}")
        for n, full, goal, reports, inc, naive in rows:
            print(f"{n:>9} {full:>10} {goal:>15} {reports:>16} {inc:>19} {naive:>14}")
    finally:
        await redis.aclose()
        await runner.cleanup()
        redis_proc.stop()


if __name__ == "__main__":
    asyncio.run(main())
