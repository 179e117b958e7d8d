"""Keep a dead worker's jobs from clogging the head of the shared arq queue.

arq leaves a started job in the queue, at its original score, until it finishes. If the worker
dies (SIGKILL, OOM, a lost machine), every worker skips that id until its in-progress key expires
(job timeout + 10 s), and a poll reads only the first max(5 × max_jobs, 100) due ids. A few
deaths in a row and those dead ids fill the head of the queue: nothing else runs, not even the
sweeps that would rescue the work.

So, while a job runs, its queue entry is *parked* at the moment its in-progress key expires: a
dead job's entry is out of the way and comes back due exactly when arq would re-run it anyway.
When the job ends, the entry goes back to its original score before arq finishes it, so arq's
own bookkeeping (delete on success, ``Retry(defer=…)`` arithmetic, re-run after a cancelled
job) is unchanged. Every job is idempotent (ARCHITECTURE.md §4.2), so the late re-run of a dead
job is harmless.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from arq.constants import in_progress_key_prefix

from socialsync.context import Services


async def park_running_job(ctx: dict[str, Any]) -> None:
    """arq ``on_job_start``: move the job's queue entry to its in-progress key's expiry."""
    services: Services = ctx["services"]
    job_id = ctx.get("job_id")
    if not job_id:
        return
    left_ms = await services.redis.pttl(in_progress_key_prefix + job_id)
    if left_ms and left_ms > 0:
        await services.redis.zadd(
            services.settings.queue_name, {job_id: time.time() * 1000 + left_ms}, xx=True
        )


async def unpark_finished_job(ctx: dict[str, Any]) -> None:
    """arq ``on_job_end`` (runs before arq finishes the job): the original score back."""
    services: Services = ctx["services"]
    job_id, score = ctx.get("job_id"), ctx.get("score")
    if job_id and score is not None:
        await asyncio.shield(
            services.redis.zadd(services.settings.queue_name, {job_id: score}, xx=True)
        )
