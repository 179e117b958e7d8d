"""Instagram on the one publish run (socialsync/publishing/plugin_run.py): each step's outcome is
recorded before the next step acts on it, an interrupted step resumes without repeating a call
whose outcome it did not record, and posts stored by the previous release (Instagram's own run:
top-level container fields, no ``step``) still advance after the start-up migration."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from socialsync import clock
from socialsync.platforms.base import PublishRejected
from socialsync.publishing import jobs as publish
from socialsync.publishing.plugin_run import PublishRun, publisher_of
from socialsync.store import migrations
from socialsync.store import posts as post_store
from socialsync.tokens import fresh_ref
from tests.conftest import Env
from tests.publish_helpers import (
    BODIES, add_fault, connected, fast, post, published_log, read_post, sandbox_knobs, stored,
)


async def _requests(env: Env, method: str, suffix: str) -> list[dict[str, Any]]:
    r = await env.sandbox.get("/_sandbox/requests", params={"limit": 1000})
    return [a for a in r.json()["requests"] if a["method"] == method and a["path"].endswith(suffix)]


async def _step(env: Env, post_id: str) -> dict[str, Any]:
    """One recorded step of the run (what a job does between two writes)."""
    run = PublishRun(env.services, await stored(env, post_id))
    account = await fresh_ref(env.services, run.post["account_id"])
    assert account is not None
    result = await run.step(account)
    assert result is None, result  # each of these steps goes straight on
    return await stored(env, post_id)


async def _step_until(env: Env, post_id: str, step: str) -> dict[str, Any]:
    doc = await stored(env, post_id)
    for _ in range(10):
        if doc["step"] == step:
            return doc
        doc = await _step(env, post_id)
    raise AssertionError(f"never reached {step}: {doc['step']}")


async def _killed_inside(env: Env, post_id: str) -> None:
    """A worker that starts the post's current step (flag in flight, the platform call made) and
    dies before it records the outcome."""
    doc = await stored(env, post_id)
    run = PublishRun(env.services, doc)
    await run.cas((doc["state"],), {"step_in_flight": True})
    account = await fresh_ref(env.services, doc["account_id"])
    publisher = publisher_of(env.services, doc["platform"])
    await publisher.advance(account, run.view(run.post, interrupted=False), clock.now())  # outcome lost


@pytest.fixture
def instant(env: Env) -> None:
    fast(env)


async def test_each_step_is_recorded_before_the_next_acts_on_it(env: Env, instant: None) -> None:
    await sandbox_knobs(env, image_processing={"kind": "fixed", "low": 0.0})
    tenant, account_id = await connected(env)
    post_id = await post(env, tenant, account_id, BODIES["image"])

    created = await _step_until(env, post_id, "processing")
    container = created["platform_fields"]["items"]["i0"]["id"]
    assert created["state"] == "processing" and created["step_in_flight"] is False
    assert not await _requests(env, "GET", container)  # recorded before anything polled it
    ready = await _step_until(env, post_id, "ready")
    assert ready["platform_fields"]["publish_container"] == container and ready["state"] == "ready"
    assert not await _requests(env, "POST", "/media_publish")
    publishing = await _step(env, post_id)  # ready → publishing is written before the call is made
    assert publishing["step"] == "publishing" and publishing["state"] == "publishing"
    assert publishing["publish_attempts"] == 1 and not await _requests(env, "POST", "/media_publish")

    assert await publish.advance(env.services, post_id, publishing["tick"]) == "published"
    assert [e["container_id"] for e in await published_log(env)] == [container]


async def test_killed_after_media_publish_resumes_by_reading_back_and_never_calls_it_again(
    env: Env, instant: None,
) -> None:
    await sandbox_knobs(env, image_processing={"kind": "fixed", "low": 0.0})
    tenant, account_id = await connected(env)
    post_id = await post(env, tenant, account_id, BODIES["image"])
    await _step_until(env, post_id, "publishing")

    await _killed_inside(env, post_id)  # Meta published; nothing recorded but the in-flight flag
    assert len(await published_log(env)) == 1
    doc = await stored(env, post_id)
    assert doc["state"] == "publishing" and doc["step_in_flight"] is True

    assert await publish.advance(env.services, post_id, doc["tick"]) == "published"
    done = await stored(env, post_id)
    log = await published_log(env)
    assert len(log) == 1 and done["media_id"] == log[0]["media_id"]
    assert len(await _requests(env, "POST", "/media_publish")) == 1  # the resumed step read back instead
    assert done["attempts"][-1]["detail"] == "container read-back on resume"


async def test_a_container_created_by_a_killed_step_is_never_published(env: Env, instant: None) -> None:
    await sandbox_knobs(env, image_processing={"kind": "fixed", "low": 0.0})
    tenant, account_id = await connected(env)
    post_id = await post(env, tenant, account_id, BODIES["image"])
    await _step_until(env, post_id, "creating")

    await _killed_inside(env, post_id)  # a container exists on Meta's side, never recorded
    orphans = await _requests(env, "POST", "/media")
    assert len(orphans) == 1 and not (await stored(env, post_id))["platform_fields"].get("items")

    doc = await stored(env, post_id)
    assert await publish.advance(env.services, post_id, doc["tick"]) == "published"
    done = await stored(env, post_id)
    assert len(await _requests(env, "POST", "/media")) == 2  # the resumed step made its own
    assert [e["container_id"] for e in await published_log(env)] == [done["platform_fields"]["publish_container"]]


def _as_previous_release(doc: dict[str, Any], state: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The update that writes ``doc`` the way Instagram's own run stored it: container fields at
    the top level, the step in ``state``, no ``step``/``platform_fields``."""
    fields = {k: v for k, v in doc["platform_fields"].items() if k in migrations.LEGACY_POST_FIELDS}
    return ({"$set": {**fields, "state": state}, "$unset": {"step": "", "platform_fields": "", "step_in_flight": ""}},
            tuple(fields))


