"""Recovery after a worker death does not wait for arq: the sweep moves a post whose job died
with its worker to a new tick at once, and the dead job ids left in the queue do not hide the
due work from the live workers.

A SIGKILLed worker leaves (a) the post in a non-final state, silent, and (b) its job id in the
queue with arq's in-progress key, which makes every worker skip it until the key expires (the
publish queue's longest job timeout + 10 s). These tests build exactly that leftover state (the
in-progress key is what arq itself writes when a worker takes a job) and run the real worker
until the post is final, with a generous guard, not a timing assertion."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from arq.constants import in_progress_key_prefix

from socialsync import queue
from socialsync.publishing import jobs as publish
from tests.conftest import Env
from tests.publish_helpers import (
    BODIES, connected, fast, post, publish_queue, published_log, run_worker_until, sandbox_knobs, stored,
)

LONG_AGO = timedelta(minutes=10)
GUARD_SECONDS = 60  # not a timing assertion: only turns a post that never ends into a failure


async def _until_final(env: Env, post_id: str, **overrides: object) -> float:
    async def final() -> bool:
        return (await stored(env, post_id))["state"] in ("published", "failed", "cancelled")
    return await run_worker_until(env, final, within=GUARD_SECONDS, **overrides)


async def _hold_as_a_dead_worker(env: Env, job_id: str) -> None:
    """What arq writes when a worker takes a job; the worker then died, so nobody deletes it."""
    await env.redis.set(in_progress_key_prefix + job_id, b"1", ex=600)


async def _leave_as_a_dead_worker_would(env: Env, post_id: str, **fields: object) -> str:
    """The post silent since long ago, its current job taken by a worker that then died: the job
    sits at the head of the queue, held, and every worker skips it."""
    ago = datetime.now(UTC) - LONG_AGO
    await env.services.store["publish_jobs"].update_one(
        {"_id": post_id}, {"$set": {"next_check_at": ago, "updated_at": ago, **fields}}
    )
    doc = await stored(env, post_id)
    job_id = queue.publish_job_id(post_id, doc["tick"])
    await env.redis.delete("arq:job:" + job_id, "arq:result:" + job_id)
    await env.redis.zrem(publish_queue(env), job_id)
    await queue.enqueue_at(env.services.redis, queue.PUBLISH_ADVANCE, post_id, doc["tick"], job_id=job_id, when=ago)
    await _hold_as_a_dead_worker(env, job_id)
    return job_id


async def _queued(env: Env, job_id: str) -> bool:
    return await env.redis.zscore(publish_queue(env), job_id) is not None


async def test_post_whose_worker_died_mid_step_is_resumed_by_the_sweep_under_a_new_tick(env: Env) -> None:
    """Killed while the reel's container was processing: the job id stays blocked by arq."""
    fast(env)
    await sandbox_knobs(env, video_processing={"kind": "fixed", "low": 0.5})
    tenant, account_id = await connected(env)
    post_id = await post(env, tenant, account_id, BODIES["reel"])
    assert await publish.advance(env.services, post_id, 0) == "waiting"  # container created, processing
    dead_job = await _leave_as_a_dead_worker_would(env, post_id)
    before = await stored(env, post_id)
    assert before["state"] == "processing"

    assert await publish.sweep(env.services) == 1

    rescued = await stored(env, post_id)
    assert rescued["tick"] == before["tick"] + 1  # a new tick: the dead job is a stale no-op now
    assert rescued["attempts"][-1]["step"] == "sweep"
    assert await _queued(env, queue.publish_job_id(post_id, rescued["tick"]))
    assert await _queued(env, dead_job)  # arq's to release; the sweep does not touch arq's keys
    await _until_final(env, post_id)

    done = await stored(env, post_id)
    assert done["state"] == "published"
    log = await published_log(env)
    assert [entry["container_id"] for entry in log] == [done["platform_fields"]["publish_container"]]
    assert len(done["platform_fields"].get("items") or {}) == 1  # the recorded container was reused, not re-created


async def test_worker_killed_inside_media_publish_is_settled_once_after_the_sweep(env: Env) -> None:
    """Meta published, the worker died before recording it: the rescue reads the container back."""
    fast(env)
    tenant, account_id = await connected(env)
    post_id = await post(env, tenant, account_id, BODIES["carousel"])
    await env.run_worker()
    live = await stored(env, post_id)
    assert live["state"] == "published"
    await env.services.store["publish_jobs"].update_one(
        {"_id": post_id}, {"$set": {"state": "publishing", "media_id": None},
                           "$unset": {"published_at": "", "event_pending": ""}},
    )
    await _leave_as_a_dead_worker_would(env, post_id)

    assert await publish.sweep(env.services) == 1
    await _until_final(env, post_id)

    done = await stored(env, post_id)
    assert done["state"] == "published"
    assert done["media_id"] == live["media_id"]
    assert len(await published_log(env)) == 1


