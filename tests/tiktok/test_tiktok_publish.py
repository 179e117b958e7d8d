"""Direct Post through the API and the worker: exactly once, validated before queuing, and
recovered after a worker died between init and upload or between upload and status."""

from __future__ import annotations

import hashlib

import pytest
from tiktok_flows import connect

from sandbox.tiktok.files import content_bytes
from socialsync.publishing.plugin_run import PublishRun
from tests.conftest import Env

MB = 1024 * 1024


@pytest.fixture(autouse=True)
async def quick_tiktok(env: Env) -> None:
    await env.sandbox.post("/_sandbox/tiktok/limits", json={
        "processing_min_seconds": 0, "processing_max_seconds": 0, "processing_seconds_per_gb": 0,
        "moderation_min_seconds": 0, "moderation_max_seconds": 0})
    env.settings.tiktok.app_audited = True
    env.settings.tiktok.poll_first_seconds = 0.2
    env.settings.tiktok.upload_chunk_bytes = 5 * MB  # several chunks in small test files


def video(env: Env, size: int, privacy: str = "PUBLIC_TO_EVERYONE", name: str = "v.mp4") -> dict:
    return {"type": "video", "caption": "Hello #tiktok",
            "media": [{"url": f"{env.sandbox_url}/files.sandbox.test/videos/{name}?size={size}", "kind": "video"}],
            "options": {"privacy_level": privacy, "disable_duet": True}}


async def post(env: Env, tenant, account_id: str, body: dict, key: str = "k-1"):  # noqa: ANN001, ANN201
    return await env.http.post(f"/v1/accounts/{account_id}/posts", json=body,
                               headers={**env.auth(tenant), "Idempotency-Key": key})


async def publishes(env: Env) -> list[dict]:
    return (await env.sandbox.get("/_sandbox/tiktok/publishes")).json()["publishes"]


async def ready_account(env: Env, username: str = "tt_creator"):  # noqa: ANN201
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key, account=username)
    await env.run_worker()  # the first sync, which also reads creator_info
    return tenant, out.account_id


async def test_video_post_is_published_once_with_its_bytes(env: Env) -> None:
    tenant, account_id = await ready_account(env)
    size = 12 * MB + 3
    r = await post(env, tenant, account_id, video(env, size))
    assert r.status_code == 202, r.text
    again = await post(env, tenant, account_id, video(env, size))  # same key: the same post
    assert again.json()["id"] == r.json()["id"]
    await env.run_worker()
    got = (await env.http.get(f"/v1/posts/{r.json()['id']}", headers=env.auth(tenant))).json()
    assert got["state"] == "published" and got["media_id"].isdigit(), got
    assert got["permalink"].endswith(f"/video/{got['media_id']}")
    [log] = await publishes(env)
    assert log["sha256"] == hashlib.sha256(content_bytes("v.mp4", size)).hexdigest()
    assert log["post_info"]["disable_duet"] is True and log["privacy_level"] == "PUBLIC_TO_EVERYONE"
    events = [e async for e in env.services.store["crm_events"].find({"type": "post.published"})]
    assert len(events) == 1 and events[0]["data"]["media_id"] == got["media_id"]


async def test_privacy_level_not_offered_is_refused_before_anything_is_queued(env: Env) -> None:
    tenant, account_id = await ready_account(env, "tt_private")
    r = await post(env, tenant, account_id, video(env, MB, privacy="PUBLIC_TO_EVERYONE"))
    assert r.status_code == 400 and r.json()["error"]["code"] == "privacy_level_not_offered", r.text
    assert await env.services.store["publish_jobs"].count_documents({}) == 0
    missing = video(env, MB)
    del missing["options"]["privacy_level"]
    r = await post(env, tenant, account_id, missing, key="k-2")
    assert r.status_code == 400 and r.json()["error"]["code"] == "privacy_level_required"
    env.settings.tiktok.app_audited = False
    r = await post(env, tenant, account_id, video(env, MB, privacy="MUTUAL_FOLLOW_FRIENDS"), key="k-3")
    assert r.status_code == 400 and r.json()["error"]["code"] == "unaudited_app_self_only"
    assert await publishes(env) == []


