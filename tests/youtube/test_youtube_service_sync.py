"""YouTube sync through the real worker: the first full sync (channel, 150 videos, analytics,
audience, comments) readable through /v1/accounts/{id}/media, /metrics, /audience, /comments and
/v1/analytics; an incremental sync stops at the first known video; the core's schedule syncs
YouTube accounts; a spent quota defers the run (never fails it) and calls nothing until the reset."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from socialsync.platforms.youtube.quota import pacific_day
from tests.conftest import Env
from tests.youtube.yt_flows import connect, get, units_used, until, youtube_requests


async def test_first_full_sync_fills_media_metrics_audience_and_comments(env: Env) -> None:
    tenant = await env.tenant()
    await env.sandbox.post("/_sandbox/youtube/app", json={"analytics_lag_days": 3})
    out = await connect(env, tenant.api_key)
    sent = await youtube_requests(env)
    await env.run_worker()
    aid = out.account_id
    runs = (await get(env, tenant.api_key, f"/v1/accounts/{aid}/sync-runs"))["data"]
    assert runs[0]["status"] == "success" and runs[0]["kind"] == "full", runs[0]
    assert runs[0]["api_calls"] == await youtube_requests(env) - sent  # each call counted once
    media = (await get(env, tenant.api_key, f"/v1/accounts/{aid}/media?limit=200"))["data"]
    assert len(media) == 150 and {m["platform"] for m in media} == {"youtube"}
    by_id = {m["id"]: m for m in media}
    short = by_id["vidc0000005"]
    assert short["is_short"] is True and short["media_product_type"] == "SHORTS" and short["duration_seconds"]
    assert short["permalink"] == "https://www.youtube.com/shorts/vidc0000005" and short["privacy_status"]
    assert set(by_id["vidc0000001"]["insights"]) >= {"views", "likes", "comments"}
    assert "likes" not in by_id["vidc0000011"]["insights"] and by_id["vidc0000011"]["like_count"] is None  # hidden likes
    followers = (await get(env, tenant.api_key, f"/v1/accounts/{aid}/metrics?name=followers_count"))["data"]
    assert [p["value"] for p in followers] == [123000]
    views = (await get(env, tenant.api_key, f"/v1/accounts/{aid}/metrics?name=views"))["data"]
    assert len(views) >= 20 and all(p["value"] > 0 for p in views)  # channel analytics by day
    newest_day = max(datetime.fromisoformat(p["ts"]) for p in views)
    assert newest_day.date() <= (datetime.now(UTC) - timedelta(days=2)).date()  # the lag: no zeros for today
    audience = (await get(env, tenant.api_key, f"/v1/accounts/{aid}/audience"))["data"]
    assert {a["breakdown"] for a in audience} == {"age_gender", "country"}
    comments = await get(env, tenant.api_key, f"/v1/accounts/{aid}/comments?limit=100")
    threads = comments["data"]
    assert len(threads) == 30 and all(t["id"].startswith("Ugthread") for t in threads)
    long = next(t for t in threads if t["id"] == "Ugthread000001")
    assert len(long["replies"]) == 7  # beyond the inline ones, via comments.list?parentId=
    dashboard = await get(env, tenant.api_key, "/v1/analytics")
    assert "youtube" in dashboard["by_platform"]


async def test_incremental_sync_stops_at_the_first_known_video(env: Env) -> None:
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    await env.run_worker()
    await env.sandbox.post("/_sandbox/youtube/videos", json={"channel": "yt_creator", "title": "Fresh"})
    await env.run_worker()  # (a WebSub push of it may have arrived: its sync is a few units)
    before = await units_used(env)
    r = await env.http.post(f"/v1/accounts/{out.account_id}/sync", json={"kind": "recent"}, headers=env.auth(tenant))
    assert r.status_code == 202, r.text
    await env.run_worker()
    # channel 1 + playlistItems 1 + videos.list 1 (new + look-back) + commentThreads 1 (+1 long thread)
    assert await units_used(env) - before <= 5
    media = (await get(env, tenant.api_key, f"/v1/accounts/{out.account_id}/media?limit=200"))["data"]
    assert len(media) == 151 and media[0]["title"] == "Fresh"
    unsupported = await env.http.post(f"/v1/accounts/{out.account_id}/sync", json={"kind": "media"},
                                      headers=env.auth(tenant))
    assert unsupported.status_code == 400 and unsupported.json()["error"]["code"] == "unsupported_sync_kind"


async def test_the_core_schedule_syncs_youtube_accounts(env: Env) -> None:
    from worker.jobs.sync import schedule  # noqa: PLC0415

    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    await env.run_worker()
    await env.sandbox.post("/_sandbox/youtube/comments", json={"video_id": "vidc0000002", "text": "scheduled hello"})
    await env.services.store.accounts.update_one({"_id": out.account_id}, {"$unset": {"sync_schedule": 1}})
    assert await schedule({"services": env.services}) == 1
    await env.run_worker()
    # The worker's own scheduler cron may also start the next due kind (analytics) meanwhile:
    # look at the run our tick started, the first scheduled kind.
    run = await env.services.store["sync_runs"].find_one(
        {"account_id": out.account_id, "trigger": "schedule", "kind": "recent"})
    assert run is not None and run["status"] == "success" and run["platform"] == "youtube", run
    texts = [c["text"] for c in (await get(env, tenant.api_key, f"/v1/accounts/{out.account_id}/comments?limit=100"))["data"]]
    assert run["kind"] == "recent" and "scheduled hello" in texts  # recent = channel, new uploads, comments
    from socialsync.sync.schedule import scheduled_kinds  # noqa: PLC0415

    # push runs only when the hub notifies; comments come with recent
    assert scheduled_kinds(env.services.platforms.get("youtube")) == ("recent", "analytics")


async def test_a_spent_quota_defers_the_run_and_calls_nothing_until_the_reset(env: Env) -> None:
    tenant = await env.tenant()
    env.settings.ratelimit_max_defer_seconds = 0.5  # come back soon (the real wait is until midnight PT)
    out = await connect(env, tenant.api_key)  # channels.list: 1 unit
    await env.sandbox.post("/_sandbox/youtube/quota", json={"daily_units": 4})  # Google's day ends mid-sync
    worker = asyncio.create_task(env.run_worker())
    try:
        async def deferred_twice() -> bool:
            run = await env.services.store["sync_runs"].find_one({"account_id": out.account_id})
            return bool(run and run.get("deferrals", 0) >= 3)

        await until(deferred_twice, 30)
        sent = await youtube_requests(env)
        await asyncio.sleep(1.5)  # more deferrals: the governor refuses before any call
        assert await youtube_requests(env) == sent
        run = await env.services.store["sync_runs"].find_one({"account_id": out.account_id})
        assert run["status"] not in ("failed", "success"), run
        refused = [r for r in (await env.sandbox.get("/_sandbox/requests?limit=500")).json()["requests"]
                   if r["status"] == 403]
        assert len(refused) == 1  # Google said quotaExceeded once; nothing was sent after it
        # Midnight Pacific: Google's day and the governor's day turn over.
        await env.sandbox.post("/_sandbox/youtube/quota", json={"daily_units": 10_000, "units_used": 0})
        yesterday = (pacific_day(datetime.now(UTC).timestamp()) - timedelta(days=1)).isoformat()
        prefix = "ratelimit:" + env.services.platforms.get("youtube").rates.platform
        for key in await env.redis.keys(prefix + ":*"):
            await env.redis.hset(key, mapping={"day": yesterday, "blocked_until": 0})
        await asyncio.wait_for(worker, 120)
    finally:
        worker.cancel()
    run = await env.services.store["sync_runs"].find_one({"account_id": out.account_id})
    assert run["status"] == "success" and run["deferrals"] >= 3, run
    media = (await get(env, tenant.api_key, f"/v1/accounts/{out.account_id}/media?limit=200"))["data"]
    assert len(media) == 150


async def test_one_channel_cannot_spend_the_other_channels_share(env: Env) -> None:
    env.settings.youtube.daily_units, env.settings.youtube.reserve_units = 18, 0  # 9 units each
    env.settings.ratelimit_max_defer_seconds = 0.5
    tenant = await env.tenant()
    big = await connect(env, tenant.api_key)  # 150 videos: a full sync needs more than its share
    small = await connect(env, tenant.api_key, account="yt_hidden")  # 3 videos
    worker = asyncio.create_task(env.run_worker())
    try:
        async def settled() -> bool:
            runs = {r["account_id"]: r async for r in env.services.store["sync_runs"].find()}
            return runs.get(small.account_id, {}).get("status") == "success" and \
                runs.get(big.account_id, {}).get("deferrals", 0) >= 2

        await until(settled, 40)
    finally:
        worker.cancel()
    run = await env.services.store["sync_runs"].find_one({"account_id": big.account_id})
    assert run["status"] not in ("success", "failed"), run  # waits for tomorrow's share

