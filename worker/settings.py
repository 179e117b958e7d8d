"""arq WorkerSettings, built from socialsync Settings (no module-level globals)."""

from __future__ import annotations

from typing import Any

from socialsync.config import Settings
from socialsync.context import open_services, redis_settings
from worker import queue_hygiene
from worker.jobs import tokens
from worker.jobs import comments, events, privacy, webhooks
from worker.jobs import publish
from worker.jobs import sync as sync_jobs

# Every module holding jobs: each has functions(settings) and cron_jobs(settings). Add new ones here.
JOB_MODULES = (tokens, webhooks, comments, events, privacy, publish, sync_jobs,)


def worker_settings(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for arq.Worker."""

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["services_cm"] = open_services(settings)
        ctx["services"] = await ctx["services_cm"].__aenter__()

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        if "services_cm" in ctx:
            await ctx["services_cm"].__aexit__(None, None, None)

    return {
        "functions": [f for m in JOB_MODULES for f in m.functions(settings)],
        "cron_jobs": [c for m in JOB_MODULES for c in m.cron_jobs(settings)],
        "redis_settings": redis_settings(settings),
        "queue_name": settings.queue_name,
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "on_job_start": queue_hygiene.park_running_job,
        "on_job_end": queue_hygiene.unpark_finished_job,
        "max_jobs": settings.worker_max_jobs,
        "job_timeout": settings.job_timeout_seconds,
        "keep_result": 3600,
        "handle_signals": True,
        "job_completion_wait": settings.worker_shutdown_grace_seconds,
    }