async def test_a_previous_release_post_killed_inside_media_publish_settles_once_after_the_upgrade(
    env: Env, instant: None,
) -> None:
    await sandbox_knobs(env, image_processing={"kind": "fixed", "low": 0.0})
    tenant, account_id = await connected(env)
    post_id = await post(env, tenant, account_id, BODIES["image"])
    await _step_until(env, post_id, "publishing")
    await _killed_inside(env, post_id)  # the old release's worker died inside media_publish
    col = env.services.store[post_store.COLLECTION]
    update, names = _as_previous_release(await stored(env, post_id), "publishing")
    await col.update_one({"_id": post_id}, update)
    old = await stored(env, post_id)
    assert "step" not in old and old["publish_container"] and old["state"] == "publishing"

    await env.services.store[migrations.MIGRATIONS].delete_many({"_id": "post_steps"})
    report = await migrations.migrate(env.services.store)
    assert report["post_steps"]["publish_jobs.step"] == 1
    migrated = await stored(env, post_id)
    assert migrated["step"] == "reconcile" and migrated["state"] == "publishing"
    assert migrated["platform_fields"]["publish_container"] == old["publish_container"]
    assert not any(name in migrated for name in names)
    assert await migrations.migrate(env.services.store) == {}

    assert await publish.advance(env.services, post_id, migrated["tick"]) == "published"
    done = await stored(env, post_id)
    log = await published_log(env)
    assert len(log) == 1 and done["media_id"] == log[0]["media_id"]
    assert len(await _requests(env, "POST", "/media_publish")) == 1


async def test_a_previous_release_post_waiting_in_processing_publishes_its_recorded_container(
    env: Env, instant: None,
) -> None:
    await sandbox_knobs(env, image_processing={"kind": "fixed", "low": 0.0})
    tenant, account_id = await connected(env)
    post_id = await post(env, tenant, account_id, BODIES["carousel"])
    doc = await _step_until(env, post_id, "processing")
    update, _ = _as_previous_release(doc, "processing")
    await env.services.store[post_store.COLLECTION].update_one({"_id": post_id}, update)
    await env.services.store[migrations.MIGRATIONS].delete_many({"_id": "post_steps"})
    await migrations.migrate(env.services.store)
    made = len(await _requests(env, "POST", "/media"))

    await env.run_worker()

    done = await stored(env, post_id)
    assert done["state"] == "published" and len(done["platform_fields"]["items"]) == 3
    assert len(await _requests(env, "POST", "/media")) == made + 1  # only the carousel container: children reused
    r = await env.http.get(f"/v1/posts/{post_id}", headers=env.auth(tenant))
    assert [c["role"] for c in r.json()["containers"]] == ["item", "item", "item", "carousel"]


