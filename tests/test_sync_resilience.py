"""Sync under throttles, concurrency, crashes and dead tokens: deferred and resumed, one run per
account, nothing written twice."""

from __future__ import annotations

import asyncio
from collections import Counter

from tests.conftest import Env
from tests.sync_helpers import (
    CREATOR_IG, connected, graph_calls, runs, sandbox_media, seed_media, stored_media,
)


def _media_pages(calls: list[dict]) -> list[tuple]:
    return [(c["query"].get("after"), c["query"].get("limit"), "insights.metric" in c["query"].get("fields", ""))
            for c in calls if c["path"].endswith(f"/{CREATOR_IG}/media")]


async def test_throttle_defers_the_run_and_it_resumes_without_rereading(env: Env) -> None:
    ids = await seed_media(env, count=30, before_conversion=0)
    env.settings.sync_page_size = 10
    env.settings.ratelimit_block_seconds = 0.3
    tenant, account_id = await connected(env)
    # The third newest post (53 h old: inside the per-type extras window, 48 h .. 7 days) gets
    # a per-item call, which the fault throttles once.
    newest_post = ids[-3]
    await env.sandbox.post("/_sandbox/faults", json={
        "path": f"*/{newest_post}/insights", "count": 1, "error": {"code": 80002, "is_transient": True}})
    await env.run_worker()
    (run,) = await runs(env, account_id)
    assert run["status"] == "success", run
    assert run["deferrals"] >= 1 and run["rate_limit_wait_seconds"] > 0
    calls = await graph_calls(env)
    pages = _media_pages(calls)
    assert len(pages) == len(set(pages)) == 3  # no page read twice after the resume
    insight_calls = Counter(c["path"].rsplit("/", 2)[-2] for c in calls if c["path"].endswith("/insights")
                            and "17841400" not in c["path"])
    assert insight_calls[newest_post] == 2  # throttled once, asked again after the block
    assert all(n == 1 for media, n in insight_calls.items() if media != newest_post)
    stored = await stored_media(env, account_id)
    assert set(stored) == {m["id"] for m in await sandbox_media(env)}
    assert "follows" in stored[newest_post]["insights"] or "ig_reels_avg_watch_time" in stored[newest_post]["insights"]


async def test_a_second_request_joins_the_running_sync_and_two_workers_do_one_run(env: Env) -> None:
    await seed_media(env, count=25, before_conversion=0)
    env.settings.sync_page_size = 10
    tenant, account_id = await connected(env)  # connect queued a full sync
    first = await env.http.post(f"/v1/accounts/{account_id}/sync", headers=env.auth(tenant))
    second = await env.http.post(f"/v1/accounts/{account_id}/sync", headers=env.auth(tenant), json={"kind": "full"})
    assert first.status_code == second.status_code == 202
    assert first.json()["joined"] and second.json()["joined"]
    assert first.json()["run_id"] == second.json()["run_id"]
    await asyncio.gather(env.run_worker(), env.run_worker())
    (run,) = await runs(env, account_id)
    assert run["_id"] == first.json()["run_id"] and run["status"] == "success"
    pages = _media_pages(await graph_calls(env))
    assert len(pages) == len(set(pages)) == 3
    assert len(await stored_media(env, account_id)) == 25


async def test_a_worker_killed_mid_sync_leaves_a_run_the_rerun_completes_without_duplicates(env: Env) -> None:
    await seed_media(env, count=40, before_conversion=0)
    env.settings.sync_page_size = 10
    tenant, account_id = await connected(env)
    await env.sandbox.post("/_sandbox/faults", json={"path": f"*/{CREATOR_IG}/media", "count": 50, "delay_seconds": 0.4})
    worker = asyncio.create_task(env.run_worker())
    for _ in range(200):
        await asyncio.sleep(0.05)
        (run,) = await runs(env, account_id)
        if (run.get("checkpoint", {}).get("media_all") or {}).get("pages", 0) >= 2:
            break
    worker.cancel()
    await asyncio.gather(worker, return_exceptions=True)
    (run,) = await runs(env, account_id)
    assert run["status"] == "running"
    # The dead worker's claims run out (arq's in-progress key, our lease): as after their TTLs.
    await env.redis.delete(*[k async for k in env.redis.scan_iter("arq:in-progress:*")], "sync:lease:" + account_id)
    await env.sandbox.delete("/_sandbox/faults")
    await env.run_worker()
    (run,) = await runs(env, account_id)
    assert run["status"] == "success", run
    pages = _media_pages(await graph_calls(env))
    repeated = [p for p, n in Counter(pages).items() if n > 1]
    assert len(repeated) <= 1  # at most the page in flight when the worker died
    assert len(await stored_media(env, account_id)) == 40
    points = [d async for d in env.services.store["metrics"].find({"account_id": account_id, "metric": "followers_count"})]
    assert len(points) == 1


async def test_a_rejected_token_during_sync_marks_the_account_needs_reconnect(env: Env) -> None:
    await seed_media(env, count=5)
    tenant, account_id = await connected(env)
    await env.sandbox.post("/_sandbox/faults", json={
        "path": f"*/{CREATOR_IG}/media", "count": 1, "error": {"code": 190, "error_subcode": 460}})
    await env.run_worker()
    account = await env.services.store.accounts.find_one({"_id": account_id})
    assert account["status"] == "needs_reconnect"
    (run,) = await runs(env, account_id)
    assert (run["status"], run["reason"]) == ("failed", "token_invalid")
    assert run["errors"][0]["code"] == 190
    again = await env.http.post(f"/v1/accounts/{account_id}/sync", headers=env.auth(tenant))
    assert again.status_code == 409 and again.json()["error"]["code"] == "account_not_active"


async def test_a_queued_run_of_a_disconnected_account_is_skipped_and_says_so(env: Env) -> None:
    tenant, account_id = await connected(env)
    await env.http.delete(f"/v1/accounts/{account_id}", headers=env.auth(tenant))
    await env.run_worker()
    (run,) = await runs(env, account_id)
    assert run["status"] == "skipped" and "disconnected" in run["reason"]
    account = await env.services.store.accounts.find_one({"_id": account_id})
    assert account["last_sync"]["status"] == "skipped"
    assert not [c for c in await graph_calls(env) if "/media" in c["path"]]
