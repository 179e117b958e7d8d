"""Exactly once: ambiguous failures are settled by reading the container back, never by
re-creating it; quota waits; ERROR and EXPIRED containers; a token dying mid-way."""

from __future__ import annotations

import pytest

from socialsync.platforms.instagram.publish_settle import describe_window
from socialsync.publishing import jobs as publish
from tests.conftest import Env
from tests.publish_helpers import (
    BODIES, IMAGE, VIDEO, add_fault, connected, fast, post, published_log, read_post, sandbox_knobs, stored,
)


async def test_publish_after_timeout_does_not_post_twice(env: Env) -> None:
    fast(env, http_timeout_seconds=1.0)
    tenant, account_id = await connected(env)
    # Meta publishes, but the answer arrives after the client gave up.
    await add_fault(env, method="POST", path="*/media_publish", phase="after", delay_seconds=2.5)
    post_id = await post(env, tenant, account_id, BODIES["image"])

    await env.run_worker()

    out = await read_post(env, tenant, post_id)
    log = await published_log(env)
    assert len(log) == 1
    assert out["state"] == "published"
    assert out["publish_attempts"] == 1
    # the media id is the one Meta created, found without guessing
    assert out["media_id"] == log[0]["media_id"]
    assert any("container read-back" in (a["detail"] or "") for a in out["attempts"])
    assert len(out["containers"]) == 1


async def test_publish_answered_5xx_after_success_is_recorded_live_once(env: Env) -> None:
    fast(env)
    tenant, account_id = await connected(env)
    await add_fault(env, method="POST", path="*/media_publish", phase="after", status=502)
    post_id = await post(env, tenant, account_id, BODIES["carousel"])

    await env.run_worker()

    out = await read_post(env, tenant, post_id)
    log = await published_log(env)
    assert [entry["media_id"] for entry in log] == [out["media_id"]]
    assert out["state"] == "published"


async def test_publish_failing_5xx_before_publishing_is_retried_and_published_once(env: Env) -> None:
    fast(env)
    tenant, account_id = await connected(env)
    await add_fault(env, method="POST", path="*/media_publish", phase="before", status=500, count=2)
    post_id = await post(env, tenant, account_id, BODIES["image"])

    await env.run_worker()

    out = await read_post(env, tenant, post_id)
    assert out["state"] == "published"
    assert out["publish_attempts"] == 3
    assert len(await published_log(env)) == 1
    assert len(out["containers"]) == 1  # retried on the same container


async def test_post_waits_for_a_used_up_quota_then_publishes(env: Env) -> None:
    fast(env)
    await sandbox_knobs(env, quota_total=1)
    tenant, account_id = await connected(env)
    first = await post(env, tenant, account_id, BODIES["image"])
    await env.run_worker()
    assert (await read_post(env, tenant, first))["state"] == "published"

    second = await post(env, tenant, account_id, {**BODIES["image"], "caption": "second"})
    assert await publish.advance(env.services, second, 0) == "waiting"  # the job's first step
    waiting = await read_post(env, tenant, second)
    assert waiting["state"] == "ready"
    assert "publishing quota" in waiting["state_reason"]
    assert len(await published_log(env)) == 1

    await env.sandbox.post("/_sandbox/clock", json={"advance_seconds": 86400})  # the window frees
    await env.run_worker()

    assert (await read_post(env, tenant, second))["state"] == "published"
    assert len(await published_log(env)) == 2


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"type": "image", "media": [{"url": IMAGE + "?sandbox-unfetchable", "kind": "image"}]}, "media_url_unreachable"),
        ({"type": "image", "media": [{"url": IMAGE + "?sandbox-bad-aspect", "kind": "image"}]}, "aspect_ratio_not_supported"),
        ({"type": "reel", "media": [{"url": VIDEO + "?sandbox-bad-codec", "kind": "video"}]}, "video_format_not_supported"),
    ],
)
async def test_container_error_fails_the_post_with_a_reason_the_caller_can_fix(env: Env, body: dict, code: str) -> None:
    fast(env)
    tenant, account_id = await connected(env)
    post_id = await post(env, tenant, account_id, body)

    await env.run_worker()

    out = await read_post(env, tenant, post_id)
    assert out["state"] == "failed"
    assert out["error"]["code"] == code
    assert out["error"]["caller_can_fix"] is True
    assert await published_log(env) == []
    event = await env.services.store["crm_events"].find_one({"type": "post.failed"})
    assert event is not None and event["data"]["post_id"] == post_id


