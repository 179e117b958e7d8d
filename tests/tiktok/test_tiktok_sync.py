"""Sync through the worker: first full sync, incremental, counts, 429 deferral, and the read API."""

from __future__ import annotations

import asyncio

from tiktok_flows import connect, stats_total

from tests.conftest import Env


async def test_connect_runs_a_first_full_sync_then_incremental_stops_at_the_first_known(env: Env) -> None:
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    await env.run_worker()
    media = await env.http.get(f"/v1/accounts/{out.account_id}/media?limit=200", headers=env.auth(tenant))
    items = media.json()["data"]
    assert len(items) == 60 and all(i["platform"] == "tiktok" for i in items)
    first = items[0]
    assert first["permalink"].startswith("https://www.tiktok.com/@tt_creator/video/") and first["thumbnail_expires_at"]
    assert set(first["insights"]) == {"views", "likes", "comments", "shares"}
    followers = await env.http.get(f"/v1/accounts/{out.account_id}/metrics?name=followers_count", headers=env.auth(tenant))
    assert followers.status_code == 200, followers.text
    assert [p["value"] for p in followers.json()["data"]] == [15234], followers.json()
    runs = (await env.http.get(f"/v1/accounts/{out.account_id}/sync-runs", headers=env.auth(tenant))).json()["data"]
    assert runs[0]["status"] == "success"

    await env.sandbox.post("/_sandbox/tiktok/videos", json={"account": "tt_creator", "count": 2})
    before = await stats_total(env)
    r = await env.http.post(f"/v1/accounts/{out.account_id}/sync", json={"kind": "media"}, headers=env.auth(tenant))
    assert r.status_code == 202, r.text
    await env.run_worker()
    assert await stats_total(env) - before == 1  # one list page: stopped at the first known video
    media = await env.http.get(f"/v1/accounts/{out.account_id}/media?limit=200", headers=env.auth(tenant))
    assert len(media.json()["data"]) == 62


async def test_a_429_defers_the_run_and_it_finishes_once_the_window_frees(env: Env) -> None:
    tenant = await env.tenant()
    await env.sandbox.post("/_sandbox/tiktok/limits", json={"per_endpoint_per_minute": 2})
    env.settings.tiktok.throttle_block_seconds = 2.0
    out = await connect(env, tenant.api_key)  # user/info 1 of 2
    worker = asyncio.create_task(env.run_worker())
    for _ in range(300):
        run = await env.services.store["sync_runs"].find_one({"account_id": out.account_id})
        if run and run.get("deferrals"):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the run was never deferred")
    # The video list hit TikTok's minute (3 pages, 2 allowed): deferred, not failed, no sleeping.
    await env.sandbox.post("/_sandbox/clock", json={"advance_seconds": 61})
    await asyncio.wait_for(worker, 90)
    run = await env.services.store["sync_runs"].find_one({"account_id": out.account_id})
    assert run["status"] == "success" and run["deferrals"] >= 1
    refused = [r for r in (await env.sandbox.get("/_sandbox/requests?limit=500")).json()["requests"] if r["status"] == 429]
    assert len(refused) == 1  # blocked after the first 429: not called again until the window freed
    media = await env.http.get(f"/v1/accounts/{out.account_id}/media?limit=200", headers=env.auth(tenant))
    assert len(media.json()["data"]) == 60


async def test_analytics_count_tiktok_videos_under_by_platform_tiktok(env: Env) -> None:
    tenant = await env.tenant()
    await connect(env, tenant.api_key)
    await env.run_worker()  # the first sync: profile and every public video
    r = await env.http.get("/v1/analytics", headers=env.auth(tenant))
    assert r.status_code == 200, r.text
    out = r.json()
    tiktok = out["by_platform"]["tiktok"]
    stored = await env.services.store["media"].count_documents({"platform": "tiktok", "deleted": False})
    assert tiktok["accounts"] == 1 and tiktok["followers"] > 0
    assert stored > 20 and tiktok["posts"] == stored
    assert tiktok["engagement_rate"] is not None and tiktok["engagement_rate"] > 0
    assert out["recent_posts"] and all(p["platform"] == "tiktok" for p in out["recent_posts"])


async def test_a_token_tiktok_refuses_is_refreshed_once_then_the_sync_finishes(env: Env) -> None:
    """access_token_invalid (our stored expiry still says valid): one refresh, the stage again."""
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    await env.run_worker()

    def token_calls(log: list[dict]) -> int:
        return sum(1 for r in log if r["endpoint"] == "/open.tiktokapis.com/v2/oauth/token/")

    before = token_calls((await env.sandbox.get("/_sandbox/requests?limit=500")).json()["requests"])
    await env.sandbox.post("/_sandbox/clock", json={"advance_seconds": 3 * 3600})  # the token died at TikTok
    r = await env.http.post(f"/v1/accounts/{out.account_id}/sync", json={"kind": "media"}, headers=env.auth(tenant))
    assert r.status_code == 202, r.text
    await env.run_worker()
    log = (await env.sandbox.get("/_sandbox/requests?limit=500")).json()["requests"]
    assert token_calls(log) == before + 1
    assert sum(1 for c in log if c["status"] == 401) == 1  # TikTok refused the old token once
    runs = [d async for d in env.services.store["sync_runs"].find({"account_id": out.account_id, "kind": "media"})]
    assert [d["status"] for d in runs] == ["success"], runs
    doc = await env.services.store.accounts.find_one({"_id": out.account_id})
    assert doc["status"] == "active"
