"""arq WorkerSettings, built from socialsync Settings (no module-level globals)."""

from __future__ import annotations

from typing import Any

from arq import cron, func

from socialsync import queue
from socialsync.config import Settings
from socialsync.context import open_services, redis_settings
from worker.jobs import tokens


def worker_settings(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for arq.Worker."""

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["services_cm"] = open_services(settings)
        ctx["services"] = await ctx["services_cm"].__aenter__()

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        if "services_cm" in ctx:
            await ctx["services_cm"].__aexit__(None, None, None)

    every = max(1, settings.token_refresh_cron_minutes)
    return {
        "functions": [
            func(tokens.refresh_account, name=queue.TOKENS_REFRESH_ACCOUNT, max_tries=tokens.MAX_TRIES + 1),
        ],
        "cron_jobs": [
            cron(
                tokens.refresh_due, name=queue.TOKENS_REFRESH_DUE,
                minute=set(range(0, 60, every)) if every < 60 else {7},
                unique=True, run_at_startup=False,
            ),
        ],
        "redis_settings": redis_settings(settings),
        "queue_name": settings.queue_name,
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "max_jobs": settings.worker_max_jobs,
        "job_timeout": 300,
        "keep_result": 3600,
        "handle_signals": True,
    }