async def test_validate_answers_the_route_codes(env: Env) -> None:
    _, account_id = await connected(env)
    account = await fresh_ref(env.services, account_id)
    publisher = publisher_of(env.services, "instagram")
    now = clock.now()
    ok = publisher.validate(account, BODIES["image"], now)
    assert ok["type"] == "image" and ok["media"][0]["url"] == BODIES["image"]["media"][0]["url"]
    with pytest.raises(PublishRejected) as bad:
        publisher.validate(account, {**BODIES["carousel"], "media": BODIES["carousel"]["media"][:1]}, now)
    assert bad.value.status == 400 and bad.value.code
    with pytest.raises(PublishRejected) as late:
        publisher.validate(account, {**BODIES["image"], "publish_at": (now - timedelta(hours=1)).isoformat()}, now)
    assert late.value.code == "publish_at_in_past"


async def test_an_error_the_core_stops_retrying_fails_with_instagrams_own_reason(env: Env, instant: None) -> None:
    """Let out of the step (container creation refused: no permission) → the core does not retry
    a permission error → the publisher's ``give_up`` names it, with Meta's code."""
    tenant, account_id = await connected(env)
    await add_fault(env, method="POST", path="*/media", count=1,
                    error={"code": 10, "message": "Application does not have permission for this action"})
    post_id = await post(env, tenant, account_id, BODIES["image"])

    await env.run_worker()

    out = await read_post(env, tenant, post_id)
    assert out["state"] == "failed" and out["error"]["code"] == "permission_missing", out["error"]
    assert out["error"]["caller_can_fix"] is True and out["error"]["platform_code"] == 10
    assert not await published_log(env)


async def test_a_spam_block_waits_then_fails_with_metas_code_and_subcode(env: Env, instant: None) -> None:
    fast(env, publish_blocked_max_deferrals=1, publish_blocked_defer_seconds=0.2)
    await sandbox_knobs(env, image_processing={"kind": "fixed", "low": 0.0})
    tenant, account_id = await connected(env)
    await add_fault(env, method="POST", path="*/media_publish", count=10,
                    error={"code": 4, "error_subcode": 2207051, "message": "spam"})
    post_id = await post(env, tenant, account_id, BODIES["image"])

    await env.run_worker()

    out = await read_post(env, tenant, post_id)
    assert out["state"] == "failed" and out["error"]["code"] == "blocked_by_instagram", out["error"]
    assert (out["error"]["platform_code"], out["error"]["platform_subcode"]) == (4, 2207051)
    assert len(await _requests(env, "POST", "/media_publish")) == 2  # one deferral, then the final refusal
    assert not await published_log(env)


async def test_only_the_publish_call_is_marked_in_flight(env: Env, instant: None) -> None:
    """The in-flight mark costs a write per step: Instagram asks for it only where a dead
    worker leaves the outcome in doubt (media_publish). While a container is being created the
    post is not marked; while media_publish is in flight it is."""
    import asyncio  # noqa: PLC0415

    await sandbox_knobs(env, image_processing={"kind": "fixed", "low": 0.0})
    tenant, account_id = await connected(env)
    post_id = await post(env, tenant, account_id, BODIES["image"])
    await _step_until(env, post_id, "creating")
    for path, step in (("*/media", "creating"), ("*/media_publish", "publishing")):
        if step == "publishing":
            await _step_until(env, post_id, "publishing")
        # the call is held at the platform's door (count 2: the rule stays listed with its hits)
        await add_fault(env, method="POST", path=path, delay_seconds=2.0, phase="before", count=2)
        run = PublishRun(env.services, await stored(env, post_id))
        account = await fresh_ref(env.services, account_id)
        assert account is not None
        task = asyncio.create_task(run.step(account))
        for _ in range(250):
            faults = (await env.sandbox.get("/_sandbox/faults")).json()["faults"]
            if faults and faults[0]["hits"]:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the step never reached the platform")
        held = await stored(env, post_id)
        assert held["step"] == step and held["step_in_flight"] is (step == "publishing"), held
        (await env.sandbox.delete("/_sandbox/faults")).raise_for_status()
        await task
    assert len(await published_log(env)) == 1
