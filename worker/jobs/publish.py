"""publish.advance (one step of a post), publish.follow_up, and the publish.sweep cron.

The state machine is socialsync.publishing.machine; a post's steps are Instagram's
(socialsync.platforms.instagram.publish) or, for a platform plugin (TikTok…), its
``publish.advance`` (socialsync.publishing.plugin_run). These are the job entry points.
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
from socialsync.context import Services
from socialsync.platforms.instagram import publish
from socialsync.plugins import is_interface_platform
from socialsync.publishing import completion, machine
from socialsync.publishing.plugin_run import PluginPostRun
from socialsync.store import posts


def run_for(services: Services, post: dict[str, Any]) -> machine.PostRun:
    if is_interface_platform(post.get("platform")):
        return PluginPostRun(services, post)
    return publish.InstagramPostRun(services, post)


async def advance(ctx: dict[str, Any], post_id: str, tick: int) -> str:
    return await machine.advance(ctx["services"], post_id, tick, run_for)


async def follow_up(ctx: dict[str, Any], post_id: str) -> str:
    services = ctx["services"]
    post = await posts.get(services.store, post_id)
    if post is not None and is_interface_platform(post.get("platform")):
        return await completion.follow_up(services, post_id, PluginPostRun(services, post).read_permalink)
    return await publish.follow_up(services, post_id)


async def sweep(ctx: dict[str, Any]) -> int:
    return await publish.sweep(ctx["services"])


def functions(settings: Settings) -> list[Function]:
    # A step is idempotent and fenced by its tick, so arq may re-run it after a crash. Short
    # timeouts: the publish queue's Worker blocks a dead worker's job id for the longest of them
    # + 10 s (the sweep rescues the post under a new tick without waiting for that).
    timeout = publish.job_timeout_seconds(settings)
    return [
        func(advance, name=queue.PUBLISH_ADVANCE, max_tries=20, timeout=timeout),
        func(follow_up, name=queue.PUBLISH_FOLLOW_UP, max_tries=5, timeout=timeout, keep_result=0),
    ]


def cron_jobs(settings: Settings) -> list[CronJob]:
    # Not run_at_startup: right after a kill the dead worker's posts are not silent long enough to
    # be rescued yet (the next run, ≤ PUBLISH_SWEEP_EVERY_SECONDS later, does it), and a start-up
    # run would leave a sweep in every burst worker's queue.
    every = max(1, settings.publish_sweep_every_seconds)
    timeout = publish.job_timeout_seconds(settings)
    if every < 60:
        return [cron(sweep, name=queue.PUBLISH_SWEEP, second=set(range(0, 60, every)), unique=True,
                     run_at_startup=False, timeout=timeout)]
    minutes = max(1, every // 60)
    return [cron(sweep, name=queue.PUBLISH_SWEEP, minute=set(range(0, 60, minutes)), second=13, unique=True,
                 timeout=timeout)]
