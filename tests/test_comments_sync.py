"""Comments that do not come by webhook: subscription on connect, mentions, scheduled backfill."""

from __future__ import annotations

import time

from socialsync import queue
from tests.conftest import Env
from tests.webhooks_helpers import SINGLE_BRAND_IG_ID, comment_docs, connected, graph_calls, payload, post_event, sandbox_comment, seed_media
from worker.jobs.comments import jitter_seconds


async def test_connect_subscribes_the_account_and_disconnect_records_the_unsubscribe(env: Env) -> None:
    acc = await connected(env)
    await env.run_worker()
    account = (await env.http.get(f"/v1/accounts/{acc.account_id}", headers=env.auth(acc.tenant))).json()
    assert account["webhook_subscription"]["status"] == "subscribed"
    assert account["webhook_subscription"]["fields"] == ["comments", "live_comments", "mentions"]
    token = env.services.cipher.decrypt((await env.services.store.accounts.find_one({"_id": acc.account_id}))["token"]["ciphertext"])
    on_platform = (await env.sandbox.get("/graph.instagram.com/v24.0/me/subscribed_apps", params={"access_token": token})).json()
    assert on_platform["data"][0]["subscribed_fields"] == ["comments", "live_comments", "mentions"]
    # subscribed: a new comment on the platform now reaches the receiver on its own
    await env.sandbox.post("/_sandbox/webhooks/config", json={"url": f"{env.url}/webhooks/meta", "app": "instagram"})
    media = await seed_media(env, count=1)
    await sandbox_comment(env, media[0], "pushed by the platform", deliver=True, url=None)
    await env.run_worker()
    assert [d["text"] for d in await comment_docs(env, account_id=acc.account_id)] == ["pushed by the platform"]
    await env.http.delete(f"/v1/accounts/{acc.account_id}", headers=env.auth(acc.tenant))
    await env.run_worker()
    doc = await env.services.store.accounts.find_one({"_id": acc.account_id})
    # The disconnect hands the dropped (encrypted) token to the unsubscribe job: Meta is told.
    assert doc["webhook_subscription"]["status"] == "unsubscribed"
    assert "token" not in doc
    on_platform = (await env.sandbox.get("/graph.instagram.com/v24.0/me/subscribed_apps", params={"access_token": token})).json()
    assert on_platform["data"] == []


async def test_a_facebook_login_mention_is_resolved_through_the_api(env: Env) -> None:
    brand = await connected(env, "fb_single", login="facebook")
    media = await seed_media(env, account="sandbox_creator", count=1)
    mention = await sandbox_comment(env, media[0], "look @single_brand!", deliver=False)
    r = await post_event(env, payload(SINGLE_BRAND_IG_ID, [{"field": "mentions", "value": {"media_id": media[0], "comment_id": mention["id"]}}]))
    assert r.status_code == 200
    await env.run_worker()
    docs = [d async for d in env.services.store["mentions"].find({"account_id": brand.account_id})]
    assert len(docs) == 1 and docs[0]["text"] == "look @single_brand!" and docs[0]["kind"] == "comment"
    assert docs[0]["media_owner_username"] == "sandbox_creator"
    # a re-delivery neither calls the API again nor stores a second mention
    calls = await graph_calls(env, "GET /graph.facebook.com/{version}/")
    await post_event(env, payload(SINGLE_BRAND_IG_ID, [{"field": "mentions", "value": {"media_id": media[0], "comment_id": mention["id"]}}], flat=True))
    await env.run_worker()
    assert await env.services.store["mentions"].count_documents({"account_id": brand.account_id}) == 1
    assert await graph_calls(env, "GET /graph.facebook.com/{version}/") == calls


async def test_backfill_reads_comments_and_replies_missed_by_webhooks_incrementally(env: Env) -> None:
    acc = await connected(env)
    await env.run_worker()
    media = await seed_media(env, count=2)
    top = await sandbox_comment(env, media[0], "missed", deliver=False)
    await sandbox_comment(env, media[0], "missed reply", deliver=False, parent_id=top["id"])
    await sandbox_comment(env, media[1], "also missed", deliver=False)
    await env.services.redis.enqueue_job(queue.COMMENTS_BACKFILL_ACCOUNT, acc.account_id, _job_id="bf-1")
    await env.run_worker()
    docs = {d["text"]: d for d in await comment_docs(env, account_id=acc.account_id)}
    assert set(docs) == {"missed", "missed reply", "also missed"}
    assert docs["missed reply"]["parent_id"] == top["id"] and docs["missed"]["source"] == "sync"
    # nothing changed: the next pass does not read the comments again
    before = await graph_calls(env, "/comments")
    await env.services.redis.enqueue_job(queue.COMMENTS_BACKFILL_ACCOUNT, acc.account_id, _job_id="bf-2")
    await env.run_worker()
    assert await graph_calls(env, "/comments") == before
    # a new comment on one media: only that one is read again
    await sandbox_comment(env, media[1], "new one", deliver=False)
    await env.services.redis.enqueue_job(queue.COMMENTS_BACKFILL_ACCOUNT, acc.account_id, _job_id="bf-3")
    await env.run_worker()
    assert await graph_calls(env, "/comments") == before + 1
    assert len(await comment_docs(env, account_id=acc.account_id)) == 4


async def test_the_backfill_cron_spreads_accounts_over_the_jitter_window(env: Env) -> None:
    accounts = [await connected(env), await connected(env, "sandbox_newbie")]
    await env.run_worker()
    window = 3600
    env.settings.comments_backfill_jitter_seconds = window
    await env.services.redis.enqueue_job(queue.COMMENTS_BACKFILL_DUE, _job_id="bf-due")
    before_ms = time.time() * 1000
    await env.run_worker(max_burst_jobs=1)
    after_ms = time.time() * 1000
    scores = [s for _j, s in await env.redis.zrange(env.settings.queue_name, 0, -1, withscores=True)]
    assert len(scores) == 2
    # Each account's backfill is deferred by its own stable offset inside the window (arq's
    # score is the run-at time in ms), not merely enqueued a few ms apart.
    delays = sorted((s - after_ms, s - before_ms) for s in scores)  # (lowest, highest) possible
    assert all(-1000 <= low and high <= window * 1000 for low, high in delays)
    offsets = sorted(jitter_seconds(a.account_id, window) * 1000 for a in accounts)
    for (low, high), expected in zip(delays, offsets, strict=True):
        assert low - 1000 <= expected <= high + 1000
    assert max(high for _low, high in delays) > 5000  # spread, not all due at once