async def test_sweep_leaves_a_job_that_is_only_waiting_in_the_queue_alone(env: Env) -> None:
    """Overdue because workers are busy (a backlog) is not lost: no new tick, no churn."""
    fast(env)
    tenant, account_id = await connected(env)
    post_id = await post(env, tenant, account_id, BODIES["image"])
    ago = datetime.now(UTC) - LONG_AGO
    await env.services.store["publish_jobs"].update_one({"_id": post_id}, {"$set": {"next_check_at": ago}})
    assert await _queued(env, queue.publish_job_id(post_id, 0))

    assert await publish.sweep(env.services) == 0

    assert (await stored(env, post_id))["tick"] == 0
    await _until_final(env, post_id)
    assert (await stored(env, post_id))["state"] == "published"
    assert len(await published_log(env)) == 1


async def test_dead_job_ids_at_the_head_of_the_queue_do_not_hide_the_due_work(env: Env) -> None:
    """Several kills in a row leave max_jobs dead ids each at the head of the publish queue, held
    until arq's in-progress keys expire. arq reads a bounded number of due ids per poll: the
    worker must read past all of them (queue_read_limit), or nothing else runs - not even the
    sweep that would rescue their posts."""
    fast(env)
    tenant, account_id = await connected(env)
    ago = datetime.now(UTC) - LONG_AGO
    dead = [queue.publish_job_id(f"post_dead{n}", 1) for n in range(300)]  # 15 kills × 20 jobs
    for job_id in dead:
        await queue.enqueue_at(env.services.redis, queue.PUBLISH_ADVANCE, job_id.split(":")[1], 1,
                               job_id=job_id, when=ago)
        await _hold_as_a_dead_worker(env, job_id)
    post_id = await post(env, tenant, account_id, BODIES["image"])

    await _until_final(env, post_id, max_jobs=20)

    assert (await stored(env, post_id))["state"] == "published"
    assert len(await published_log(env)) == 1


async def test_a_cancelled_posts_deferred_step_is_withdrawn_from_the_queue(env: Env) -> None:
    """Job.abort(): the step of a post scheduled an hour ahead does not wait in the queue (and
    hold every burst worker) once the post is cancelled."""
    fast(env)
    tenant, account_id = await connected(env)
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    post_id = await post(env, tenant, account_id, {**BODIES["image"], "publish_at": later})
    job_id = queue.publish_job_id(post_id, 0)
    assert await env.redis.zscore(publish_queue(env), job_id) > time.time() * 1000 + 3_000_000

    r = await env.http.delete(f"/v1/posts/{post_id}", headers=env.auth(tenant))
    assert r.status_code == 200 and r.json()["state"] == "cancelled"

    score = await env.redis.zscore(publish_queue(env), job_id)
    assert score is not None and score <= time.time() * 1000  # due now, marked aborted
    await asyncio.wait_for(env.run_worker(), GUARD_SECONDS)  # burst: returns once the queue is empty
    assert not await _queued(env, job_id)
    assert (await stored(env, post_id))["state"] == "cancelled"
    assert await published_log(env) == []


async def test_outcome_event_a_dead_worker_left_is_sent_by_a_follow_up_with_a_new_id(env: Env) -> None:
    fast(env)
    tenant, account_id = await connected(env)
    post_id = await post(env, tenant, account_id, BODIES["image"])
    await env.run_worker()
    ago = datetime.now(UTC) - LONG_AGO
    # The final write happened, the event did not; a follow-up was tried and its worker died too.
    await env.services.store["publish_jobs"].update_one(
        {"_id": post_id},
        {"$set": {"event_pending": "post.published", "updated_at": ago, "follow_up_at": ago, "follow_ups": 1}},
    )
    await env.services.store["crm_events"].delete_many({"data.post_id": post_id})
    dead = publish.follow_up_job_id(post_id, 1)
    await queue.enqueue_at(env.services.redis, queue.PUBLISH_FOLLOW_UP, post_id, job_id=dead, when=ago)
    await _hold_as_a_dead_worker(env, dead)

    await publish.sweep(env.services)

    assert await _queued(env, publish.follow_up_job_id(post_id, 2))

    async def sent() -> bool:
        return "event_pending" not in await stored(env, post_id)
    await run_worker_until(env, sent, within=GUARD_SECONDS)
    assert await env.services.store["crm_events"].count_documents(
        {"type": "post.published", "data.post_id": post_id}
    ) == 1