async def test_expired_container_is_recreated_because_it_was_never_published(env: Env) -> None:
    fast(env)
    await sandbox_knobs(env, quota_total=0)
    tenant, account_id = await connected(env)
    post_id = await post(env, tenant, account_id, BODIES["image"])
    assert await publish.advance(env.services, post_id, 0) == "waiting"  # ready, quota spent
    old_container = (await stored(env, post_id))["platform_fields"]["publish_container"]

    # A day later the container has expired; the quota is back.
    await env.sandbox.post("/_sandbox/clock", json={"advance_seconds": 86400 + 60})
    await sandbox_knobs(env, quota_total=100)
    await env.run_worker()

    doc = await stored(env, post_id)
    assert doc["state"] == "published"
    assert doc["platform_fields"]["recreations"] == 1
    assert doc["platform_fields"]["publish_container"] != old_container
    assert [e["container_id"] for e in await published_log(env)] == [doc["platform_fields"]["publish_container"]]


async def test_publishing_state_left_by_a_dead_worker_is_settled_by_reading_the_container(env: Env) -> None:
    """The worker died after media_publish went through but before it recorded anything."""
    fast(env)
    tenant, account_id = await connected(env)
    post_id = await post(env, tenant, account_id, BODIES["reel"])
    await env.run_worker()
    doc = await stored(env, post_id)
    # Rewind our record to "publishing, outcome unknown", as a kill -9 mid-call leaves it.
    await env.services.store["publish_jobs"].update_one(
        {"_id": post_id}, {"$set": {"state": "publishing", "media_id": None}, "$unset": {"published_at": ""}}
    )

    assert await publish.advance(env.services, post_id, doc["tick"]) == "published"

    again = await stored(env, post_id)
    assert again["media_id"] == doc["media_id"]
    assert len(await published_log(env)) == 1


async def test_dead_token_mid_way_fails_the_post_and_marks_the_account(env: Env) -> None:
    fast(env)
    await sandbox_knobs(env, video_processing={"kind": "fixed", "low": 30})
    tenant, account_id = await connected(env)
    post_id = await post(env, tenant, account_id, BODIES["reel"])
    assert await publish.advance(env.services, post_id, 0) == "waiting"  # container created, processing
    assert (await read_post(env, tenant, post_id))["state"] == "processing"

    await env.sandbox.post("/_sandbox/tokens/revoke", json={"username": "sandbox_creator"})
    await env.sandbox.post("/_sandbox/clock", json={"advance_seconds": 60})
    await env.run_worker()

    out = await read_post(env, tenant, post_id)
    assert out["state"] == "failed"
    assert out["error"]["code"] == "needs_reconnect"
    account = (await env.http.get(f"/v1/accounts/{account_id}", headers=env.auth(tenant))).json()
    assert account["status"] == "needs_reconnect"
    assert await published_log(env) == []


async def test_after_a_burst_of_30_posts_the_oldest_ambiguous_ones_still_find_their_media_id(env: Env) -> None:
    """Issue 12 §3: a burst of 30 posts on one account; the first five publish answers were lost
    (the worker died inside media_publish), so those posts find their media by caption - and 25+
    later posts are newer than each. The lookup pages back until media are older than the
    post's first publish attempt, not only through the newest page."""
    fast(env)
    await sandbox_knobs(env, quota_total=1000)
    tenant, account_id = await connected(env)
    ids = [await post(env, tenant, account_id, {**BODIES["image"], "caption": f"burst post {n}"}) for n in range(30)]
    await env.run_worker(max_jobs=30)
    live = {post_id: await stored(env, post_id) for post_id in ids}
    assert all(doc["state"] == "published" for doc in live.values())
    oldest = sorted(ids, key=lambda post_id: live[post_id]["published_at"])[:5]
    for post_id in oldest:  # as if the answer of media_publish never arrived
        await env.services.store["publish_jobs"].update_one(
            {"_id": post_id}, {"$set": {"state": "publishing", "media_id": None, "permalink": None},
                               "$unset": {"published_at": "", "event_pending": ""}})
        assert await publish.advance(env.services, post_id, live[post_id]["tick"]) == "published"

    log = {entry["media_id"]: entry for entry in await published_log(env)}
    assert len(log) == 30
    outs = [await read_post(env, tenant, post_id) for post_id in ids]
    assert all(o["state"] == "published" for o in outs)
    assert all(o["media_id"] in log and o["permalink"] for o in outs), [
        (o["caption"], o["media_id"], o["permalink"]) for o in outs if not (o["media_id"] and o["permalink"])]
    assert [log[live[p]["media_id"]]["caption"] for p in oldest] == [
        log[(await stored(env, p))["media_id"]]["caption"] for p in oldest]  # the same media as before


async def test_the_quota_wait_names_the_window_meta_reports(env: Env) -> None:
    fast(env)
    await sandbox_knobs(env, quota_total=1, quota_duration_seconds=3600)
    tenant, account_id = await connected(env)
    await post(env, tenant, account_id, BODIES["image"])
    await env.run_worker()
    second = await post(env, tenant, account_id, {**BODIES["image"], "caption": "second"})
    assert await publish.advance(env.services, second, 0) == "waiting"
    reason = (await read_post(env, tenant, second))["state_reason"]
    assert reason == "Waiting for the publishing quota: 1 of 1 posts in the last 1 hour are used."
    assert describe_window(86400) == "24 hours" and describe_window(90) == "90 seconds"