async def test_photo_post_by_pull_from_url(env: Env) -> None:
    tenant, account_id = await ready_account(env)
    body = {"type": "photo", "caption": "two", "options": {"privacy_level": "SELF_ONLY", "title": "pics"},
            "media": [{"url": "https://cdn.crm.example.com/1.jpg"}, {"url": "https://cdn.crm.example.com/2.jpg"}]}
    r = await post(env, tenant, account_id, body)
    assert r.status_code == 202, r.text
    await env.run_worker()
    got = (await env.http.get(f"/v1/posts/{r.json()['id']}", headers=env.auth(tenant))).json()
    assert got["state"] == "published" and len(await publishes(env)) == 1


async def _step_until(env: Env, post_id: str, step: str) -> dict:
    col = env.services.store["publish_jobs"]
    for _ in range(20):
        doc = await col.find_one({"_id": post_id})
        if doc["step"] == step:
            return doc
        run = PublishRun(env.services, doc)
        account = await run.account()
        assert not isinstance(account, str), account
        await run.step(account)
    raise AssertionError(f"never reached {step}")


@pytest.mark.parametrize("died_in", ["initialised", "processing"])
async def test_worker_dead_mid_step_is_published_once(env: Env, died_in: str) -> None:
    tenant, account_id = await ready_account(env)
    r = await post(env, tenant, account_id, video(env, 11 * MB))
    doc = await _step_until(env, r.json()["id"], died_in)
    assert doc["platform_fields"]["tiktok_publish_id"]  # stored before the first byte
    # A worker took the next step and died inside it (between init and upload, or upload and status).
    await env.services.store["publish_jobs"].update_one({"_id": doc["_id"]}, {"$set": {"step_in_flight": True}})
    await env.run_worker()
    got = (await env.http.get(f"/v1/posts/{doc['_id']}", headers=env.auth(tenant))).json()
    assert got["state"] == "published", got
    assert len(await publishes(env)) == 1 and (await publishes(env))[0]["status"] == "PUBLISH_COMPLETE"


PHOTO = {"type": "photo", "caption": "one", "options": {"privacy_level": "SELF_ONLY"},
         "media": [{"url": "https://cdn.crm.example.com/1.jpg"}]}


async def test_a_lost_answer_to_a_photo_init_never_posts_twice(env: Env) -> None:
    """TikTok took the pull init but its answer was lost (a 502 after the work): the post has no
    publish_id to reconcile with, so it ends publish_outcome_unknown instead of a second init."""
    tenant, account_id = await ready_account(env)
    r = await env.sandbox.post("/_sandbox/faults", json={
        "method": "POST", "path": "/open.tiktokapis.com/v2/post/publish/content/init/", "status": 502,
        "count": 1, "phase": "after"})
    assert r.status_code == 201, r.text
    r = await post(env, tenant, account_id, PHOTO)
    await env.run_worker()
    got = (await env.http.get(f"/v1/posts/{r.json()['id']}", headers=env.auth(tenant))).json()
    assert got["state"] == "failed" and got["error"]["code"] == "publish_outcome_unknown", got
    assert len(await publishes(env)) == 1  # the one TikTok took; never a second


async def test_a_worker_dead_inside_a_photo_init_never_posts_twice(env: Env) -> None:
    tenant, account_id = await ready_account(env)
    r = await post(env, tenant, account_id, PHOTO)
    doc = await _step_until(env, r.json()["id"], "ready")
    assert doc["state"] == "publishing"  # past creator_info: no longer cancellable
    # A worker took the init step and died inside it: whether TikTok took the post is unknown.
    await env.services.store["publish_jobs"].update_one({"_id": doc["_id"]}, {"$set": {"step_in_flight": True}})
    await env.run_worker()
    got = (await env.http.get(f"/v1/posts/{doc['_id']}", headers=env.auth(tenant))).json()
    assert got["state"] == "failed" and got["error"]["code"] == "publish_outcome_unknown", got
    assert await publishes(env) == []


