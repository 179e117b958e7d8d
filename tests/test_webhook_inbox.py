"""One webhook inbox for every source: a Meta delivery and a TikTok delivery are stored raw the
same way (``webhook_events`` with ``source``) before their 200 and processed by the one drain
(socialsync/webhook_inbox.py); a drain killed mid-page re-processes without a duplicate; jobs and
deliveries of the previous release (``platform.webhook_event``, status ``queued``) still run."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from socialsync import clock, queue
from socialsync.store import webhook_events
from tests.conftest import Env
from tests.tiktok.tiktok_flows import connect as tiktok_connect
from tests.webhooks_helpers import comment_change, comment_docs, connected, payload, post_event
from worker.jobs import webhooks as jobs

COMMENT_ID = "17900000000700001"


async def send_tiktok(env: Env, url: str | None = None, **body: Any) -> dict[str, Any]:
    r = await env.sandbox.post("/_sandbox/tiktok/webhooks/send",
                               json={"url": url or f"{env.url}/webhooks/tiktok", **body})
    assert r.status_code == 200, r.text
    return r.json()


async def queued_job_names(env: Env) -> list[str]:
    names: list[str] = []
    for name in queue.all_queue_names(env.settings.queue_name).values():
        names += [j.function for j in await env.services.redis.queued_jobs(queue_name=name)]
    return names


async def two_accounts(env: Env) -> tuple[Any, str]:
    ig = await connected(env)
    tenant = await env.tenant()
    tt = await tiktok_connect(env, tenant.api_key)
    await env.run_worker()  # connect's own jobs (first syncs, subscription)
    return ig, tt.account_id


async def test_a_meta_and_a_tiktok_delivery_are_stored_raw_before_the_200_and_drained_together(env: Env) -> None:
    ig, tt_account = await two_accounts(env)
    meta = await post_event(env, payload(ig.ig_id, [comment_change(COMMENT_ID)]))
    assert meta.status_code == 200
    sent = await send_tiktok(env, event="authorization.removed", content={"reason": 1})
    assert [p["status"] for p in sent["posts"]] == [200]
    # both kept raw, the same way, before any worker ran
    docs = {d["source"]: d async for d in env.services.store["webhook_events"].find({})}
    assert set(docs) == {"meta", "tiktok"}
    assert {d["status"] for d in docs.values()} == {"pending"}
    assert docs["tiktok"]["body"] == sent["body"]  # the exact bytes, for a replay
    assert json.loads(docs["meta"]["body"])["entry"][0]["id"] == ig.ig_id
    # one job path: the drain (no per-platform job)
    names = await queued_job_names(env)
    assert queue.WEBHOOKS_DRAIN in names and jobs.LEGACY_WEBHOOK_EVENT not in names
    result = await jobs.drain({"services": env.services})
    assert result["events"] == 2
    assert [d["comment_id"] for d in await comment_docs(env, account_id=ig.account_id)] == [COMMENT_ID]
    tt = await env.services.store.accounts.find_one({"_id": tt_account})
    assert tt["status"] == "needs_reconnect"
    tiktok = await env.services.store["webhook_events"].find_one({"source": "tiktok"})
    assert tiktok["status"] == "processed" and tiktok["results"][0]["applied"] == "needs_reconnect"
    assert tiktok["result"]["deauthorized"] == 1


async def test_a_drain_killed_mid_page_reprocesses_both_sources_without_a_duplicate(env: Env) -> None:
    ig, tt_account = await two_accounts(env)
    assert (await post_event(env, payload(ig.ig_id, [comment_change(COMMENT_ID)]))).status_code == 200
    await send_tiktok(env, event="authorization.removed", content={"reason": 1})
    page = await webhook_events.pending_page(env.services.store, limit=500)
    assert {d["source"] for d in page} == {"meta", "tiktok"}
    original = webhook_events.mark_processed_many

    async def die(*_a: object, **_k: object) -> int:
        raise ConnectionError("worker killed")

    webhook_events.mark_processed_many = die  # type: ignore[assignment]
    try:
        try:
            await jobs.process_batch(env.services, page, "pg_dead")
        except ConnectionError:
            pass
    finally:
        webhook_events.mark_processed_many = original  # type: ignore[assignment]
    # the dead drain applied everything but never marked the events: they are still pending
    assert await env.services.store["webhook_events"].count_documents({"status": "pending"}) == 2
    await jobs.drain({"services": env.services})
    assert await env.services.store["webhook_events"].count_documents({"status": {"$ne": "processed"}}) == 0
    assert len(await comment_docs(env, account_id=ig.account_id)) == 1
    store = env.services.store
    assert await store["crm_events"].count_documents({"type": "comment.created"}) == 1
    assert await store["crm_events"].count_documents(
        {"type": "account.needs_reconnect", "data.account_id": tt_account}) == 1


async def _legacy_tiktok_delivery(env: Env) -> tuple[str, str]:
    """A TikTok delivery as the previous release stored it (platform_inbound.record): id
    ``tiktok:whe_<sha256(body)>``, status ``queued``; returns (id, body)."""
    sent = await send_tiktok(env, url=f"{env.url}/not-a-receiver", event="authorization.removed", content={"reason": 1})
    body = sent["body"]
    eid = "tiktok:whe_" + hashlib.sha256(body.encode()).hexdigest()[:32]
    now = clock.now()
    await env.services.store["webhook_events"].insert_one({
        "_id": eid, "body": body, "source": "tiktok", "status": "queued", "received_at": now - timedelta(minutes=5),
        "expires_at": now + timedelta(days=7), "accounts": [], "fields": {}, "deliveries": 1})
    return eid, body


async def test_a_job_queued_by_the_previous_release_still_runs_and_a_redelivery_is_absorbed(env: Env) -> None:
    _ig, tt_account = await two_accounts(env)
    eid, body = await _legacy_tiktok_delivery(env)
    # the previous release's receiver enqueued this job (default queue) after storing the delivery
    await env.services.redis.enqueue_job(jobs.LEGACY_WEBHOOK_EVENT, eid, _job_id=f"pwebhook:{eid}")
    await env.run_worker()
    doc = await env.services.store["webhook_events"].find_one({"_id": eid})
    assert doc["status"] == "processed" and doc["results"][0]["applied"] == "needs_reconnect"
    assert (await env.services.store.accounts.find_one({"_id": tt_account}))["status"] == "needs_reconnect"
    # TikTok delivers again (at least once) after the upgrade: the same event id, nothing re-done
    again = await send_tiktok(env, raw_body=body)
    assert [p["status"] for p in again["posts"]] == [200]
    assert await env.services.store["webhook_events"].count_documents({"source": "tiktok"}) == 1
    assert (await env.services.store["webhook_events"].find_one({"_id": eid}))["deliveries"] == 2


async def test_a_legacy_queued_delivery_whose_job_was_lost_is_adopted_by_the_sweeper(env: Env) -> None:
    _ig, tt_account = await two_accounts(env)
    eid, _body = await _legacy_tiktok_delivery(env)
    await env.services.redis.enqueue_job(jobs.LEGACY_WEBHOOK_SWEEP, _job_id="old-release-sweep")
    await env.run_worker()
    assert (await env.services.store["webhook_events"].find_one({"_id": eid}))["status"] == "processed"
    assert (await env.services.store.accounts.find_one({"_id": tt_account}))["status"] == "needs_reconnect"


async def test_a_youtube_tombstone_is_drained_like_any_delivery_and_marks_the_media_at_once(env: Env) -> None:
    """WebSub's deleted-entry push, through the same receiver and drain: the media is marked
    deleted by the drain itself (before any sync reads the truth), and a push sync is queued."""
    from tests.youtube.yt_flows import connect as youtube_connect
    from tests.youtube.yt_flows import until

    tenant = await env.tenant()
    out = await youtube_connect(env, tenant.api_key)
    await env.run_worker()  # the first full sync, and the subscription request

    async def verified() -> bool:
        subs = (await env.sandbox.get("/_sandbox/youtube/hub")).json()["subscriptions"]
        return bool(subs) and subs[0]["verified"]

    await until(verified)
    media = await env.services.store["media"].find_one({"account_id": out.account_id, "deleted": False})
    await env.sandbox.delete(f"/_sandbox/youtube/videos/{media['external_id']}")

    async def stored() -> bool:
        return await env.services.store["webhook_events"].count_documents({"source": "youtube"}) == 1

    await until(stored)
    event = await env.services.store["webhook_events"].find_one({"source": "youtube"})
    assert event["status"] == "pending"
    await jobs.drain({"services": env.services})  # the drain alone: no sync has run yet
    doc = await env.services.store["media"].find_one({"_id": media["_id"]})
    assert doc["deleted"] is True
    event = await env.services.store["webhook_events"].find_one({"source": "youtube"})
    assert event["status"] == "processed" and event["results"][0]["applied"] == "sync"
    assert await env.services.store["sync_runs"].count_documents(
        {"account_id": out.account_id, "trigger": "webhook", "kind": "push"}) == 1
