"""publish.advance (one step of a post), publish.follow_up, and the publish.sweep cron.

The state machine is socialsync.publishing.machine; every platform's steps run through one run,
socialsync.publishing.plugin_run (the platform's ``publish.advance`` returns an outcome, the run
records it). These are the job entry points: no platform branch here.
Waiting is never a sleep or an arq ``Retry`` here: a step that must wait bumps the post's tick and
enqueues ``publish:{post_id}:{tick}`` deferred, so arq's try counter never runs out on a long
processing or quota wait, and a job id names exactly one step. All three run on the publish
queue (socialsync/queue.py), whose Worker holds only them.
"""

from __future__ import annotations

from typing import Any

from arq import cron, func
from arq.cron import CronJob
from arq.worker import Function

from socialsync import queue
from socialsync.config import Settings
from socialsync.publishing import jobs, machine


async def advance(ctx: dict[str, Any], post_id: str, tick: int) -> str:
    return await jobs.advance(ctx["services"], post_id, tick)


async def follow_up(ctx: dict[str, Any], post_id: str) -> str:
    return await jobs.follow_up(ctx["services"], post_id)


async def sweep(ctx: dict[str, Any]) -> int:
    return await jobs.sweep(ctx["services"])


def functions(settings: Settings) -> list[Function]:
    # A step is idempotent and fenced by its tick, so arq may re-run it after a crash. Short
    # timeouts: the publish queue's Worker blocks a dead worker's job id for the longest of them
    # + 10 s (the sweep rescues the post under a new tick without waiting for that).
    timeout = machine.job_timeout_seconds(settings)
    return [
        func(advance, name=queue.PUBLISH_ADVANCE, max_tries=20, timeout=timeout),
        func(follow_up, name=queue.PUBLISH_FOLLOW_UP, max_tries=5, timeout=timeout, keep_result=0),
    ]


def cron_jobs(settings: Settings) -> list[CronJob]:
    # Not run_at_startup: right after a kill the dead worker's posts are not silent long enough to
    # be rescued yet (the next run, ≤ PUBLISH_SWEEP_EVERY_SECONDS later, does it), and a start-up
    # run would leave a sweep in every burst worker's queue.
    every = max(1, settings.publish_sweep_every_seconds)
    timeout = machine.job_timeout_seconds(settings)
    if every < 60:
        return [cron(sweep, name=queue.PUBLISH_SWEEP, second=set(range(0, 60, every)), unique=True,
                     run_at_startup=False, timeout=timeout)]
    minutes = max(1, every // 60)
    return [cron(sweep, name=queue.PUBLISH_SWEEP, minute=set(range(0, 60, minutes)), second=13, unique=True,
                 timeout=timeout)]