async def test_worker_killed_mid_upload_is_rescued_by_the_sweep_and_published_once(env: Env) -> None:
    """The worker sent the first chunk and was SIGKILLed before recording it: the post is silent,
    its job held by arq for the dead worker. The publish sweep moves it to a new tick; the step
    was in flight, so TikTok's status decides where the upload resumes. No second init."""
    from tests.test_publish_recovery import _leave_as_a_dead_worker_would  # noqa: PLC0415
    from tests.publish_helpers import run_worker_until  # noqa: PLC0415
    from socialsync.publishing.sweep import sweep  # noqa: PLC0415

    tenant, account_id = await ready_account(env)
    size = 11 * MB
    r = await post(env, tenant, account_id, video(env, size))
    doc = await _step_until(env, r.json()["id"], "initialised")
    fields = doc["platform_fields"]
    first, last = 0, 5 * MB - 1  # the first chunk, as the dead worker sent it
    put = await env.sandbox.put(fields["tiktok_upload_url"], content=content_bytes("v.mp4", size, 0, last + 1),
                                headers={"Content-Type": "video/mp4", "Content-Range": f"bytes {first}-{last}/{size}"})
    assert put.status_code == 206, put.text
    await _leave_as_a_dead_worker_would(env, doc["_id"], step_in_flight=True)

    assert await sweep(env.services) == 1

    async def final() -> bool:
        got = await env.services.store["publish_jobs"].find_one({"_id": doc["_id"]})
        return got["state"] in ("published", "failed")
    await run_worker_until(env, final, within=60)
    done = await env.services.store["publish_jobs"].find_one({"_id": doc["_id"]})
    assert done["state"] == "published", done.get("error")
    assert done["platform_fields"]["tiktok_inits"] == 1
    calls = (await env.sandbox.get("/_sandbox/requests?limit=500")).json()["requests"]
    puts = [c for c in calls if c["method"] == "PUT"]
    assert len(puts) == 2  # ours (the dead worker's chunk 0), then only chunk 1: resumed, not re-sent
    statuses = [i for i, c in enumerate(calls) if c["endpoint"].endswith("/v2/post/publish/status/fetch/")]
    assert statuses and statuses[0] < calls.index(puts[1])  # TikTok's status decided where to resume
    [log] = await publishes(env)
    assert log["uploaded_bytes"] == size
    assert log["sha256"] == hashlib.sha256(content_bytes("v.mp4", size)).hexdigest()


async def test_a_chunk_failure_mid_upload_is_retried_and_the_video_published_once(env: Env) -> None:
    """Through the API and the worker: the second chunk's PUT fails once (TikTok's 500
    ``internal_error``), and one answer is lost after TikTok kept the chunk."""
    tenant, account_id = await ready_account(env)
    for phase, code in (("before", "internal_error"), ("after", "internal_error")):
        r = await env.sandbox.post("/_sandbox/faults", json={
            "method": "PUT", "path": "/open-upload.tiktokapis.com/video/*", "phase": phase,
            "error": {"code": code, "message": "injected"}})
        assert r.status_code == 201, r.text
    size = 16 * MB + 7
    r = await post(env, tenant, account_id, video(env, size))
    await env.run_worker()
    got = (await env.http.get(f"/v1/posts/{r.json()['id']}", headers=env.auth(tenant))).json()
    assert got["state"] == "published", got
    [log] = await publishes(env)
    assert log["uploaded_bytes"] == size and log["sha256"] == hashlib.sha256(content_bytes("v.mp4", size)).hexdigest()
    doc = await env.services.store["publish_jobs"].find_one({"_id": got["id"]})
    assert doc["platform_fields"]["tiktok_inits"] == 1
    puts = [c for c in (await env.sandbox.get("/_sandbox/requests?limit=500")).json()["requests"] if c["method"] == "PUT"]
    assert len([c for c in puts if c["status"] == 500]) == 2
    assert len(puts) == log["total_chunk_count"] + 2  # each failed chunk sent again at once, nothing else


async def test_a_long_upload_is_split_into_recorded_steps(env: Env) -> None:
    """An upload step stops after UPLOAD_STEP_SECONDS (plus the chunk in flight) and records its
    offset (the heartbeat the sweep reads); the next step resumes there."""
    env.settings.tiktok.upload_step_seconds = 0.001  # one chunk a step
    tenant, account_id = await ready_account(env)
    r = await post(env, tenant, account_id, video(env, 16 * MB))  # 3 chunks of 5 MiB (+1)
    await env.run_worker()
    doc = await env.services.store["publish_jobs"].find_one({"_id": r.json()["id"]})
    assert doc["state"] == "published", doc.get("error")
    resumed = [a for a in doc["attempts"] if a["step"] == "initialised" and a["outcome"] == "initialised"]
    assert len(resumed) == 2  # chunk 0, then chunk 1 recorded; chunk 2 ends the upload
    assert len(await publishes(env)) == 1
