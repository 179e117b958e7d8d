"""Recovery after a worker death does not wait for arq: the sweep moves a post whose job died
with its worker to a new tick at once, and takes the dead jobs off the head of the queue.

A SIGKILLed worker leaves (a) the post in a non-final state, silent, and (b) its job id in the
queue with arq's in-progress key, which makes every worker skip it until the key expires (job
timeout + 10 s). These tests build exactly that leftover state, without timing assertions: a
burst worker only returns once the queue is empty, so a dead job left in the queue would keep
it polling (the guard below turns that into a failure instead of a hang)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from arq.constants import in_progress_key_prefix

from socialsync import queue
from socialsync.platforms.instagram import publish
from tests.conftest import Env
from tests.publish_helpers import BODIES, connected, fast, post, published_log, sandbox_knobs, stored

LONG_AGO = timedelta(minutes=10)
HANG_GUARD_SECONDS = 90  # not a timing assertion: a worker that never drains its queue is a failure


async def _drain(env: Env) -> None:
    try:
        await asyncio.wait_for(env.run_worker(), HANG_GUARD_SECONDS)
    except TimeoutError:
        raise AssertionError("the worker never emptied its queue (a dead job is still in it)") from None


async def _leave_as_a_dead_worker_would(env: Env, post_id: str, *, parked: bool = False, **fields: object) -> str:
    """The post silent since long ago, its current job taken by a worker that then died: killed
    before the job parked its queue entry (it sits at the head), or after (``parked``)."""
    ago = datetime.now(UTC) - LONG_AGO
    await env.services.store["publish_jobs"].update_one(
        {"_id": post_id}, {"$set": {"next_check_at": ago, "updated_at": ago, **fields}}
    )
    doc = await stored(env, post_id)
    job_id = queue.publish_job_id(post_id, doc["tick"])
    await env.redis.delete("arq:job:" + job_id, "arq:result:" + job_id)
    await env.redis.zrem(env.settings.queue_name, job_id)
    await env.services.redis.enqueue_job(queue.PUBLISH_ADVANCE, post_id, doc["tick"], _job_id=job_id,
                                         _defer_until=ago)
    await env.redis.set(in_progress_key_prefix + job_id, b"1", ex=600)  # held by the dead worker
    if parked:
        until = (datetime.now(UTC) + timedelta(seconds=600)).timestamp() * 1000
        await env.redis.zadd(env.settings.queue_name, {job_id: until}, xx=True)
    return job_id


async def _queued(env: Env, job_id: str) -> bool:
    return await env.redis.zscore(env.settings.queue_name, job_id) is not None


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
    assert not await _queued(env, dead_job)  # not left blocking the head of the queue
    await _drain(env)

    done = await stored(env, post_id)
    assert done["state"] == "published"
    log = await published_log(env)
    assert [entry["container_id"] for entry in log] == [done["publish_container"]]
    assert len(done.get("items") or {}) == 1  # the recorded container was reused, not re-created


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
    dead_job = await _leave_as_a_dead_worker_would(env, post_id, parked=True)

    assert await publish.sweep(env.services) == 1
    assert not await _queued(env, dead_job)  # it would come back due, as a no-op, only in 10 minutes
    await _drain(env)

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
    await _drain(env)
    assert (await stored(env, post_id))["state"] == "published"
    assert len(await published_log(env)) == 1


async def test_sweep_takes_dead_jobs_that_can_do_nothing_off_the_head_of_the_queue(env: Env) -> None:
    """Killed after the post's last step (e.g. while reading the permalink), or holding a stale tick:
    those ids would sit at the queue head, skipped, until arq's in-progress key expires."""
    fast(env)
    tenant, account_id = await connected(env)
    post_id = await post(env, tenant, account_id, BODIES["image"])
    await env.run_worker()
    doc = await stored(env, post_id)
    assert doc["state"] == "published"
    ago = datetime.now(UTC) - LONG_AGO
    redis = env.services.redis
    dead = [queue.publish_job_id(post_id, doc["tick"] - 1), queue.publish_job_id(post_id, doc["tick"])]
    not_started = queue.publish_job_id(post_id, doc["tick"] + 5)
    other = "someone-else:job"
    for job_id in [*dead, not_started, other]:
        await env.redis.delete("arq:job:" + job_id, "arq:result:" + job_id)
        await redis.enqueue_job(queue.PUBLISH_FOLLOW_UP, post_id, _job_id=job_id, _defer_until=ago)
    for job_id in [*dead, other]:
        await env.redis.set(in_progress_key_prefix + job_id, b"1", ex=600)

    await publish.sweep(env.services)

    assert [await _queued(env, job_id) for job_id in dead] == [False, False]
    assert await _queued(env, not_started)  # it will run (a stale no-op): not ours to drop
    assert await _queued(env, other)  # other modules' jobs are not the publish sweep's business


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
    await env.services.redis.enqueue_job(queue.PUBLISH_FOLLOW_UP, post_id, _job_id=dead, _defer_until=ago)
    await env.redis.set(in_progress_key_prefix + dead, b"1", ex=600)

    await publish.sweep(env.services)

    assert not await _queued(env, dead)
    assert await _queued(env, publish.follow_up_job_id(post_id, 2))
    await _drain(env)
    done = await stored(env, post_id)
    assert "event_pending" not in done
    assert await env.services.store["crm_events"].count_documents(
        {"type": "post.published", "data.post_id": post_id}
    ) == 1
