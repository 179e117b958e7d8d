"""`socialsync worker`: run the arq worker with cron."""

from __future__ import annotations

import asyncio

from arq.worker import Worker

from socialsync.config import Settings
from socialsync.logs import announce_mode
from worker.settings import worker_settings


def build_worker(settings: Settings, **overrides: object) -> Worker:
    return Worker(**{**worker_settings(settings), **overrides})  # type: ignore[arg-type]


def run(settings: Settings) -> None:
    announce_mode(settings)
    asyncio.run(_run(settings))


async def _run(settings: Settings) -> None:
    worker = build_worker(settings)
    try:
        await worker.async_run()
    except asyncio.CancelledError:
        pass  # arq cancels its main task on SIGTERM/SIGINT after finishing running jobs
    finally:
        await worker.close()
