"""The publishing API: validation codes, Idempotency-Key replay and conflict, cancel, tenancy,
listing, and the sweep that rescues posts whose job went missing."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from socialsync import queue
from socialsync.publishing import jobs as publish
from tests.conftest import Env
from tests.publish_helpers import BODIES, IMAGE, VIDEO, connected, fast, post, published_log, read_post, sandbox_knobs, submit

FUTURE = (datetime.now(UTC) + timedelta(days=400)).isoformat()
PAST = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()


def _image(**changes: object) -> dict:
    body = copy.deepcopy(BODIES["image"])
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"type": "carousel", "media": [{"url": IMAGE, "kind": "image"}]}, 400, "carousel_item_count"),
        ({"type": "carousel", "media": [{"url": IMAGE, "kind": "image"}] * 11}, 400, "carousel_item_count"),
        ({"type": "carousel", "media": [{"url": IMAGE, "kind": "image"}, {"url": VIDEO, "kind": "reel"}]}, 400, "reel_in_carousel"),
        (_image(caption="x" * 2201), 400, "caption_too_long"),
        (_image(caption=" ".join(f"#tag{i}" for i in range(31))), 400, "too_many_hashtags"),
        (_image(caption=" ".join(f"@user{i}" for i in range(21))), 400, "too_many_mentions"),
        (_image(media=[{"url": "http://cdn.example.com/a.jpg", "kind": "image"}]), 400, "media_url_not_https"),
        (_image(media=[{"url": VIDEO, "kind": "video"}]), 400, "media_kind_not_allowed"),
        ({"type": "reel", "media": [{"url": IMAGE, "kind": "image"}]}, 400, "media_kind_not_allowed"),
        (_image(media=[{"url": IMAGE, "kind": "image"}] * 2), 400, "media_count"),
        (_image(publish_at=PAST), 400, "publish_at_in_past"),
        (_image(publish_at=FUTURE), 400, "publish_at_too_far"),
        (_image(options={"share_to_feed": True}), 400, "option_not_allowed"),
        ({"type": "story", "media": [{"url": IMAGE, "kind": "image"}], "options": {"location_id": "123"}}, 400, "option_not_allowed"),
        (_image(options={"collaborators": ["a_friend"]}), 400, "option_requires_facebook_login"),
        ({"type": "reel", "media": [{"url": VIDEO, "kind": "video", "alt_text": "no"}]}, 400, "alt_text_not_allowed"),
        ({"type": "video", "media": [{"url": VIDEO, "kind": "video"}]}, 400, "invalid_body"),
    ],
)
async def test_invalid_post_is_refused_with_its_own_code_and_nothing_is_queued(
    env: Env, body: dict, status: int, code: str
) -> None:
    tenant, account_id = await connected(env)

    r = await submit(env, tenant, account_id, body)

    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert await env.services.store["publish_jobs"].count_documents({}) == 0
    assert not await _publish_jobs_queued(env)


async def _publish_jobs_queued(env: Env) -> bool:
    ids = [i for q in queue.all_queue_names(env.settings.queue_name).values()
           for i in await env.redis.zrange(q, 0, -1)]
    return any(i.startswith(b"publish:") for i in ids)


async def test_missing_idempotency_key_is_refused(env: Env) -> None:
    tenant, account_id = await connected(env)
    r = await env.http.post(f"/v1/accounts/{account_id}/posts", json=BODIES["image"], headers=env.auth(tenant))
    assert r.status_code == 400 and r.json()["error"]["code"] == "missing_idempotency_key"


async def test_account_without_publish_scope_or_inactive_is_refused(env: Env) -> None:
    from tests.flows import connect  # noqa: PLC0415

    tenant = await env.tenant()
    limited = (await connect(env, tenant.api_key, "sandbox_newbie", scopes="instagram_business_basic")).account_id
    r = await submit(env, tenant, limited, BODIES["image"])
    assert r.status_code == 403 and r.json()["error"]["code"] == "missing_publish_scope"

    full = (await connect(env, tenant.api_key, "sandbox_creator")).account_id
    await env.http.delete(f"/v1/accounts/{full}", headers=env.auth(tenant))
    r = await submit(env, tenant, full, BODIES["image"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "account_not_active"


async def test_same_idempotency_key_returns_the_first_post_and_a_different_body_conflicts(env: Env) -> None:
    fast(env)
    tenant, account_id = await connected(env)
    first = await submit(env, tenant, account_id, BODIES["image"], key="crm-42")
    again = await submit(env, tenant, account_id, BODIES["image"], key="crm-42")
    other = await submit(env, tenant, account_id, _image(caption="changed"), key="crm-42")

    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_conflict"
    await env.run_worker()
    assert len(await published_log(env)) == 1
    # after publishing, the replay still answers the same post, now published
    replay = await submit(env, tenant, account_id, BODIES["image"], key="crm-42")
    assert replay.json() == {"id": first.json()["id"], "state": "published"}


async def test_cancel_a_scheduled_post_stops_it_and_a_published_one_cannot_be_cancelled(env: Env) -> None:
    fast(env)
    tenant, account_id = await connected(env)
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    scheduled = await post(env, tenant, account_id, _image(publish_at=later))

    r = await env.http.delete(f"/v1/posts/{scheduled}", headers=env.auth(tenant))
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    # its job, when it comes, does nothing
    assert await publish.advance(env.services, scheduled, 0) == "cancelled"
    assert await published_log(env) == []
    await env.run_worker()  # its deferred job was withdrawn (Job.abort): nothing holds the worker 1 h

    now_post = await post(env, tenant, account_id, BODIES["image"])
    await env.run_worker()
    r = await env.http.delete(f"/v1/posts/{now_post}", headers=env.auth(tenant))
    assert r.status_code == 409 and r.json()["error"]["code"] == "post_not_cancellable"
    assert (await read_post(env, tenant, now_post))["state"] == "published"


async def test_another_tenants_posts_and_accounts_are_not_found(env: Env) -> None:
    tenant, account_id = await connected(env)
    post_id = await post(env, tenant, account_id, _image(publish_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat()))
    intruder = await env.tenant("Other CRM")

    for method, path in (("GET", f"/v1/posts/{post_id}"), ("DELETE", f"/v1/posts/{post_id}"),
                         ("GET", f"/v1/accounts/{account_id}/posts")):
        r = await env.http.request(method, path, headers=env.auth(intruder))
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await submit(env, intruder, account_id, BODIES["image"])
    assert r.status_code == 404
    assert (await read_post(env, tenant, post_id))["state"] == "scheduled"


async def test_listing_filters_by_state_and_pages_with_a_stable_cursor(env: Env) -> None:
    tenant, account_id = await connected(env)
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    ids = [await post(env, tenant, account_id, _image(caption=f"p{i}", publish_at=later)) for i in range(5)]
    await env.http.delete(f"/v1/posts/{ids[0]}", headers=env.auth(tenant))

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, "state": "scheduled", **({"cursor": cursor} if cursor else {})}
        page = (await env.http.get(f"/v1/accounts/{account_id}/posts", params=params, headers=env.auth(tenant))).json()
        seen += [p["id"] for p in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids[1:]))
    bad = await env.http.get(f"/v1/accounts/{account_id}/posts", params={"state": "nope"}, headers=env.auth(tenant))
    assert bad.json()["error"]["code"] == "invalid_state"


async def test_scheduled_post_whose_job_vanished_with_redis_is_still_published(env: Env) -> None:
    fast(env, publish_stuck_after_seconds=0.5)
    tenant, account_id = await connected(env)
    publish_at = datetime.now(UTC) + timedelta(seconds=1)
    post_id = await post(env, tenant, account_id, _image(publish_at=publish_at.isoformat()))
    await env.redis.flushdb()  # every queued job is gone

    await env.run_worker()
    assert (await read_post(env, tenant, post_id))["state"] == "scheduled"  # nothing ran it

    while datetime.now(UTC) < publish_at + timedelta(seconds=0.6):
        await _tick()
    await env.services.redis.enqueue_job(queue.PUBLISH_SWEEP, _job_id="sweep-test")
    await env.run_worker()

    assert (await read_post(env, tenant, post_id))["state"] == "published"
    assert len(await published_log(env)) == 1


async def _tick() -> None:
    import asyncio  # noqa: PLC0415

    await asyncio.sleep(0.1)


# --- dry run (issue 12 §3) ---------------------------------------------------------------------
async def _dry(env: Env, tenant: object, account_id: str, body: dict, **params: str) -> object:
    return await env.http.post(
        f"/v1/accounts/{account_id}/posts", json=body, params={"dry_run": "true", **params},
        headers={**env.auth(tenant), "Idempotency-Key": "dry-1"},  # type: ignore[arg-type]
    )


async def test_a_dry_run_answers_what_would_happen_and_stores_and_enqueues_nothing(env: Env) -> None:
    tenant, account_id = await connected(env)
    later = datetime.now(UTC) + timedelta(hours=2)

    r = await _dry(env, tenant, account_id, _image(publish_at=later.isoformat()))

    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["valid"] is True and answer["quota_left"] == 100  # Meta's documented 100 / 24 h
    assert abs(datetime.fromisoformat(answer["would_publish_at"]) - later) < timedelta(seconds=1)
    assert await env.services.store["publish_jobs"].count_documents({}) == 0
    assert not await _publish_jobs_queued(env)
    bad = await env.http.post(f"/v1/accounts/{account_id}/posts", json=_image(), params={"dry_run": "maybe"},
                              headers={**env.auth(tenant), "Idempotency-Key": "k"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_dry_run"


async def test_a_dry_run_refuses_with_the_same_codes_as_the_real_request(env: Env) -> None:
    from tests.flows import connect  # noqa: PLC0415

    tenant, account_id = await connected(env)
    for body in (_image(publish_at=FUTURE), _image(publish_at=PAST), _image(caption="#a " * 31),
                 {"type": "story", "media": [{"url": IMAGE, "kind": "image"}], "options": {"location_id": "1"}},
                 {"type": "video", "media": []}):
        real, dry = await submit(env, tenant, account_id, body), await _dry(env, tenant, account_id, body)
        assert real.status_code >= 400 and (dry.status_code, dry.json()) == (real.status_code, real.json())
    limited = (await connect(env, tenant.api_key, "sandbox_newbie", scopes="instagram_business_basic")).account_id
    r = await _dry(env, tenant, limited, BODIES["image"])
    assert r.status_code == 403 and r.json()["error"]["code"] == "missing_publish_scope"
    await env.http.delete(f"/v1/accounts/{account_id}", headers=env.auth(tenant))
    r = await _dry(env, tenant, account_id, BODIES["image"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "account_not_active"
    assert await env.services.store["publish_jobs"].count_documents({}) == 0


async def test_a_dry_run_counts_the_publishing_quota_meta_reported_and_our_own_posts(env: Env) -> None:
    fast(env)
    await sandbox_knobs(env, quota_total=2)
    tenant, account_id = await connected(env)
    first = await post(env, tenant, account_id, BODIES["image"])
    await env.run_worker()  # the worker read the limit before publishing: total 2
    published_at = datetime.fromisoformat((await read_post(env, tenant, first))["published_at"])

    r = await _dry(env, tenant, account_id, {**BODIES["image"], "caption": "two"})
    assert r.status_code == 200 and r.json()["quota_left"] == 1

    await post(env, tenant, account_id, {**BODIES["image"], "caption": "queued, not yet run"})
    r = await _dry(env, tenant, account_id, {**BODIES["image"], "caption": "three"})
    answer = r.json()
    assert answer["quota_left"] == 0  # the queued post takes the last slot
    # so this one would wait until the first post leaves the 24 h window
    assert abs(datetime.fromisoformat(answer["would_publish_at"]) - (published_at + timedelta(days=1))) < timedelta(seconds=1)
