"""A running job's queue entry is parked out of the due head, and put back when it ends."""

from __future__ import annotations

import time

from arq.constants import in_progress_key_prefix

from socialsync import queue
from tests.conftest import Env
from worker.queue_hygiene import park_running_job, unpark_finished_job


async def _score(env: Env, job_id: str) -> float | None:
    return await env.redis.zscore(env.settings.queue_name, job_id)


async def test_a_running_job_is_parked_where_a_dead_worker_would_not_clog_the_queue(env: Env) -> None:
    job_id = queue.publish_job_id("post_x", 3)
    await env.services.redis.enqueue_job(queue.PUBLISH_ADVANCE, "post_x", 3, _job_id=job_id)
    original = await _score(env, job_id)
    await env.redis.set(in_progress_key_prefix + job_id, b"1", px=70_000)  # what arq sets on start
    ctx = {"services": env.services, "job_id": job_id, "score": original}

    await park_running_job(ctx)
    parked = await _score(env, job_id)
    now_ms = time.time() * 1000
    assert parked is not None and parked > now_ms + 60_000  # not among the due ids arq reads
    assert parked <= now_ms + 70_000 + 1000  # due again when arq would re-run a dead job anyway

    await unpark_finished_job(ctx)
    assert await _score(env, job_id) == original  # arq's own bookkeeping sees the usual score


async def test_parking_never_resurrects_a_job_that_is_gone(env: Env) -> None:
    ctx = {"services": env.services, "job_id": "gone", "score": 1.0}
    await env.redis.set(in_progress_key_prefix + "gone", b"1", px=70_000)
    await park_running_job(ctx)
    await unpark_finished_job(ctx)
    assert await _score(env, "gone") is None  # zadd xx: only entries that exist are moved
