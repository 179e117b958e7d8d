"""TikTok posts on the generic publish machine: ``publish_at`` (held until due, then published
once, Instagram's rules and codes, cancel before due), the publish queue, and the
``post.publish.*`` webhook that cuts a deferred poll short."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from test_tiktok_publish import MB, post, publishes, quick_tiktok, ready_account, video  # noqa: F401 - fixture

from socialsync import queue
from tests.conftest import Env
from tests.publish_helpers import run_worker_until


async def read(env: Env, tenant, post_id: str) -> dict:  # noqa: ANN001
    r = await env.http.get(f"/v1/posts/{post_id}", headers=env.auth(tenant))
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_scheduled_video_is_held_until_due_then_published_once(env: Env) -> None:
    tenant, account_id = await ready_account(env)
    publish_at = datetime.now(UTC) + timedelta(seconds=2)
    r = await post(env, tenant, account_id, {**video(env, 6 * MB), "publish_at": publish_at.isoformat()})
    assert r.status_code == 202, r.text
    got = await read(env, tenant, r.json()["id"])
    assert got["state"] == "scheduled", got
    assert abs(datetime.fromisoformat(got["publish_at"]) - publish_at) < timedelta(milliseconds=1)  # stored to the ms
    # Its first step waits on the publish queue, deferred to publish_at (no other queue holds it).
    publish_queue = queue.queue_name_for(env.settings.queue_name, queue.PUBLISH)
    score = await env.redis.zscore(publish_queue, queue.publish_job_id(r.json()["id"], 0))
    assert score is not None and abs(score / 1000 - publish_at.timestamp()) < 1.0

    await env.run_worker()  # a burst worker waits for the deferred job, then publishes

    got = await read(env, tenant, r.json()["id"])
    assert got["state"] == "published", got
    assert datetime.fromisoformat(got["published_at"]) >= publish_at
    [log] = await publishes(env)
    assert log["status"] == "PUBLISH_COMPLETE"
    events = [e async for e in env.services.store["crm_events"].find({"type": "post.published"})]
    assert len(events) == 1 and events[0]["data"]["post_id"] == got["id"]


async def test_publish_at_follows_instagrams_rules_and_codes(env: Env) -> None:
    tenant, account_id = await ready_account(env)
    now = datetime.now(UTC)
    horizon = timedelta(days=env.settings.publish_schedule_horizon_days)
    cases = [
        ((now - timedelta(minutes=1)).isoformat(), "publish_at_in_past"),
        ((now + horizon + timedelta(hours=1)).isoformat(), "publish_at_too_far"),
        ("2030-01-01T10:00:00", "invalid_body"),  # no offset
        ("tomorrow", "invalid_body"),
        (12, "invalid_body"),
    ]
    for i, (value, code) in enumerate(cases):
        r = await post(env, tenant, account_id, {**video(env, MB), "publish_at": value}, key=f"bad-{i}")
        assert r.status_code == 400 and r.json()["error"]["code"] == code, (value, r.text)
    assert await env.services.store["publish_jobs"].count_documents({}) == 0
    # Just inside the horizon is accepted.
    r = await post(env, tenant, account_id,
                   {**video(env, MB), "publish_at": (now + horizon - timedelta(hours=1)).isoformat()}, key="ok")
    assert r.status_code == 202, r.text


async def test_a_scheduled_post_cancelled_before_due_never_goes_out(env: Env) -> None:
    tenant, account_id = await ready_account(env)
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    r = await post(env, tenant, account_id, {**video(env, MB), "publish_at": later})
    post_id = r.json()["id"]

    cancel = await env.http.delete(f"/v1/posts/{post_id}", headers=env.auth(tenant))
    assert cancel.status_code == 200 and cancel.json()["state"] == "cancelled", cancel.text
    await env.run_worker()  # the deferred job was withdrawn: nothing holds the worker for an hour
    assert (await read(env, tenant, post_id))["state"] == "cancelled"
    assert await publishes(env) == []

    now_post = await post(env, tenant, account_id, video(env, MB), key="k-now")
    await env.run_worker()
    assert (await read(env, tenant, now_post.json()["id"]))["state"] == "published"
    refused = await env.http.delete(f"/v1/posts/{now_post.json()['id']}", headers=env.auth(tenant))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "post_not_cancellable"


async def test_a_publish_webhook_polls_the_waiting_post_now(env: Env) -> None:
    """The poll after the upload is deferred for a minute; TikTok's post.publish.* webhook
    (signed by the sandbox, through /webhooks/tiktok) makes the post read its status at once."""
    env.settings.tiktok.poll_first_seconds = 60.0
    env.settings.tiktok.poll_cap_seconds = 60.0
    await env.sandbox.post("/_sandbox/tiktok/webhooks/config", json={"url": f"{env.url}/webhooks/tiktok"})
    tenant, account_id = await ready_account(env)
    r = await post(env, tenant, account_id, video(env, 6 * MB))
    post_id = r.json()["id"]

    async def published() -> bool:
        await env.sandbox.post("/_sandbox/tiktok/tick")  # the sandbox's own ticker, without waiting for it
        return (await read(env, tenant, post_id))["state"] == "published"

    took = await run_worker_until(env, published, within=20.0)
    assert took < 20.0
    doc = await env.services.store["publish_jobs"].find_one({"_id": post_id})
    assert doc.get("webhook_nudged_at") is not None
    assert len(await publishes(env)) == 1


async def test_a_dry_run_checks_everything_and_stores_nothing(env: Env) -> None:
    tenant, account_id = await ready_account(env)
    publish_at = datetime.now(UTC) + timedelta(hours=2)

    async def dry(body: dict, key: str = "dry") -> object:
        return await env.http.post(f"/v1/accounts/{account_id}/posts", json=body, params={"dry_run": "true"},
                                   headers={**env.auth(tenant), "Idempotency-Key": key})

    r = await dry({**video(env, MB), "publish_at": publish_at.isoformat()})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["valid"] is True and answer["quota_left"] is None and answer["existing_post_id"] is None
    assert abs(datetime.fromisoformat(answer["would_publish_at"]) - publish_at) < timedelta(seconds=1)
    bad = await dry(video(env, MB, privacy="FOLLOWER_OF_CREATOR"))  # not offered to tt_creator
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "privacy_level_not_offered"
    assert await env.services.store["publish_jobs"].count_documents({}) == 0
    await env.run_worker()
    assert await publishes(env) == []

    real = await post(env, tenant, account_id, video(env, MB), key="k-real")
    again = await dry(video(env, MB), key="k-real")  # the same key and body: names the post
    assert again.status_code == 200 and again.json()["existing_post_id"] == real.json()["id"]
    other = await dry(video(env, 2 * MB), key="k-real")
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_conflict"
