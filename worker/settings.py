"""arq Worker settings per queue, built from socialsync Settings (no module-level globals).

One arq Worker per workload queue (socialsync/queue.py): webhooks, sync, publish, default. A
workload's Worker registers that workload's functions and cron jobs; the default queue's Worker
registers every function, so a job enqueued without a queue (an old release, a test, a manual
``enqueue_job``) still runs. arq blocks a dead worker's job ids for the longest function timeout
of *its* Worker + 10 s, so short publishing timeouts shorten that on the publish queue.
"""

from __future__ import annotations

from typing import Any

from arq import func

from socialsync import queue
from socialsync.config import Settings
from socialsync.context import redis_settings
from worker.jobs import tokens
from worker.jobs import comments, events, privacy, webhooks
from worker.jobs import publish
from worker.jobs import sync as sync_jobs
from worker.jobs import platforms as platform_jobs
from worker.metrics import WorkerMetrics

# Every module holding jobs: each has functions(settings) and cron_jobs(settings). Add new ones here.
JOB_MODULES = (tokens, webhooks, comments, events, privacy, publish, sync_jobs, platform_jobs)

# arq reads at most this many due ids per poll (its default: max(5 × max_jobs, 100)) and skips
# those a worker holds - including the ids a SIGKILLed worker held, until their in-progress key
# expires. A few kills in a row leave max_jobs dead ids each at the head of the queue; reading far
# past them keeps the live due jobs (and the sweeps that rescue the dead ones' work) reachable.
# A poll then costs one Redis round trip per skipped id (~0.1 ms locally).
QUEUE_READ_LIMIT_PER_JOB_SLOT = 50
QUEUE_READ_LIMIT_MIN = 1000


def queue_read_limit(max_jobs: int) -> int:
    return max(QUEUE_READ_LIMIT_MIN, QUEUE_READ_LIMIT_PER_JOB_SLOT * max_jobs)


def worker_settings(settings: Settings, workload: str = queue.DEFAULT) -> dict[str, Any]:
    """Keyword arguments for the arq.Worker of one workload queue (its ``ctx`` is the caller's)."""
    metrics = WorkerMetrics.for_settings(settings)  # shared by the process's Workers
    functions = [f for m in JOB_MODULES for f in m.functions(settings)]
    all_crons = [c for m in JOB_MODULES for c in m.cron_jobs(settings)]
    crons = [c for c in all_crons if queue.workload_of(c.name) == workload]
    if workload == queue.DEFAULT:
        # the catch-all also runs another workload's cron function enqueued here by hand
        functions += [func(c.coroutine, name=c.name, timeout=c.timeout_s, max_tries=1)
                      for c in all_crons if c not in crons]
    else:
        functions = [f for f in functions if queue.workload_of(f.name) == workload]
    return {
        "functions": metrics.functions(functions),  # every job timed and counted (worker/metrics.py)
        "cron_jobs": metrics.cron_jobs(crons),
        "redis_settings": redis_settings(settings),
        "queue_name": queue.queue_name_for(settings.queue_name, workload),
        "max_jobs": settings.worker_max_jobs,
        "queue_read_limit": queue_read_limit(settings.worker_max_jobs),
        "job_timeout": settings.job_timeout_seconds,
        "keep_result": 3600,
        "allow_abort_jobs": True,  # Job.abort() withdraws a cancelled post's deferred step
        "handle_signals": True,
        "job_completion_wait": settings.worker_shutdown_grace_seconds,
    }
