"""The overview's figures as a snapshot in Redis, refreshed in the background.

Computing them is a handful of aggregations over every account, post and recent run: cheap on
MongoDB, but seconds on a slow server or a big database. The page must answer at once, so it
shows the last snapshot (with its age) and, when that is older than `FRESH_SECONDS`, starts one
refresh in the background; one web replica at a time refreshes (a Redis lock). The very first
view, with no snapshot yet, computes it in the request. "Refresh now" recomputes on demand.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from aiohttp import web

from socialsync.context import Services
from socialsync.logs import get_logger
from socialsync.store import ops as ops_store
from socialsync.store.ops import Overview
from socialsync import clock

log = get_logger(__name__)
KEY = "ops:overview"
LOCK = "ops:overview:refreshing"
FRESH_SECONDS = 30
KEEP_SECONDS = 3600
LOCK_SECONDS = 120
TASKS = web.AppKey("ops_snapshot_tasks", set)


async def compute(services: Services) -> Overview:
    stuck_after = timedelta(seconds=services.settings.publish_stuck_after_seconds)
    overview = await ops_store.overview(services.store, now=clock.now(), stuck_after=stuck_after)
    await services.redis.set(KEY, ops_store.overview_to_json(overview), ex=KEEP_SECONDS)
    return overview


async def _refresh(services: Services) -> None:
    try:
        await compute(services)
    except Exception as exc:  # noqa: BLE001 - the next view tries again
        log.warning("ops overview refresh failed", error=type(exc).__name__)
    finally:
        await services.redis.delete(LOCK)


async def current(app: web.Application, services: Services) -> Overview:
    """The latest snapshot (refreshing it in the background when stale), or a fresh one."""
    raw = await services.redis.get(KEY)
    if raw is None:
        return await compute(services)
    overview = ops_store.overview_from_json(raw)
    age = (clock.now() - overview.generated_at).total_seconds()
    if age > FRESH_SECONDS and await services.redis.set(LOCK, str(time.time()), nx=True, ex=LOCK_SECONDS):
        task = asyncio.create_task(_refresh(services))
        app[TASKS].add(task)
        task.add_done_callback(app[TASKS].discard)
    return overview


async def cancel_refreshes(app: web.Application) -> None:
    for task in list(app[TASKS]):
        task.cancel()
    await asyncio.gather(*app[TASKS], return_exceptions=True)
