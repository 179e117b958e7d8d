"""Publishing end to end: every type goes live once, through IN_PROGRESS, on time when scheduled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import Env
from tests.publish_helpers import BODIES, connected, fast, post, published_log, read_post, sandbox_knobs, stored


@pytest.mark.parametrize("kind", ["image", "reel", "carousel", "story"])
async def test_each_type_is_published_once_and_reads_back_live(env: Env, kind: str) -> None:
    fast(env)
    tenant, account_id = await connected(env)
    post_id = await post(env, tenant, account_id, BODIES[kind])

    await env.run_worker()

    out = await read_post(env, tenant, post_id)
    assert out["state"] == "published", out
    log = await published_log(env)
    assert len(log) == 1
    assert out["media_id"] == log[0]["media_id"]
    expected_product = {"image": "FEED", "carousel": "FEED", "reel": "REELS", "story": "STORY"}[kind]
    assert log[0]["media_product_type"] == expected_product
    assert out["containers"] and all(c["status"] == "FINISHED" for c in out["containers"])
    if kind == "carousel":
        assert [c["role"] for c in out["containers"]] == ["item", "item", "item", "carousel"]
    assert out["published_at"] is not None and out["error"] is None


async def test_facebook_login_account_publishes_through_graph_facebook(env: Env) -> None:
    fast(env)
    tenant, account_id = await connected(env, login="facebook")
    body = {**BODIES["image"], "options": {"collaborators": ["friend_1"]}}
    post_id = await post(env, tenant, account_id, body)

    await env.run_worker()

    assert (await read_post(env, tenant, post_id))["state"] == "published"
    assert len(await published_log(env)) == 1


async def test_video_is_polled_through_in_progress_with_growing_waits(env: Env) -> None:
    fast(env)
    await sandbox_knobs(env, video_processing={"kind": "fixed", "low": 1.5})
    tenant, account_id = await connected(env)
    post_id = await post(env, tenant, account_id, BODIES["reel"])

    await env.run_worker()

    doc = await stored(env, post_id)
    assert doc["state"] == "published"
    assert doc["platform_fields"]["polls"] >= 2  # it saw IN_PROGRESS and waited (deferred jobs), more than once
    container_reads = [a for a in (await env.sandbox.get("/_sandbox/requests", params={"limit": 500})).json()["requests"]
                       if a["method"] == "GET" and a["path"].endswith(doc["platform_fields"]["publish_container"])]
    assert len(container_reads) == doc["platform_fields"]["polls"] + 1
    assert len(await published_log(env)) == 1


async def test_scheduled_post_is_published_at_its_time_not_before(env: Env) -> None:
    fast(env)
    tenant, account_id = await connected(env)
    publish_at = datetime.now(UTC) + timedelta(seconds=2.5)
    post_id = await post(env, tenant, account_id, {**BODIES["image"], "publish_at": publish_at.isoformat()})
    assert (await read_post(env, tenant, post_id))["state"] == "scheduled"

    await env.run_worker()

    out = await read_post(env, tenant, post_id)
    assert out["state"] == "published"
    assert datetime.fromisoformat(out["published_at"]) >= publish_at
    assert len(await published_log(env)) == 1
