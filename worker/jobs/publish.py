"""publish.advance (one step of a post), publish.follow_up, and the publish.sweep cron.

The state machine is socialsync.platforms.instagram.publish; these are its job entry points.
Waiting is never a sleep or an arq ``Retry`` here: a step that must wait bumps the post's tick and
enqueues ``publish:{post_id}:{tick}`` deferred, so arq's try counter never runs out on a long
processing or quota wait, and a job id names exactly one step.
"""

from __future__ import annotations

from typing import Any

from arq import cron, func
from arq.cron import CronJob
from arq.worker import Function

from socialsync import queue
from socialsync.config import Settings
from socialsync.context import Services
from socialsync.platforms.instagram import publish


async def advance(ctx: dict[str, Any], post_id: str, tick: int) -> str:
    services: Services = ctx["services"]
    return await publish.advance(services, post_id, tick)


async def follow_up(ctx: dict[str, Any], post_id: str) -> str:
    services: Services = ctx["services"]
    return await publish.follow_up(services, post_id)


async def sweep(ctx: dict[str, Any]) -> int:
    services: Services = ctx["services"]
    return await publish.sweep(services)


def functions(_settings: Settings) -> list[Function]:
    return [
        # A step is idempotent and fenced by its tick, so arq may re-run it after a crash.
        func(advance, name=queue.PUBLISH_ADVANCE, max_tries=20, timeout=120),
        func(follow_up, name=queue.PUBLISH_FOLLOW_UP, max_tries=5, timeout=60, keep_result=0),
    ]


def cron_jobs(settings: Settings) -> list[CronJob]:
    every = max(1, settings.publish_sweep_every_seconds)
    if every < 60:
        return [cron(sweep, name=queue.PUBLISH_SWEEP, second=set(range(0, 60, every)), unique=True,
                     run_at_startup=False)]
    minutes = max(1, every // 60)
    return [cron(sweep, name=queue.PUBLISH_SWEEP, minute=set(range(0, 60, minutes)), second=13, unique=True)]
