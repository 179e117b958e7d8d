"""TikTok on the core's one sync path: manual syncs, the cron and the previous release's queued
job all run ``sync.run`` under the account's lease; a refused token is rotated once even when
another job (a post) was refused at the same moment; a ``counts`` run refreshes the stored
videos inside the look-back."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta

from tiktok_flows import account_doc, connect

from socialsync import queue
from socialsync import tokens as token_keeper
from socialsync.store import platform_accounts, sync_runs
from tests.conftest import Env
from worker.jobs import sync as sync_jobs

TOKEN = "/open.tiktokapis.com/v2/oauth/token/"
USER_INFO = "/open.tiktokapis.com/v2/user/info/"
QUERY = "/open.tiktokapis.com/v2/video/query/"


async def requests(env: Env) -> list[dict]:
    return (await env.sandbox.get("/_sandbox/requests?limit=1000")).json()["requests"]


def calls_to(log: list[dict], endpoint: str) -> int:
    return sum(1 for r in log if r["endpoint"] == endpoint)


async def test_the_cron_a_manual_sync_and_an_old_release_job_run_one_run_once(env: Env) -> None:
    env.settings.sync_lease_seconds = 2  # a job that finds the lease taken comes back within 2 s
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    await env.run_worker()  # the connect's full sync
    await env.services.store.accounts.update_one({"_id": out.account_id}, {"$set": {"sync_schedule": {}}})
    assert await sync_jobs.schedule({"services": env.services}) == 1  # the cron starts a run
    run_id = (await account_doc(env, out.account_id))["sync_active_run"]
    kind = (await sync_runs.get(env.services.store, run_id))["kind"]
    # A manual sync of the same kind joins it; a job the previous release queued for it waits too.
    r = await env.http.post(f"/v1/accounts/{out.account_id}/sync", json={"kind": kind}, headers=env.auth(tenant))
    assert r.status_code == 202 and r.json()["run_id"] == run_id and r.json()["joined"] is True, r.text
    await queue.enqueue(env.services.redis, "platform.sync_run", out.account_id, run_id,
                        job_id=f"psync:{out.account_id}:{run_id}")
    sync_queue = queue.queue_name_for(env.settings.queue_name, queue.SYNC)
    queued = [j.decode() for j in await env.redis.zrange(sync_queue, 0, -1)]
    assert queued == [queue.sync_job_id(out.account_id, run_id)]  # the cron's and the manual request: one job
    before = calls_to(await requests(env), USER_INFO)

    await env.run_worker()  # both queues at once: the lease lets one job work the run
    run = await sync_runs.get(env.services.store, run_id)
    assert run["status"] == "success", run
    assert calls_to(await requests(env), USER_INFO) == before + 1  # the profile stage ran once
    assert [d["_id"] async for d in env.services.store["sync_runs"].find({"kind": kind})] == [run_id]


async def test_a_job_queued_under_the_old_name_runs_the_core_path(env: Env) -> None:
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    await env.run_worker()
    account = await account_doc(env, out.account_id)
    run, created = await sync_runs.start_or_join(env.services.store, account, "counts", "previous release")
    assert created
    await queue.enqueue(env.services.redis, "platform.sync_run", out.account_id, run["_id"],
                        job_id=f"psync:{out.account_id}:{run['_id']}")  # what the previous release enqueued
    await env.run_worker()
    done = await sync_runs.get(env.services.store, run["_id"])
    assert done["status"] == "success" and done["stages_done"] == ["counts"] and done["api_calls"] > 0, done


async def test_a_sync_and_a_post_refused_the_same_token_rotate_it_once(env: Env) -> None:
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    await env.run_worker()
    old = platform_accounts.credentials_of(await account_doc(env, out.account_id), env.services.cipher)
    tokens_before = calls_to(await requests(env), TOKEN)
    await env.sandbox.post("/_sandbox/clock", json={"advance_seconds": 3 * 3600})  # the token died at TikTok
    # Another job holds the account's token lock while both get TikTok's refusal.
    lock = token_keeper.LOCK_KEY.format(account_id=out.account_id)
    await env.redis.set(lock, "another-worker", px=30_000)
    r = await env.http.post(f"/v1/accounts/{out.account_id}/sync", json={"kind": "recent"}, headers=env.auth(tenant))
    assert r.status_code == 202, r.text
    worker = asyncio.create_task(env.run_worker())
    for _ in range(200):  # until the sync was refused (it now waits for the lock)
        if any(c["status"] == 401 for c in await requests(env)):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("TikTok never refused the sync's token")
    # a post refused the same token at the same moment (socialsync/publishing/plugin_run.py's call)
    post_refresh = asyncio.create_task(token_keeper.refresh_account(
        env.services, out.account_id, force=True, refused=old.access_token, wait_seconds=10))
    await asyncio.sleep(0.2)
    await env.redis.delete(lock)
    assert await post_refresh == "refreshed"
    await asyncio.wait_for(worker, 60)

    assert calls_to(await requests(env), TOKEN) == tokens_before + 1  # one rotation, not two
    run = await sync_runs.get(env.services.store, r.json()["run_id"])
    assert run["status"] == "success", run
    doc = await account_doc(env, out.account_id)
    new = platform_accounts.credentials_of(doc, env.services.cipher)
    assert doc["status"] == "active" and new.refresh_token != old.refresh_token


async def test_a_refused_token_whose_refresh_is_refused_too_needs_reconnect(env: Env) -> None:
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    await env.run_worker()
    await env.sandbox.post("/_sandbox/tiktok/deauthorize", json={"account": "tt_creator", "deliver": False})
    r = await env.http.post(f"/v1/accounts/{out.account_id}/sync", json={"kind": "recent"}, headers=env.auth(tenant))
    assert r.status_code == 202, r.text
    await env.run_worker()
    run = await sync_runs.get(env.services.store, r.json()["run_id"])
    assert run["status"] == "failed", run
    doc = await account_doc(env, out.account_id)
    assert doc["status"] == "needs_reconnect" and "reconnect" in doc["status_reason"], doc["status_reason"]
    assert calls_to(await requests(env), USER_INFO) >= 1


async def test_a_counts_run_refreshes_the_stored_videos_inside_the_look_back(env: Env) -> None:
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    await env.run_worker()
    since = datetime.now(UTC) - timedelta(days=env.settings.tiktok.lookback_days)
    young = await env.services.store["media"].count_documents(
        {"account_id": out.account_id, "deleted": False, "timestamp": {"$gte": since}})
    assert young > 0
    await env.sandbox.post("/_sandbox/tiktok/videos/bump", json={"account": "tt_creator", "likes": 1000})
    before = calls_to(await requests(env), QUERY)
    r = await env.http.post(f"/v1/accounts/{out.account_id}/sync", json={"kind": "counts"}, headers=env.auth(tenant))
    assert r.status_code == 202, r.text
    await env.run_worker()
    assert calls_to(await requests(env), QUERY) - before == math.ceil(young / 20)  # 20 ids a call
    fresh = await env.services.store["media"].count_documents(
        {"account_id": out.account_id, "timestamp": {"$gte": since}, "like_count": {"$gte": 1000}})
    assert fresh == young
