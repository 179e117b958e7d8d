"""The publishing entry points the worker's jobs call, the same for every platform: one step of a
post (``advance``), the follow-up of a final post whose event is pending, the sweep."""

from __future__ import annotations

from socialsync.context import Services
from socialsync.publishing import completion, machine
from socialsync.publishing.plugin_run import PublishRun
from socialsync.publishing.sweep import follow_up_job_id, sweep
from socialsync.store import posts


async def advance(services: Services, post_id: str, tick: int) -> str:
    """Run the next steps of one post (the job ``publish.advance``)."""
    return await machine.advance(services, post_id, tick, PublishRun)


async def follow_up(services: Services, post_id: str) -> str:
    """The permalink and the CRM event a final transition left pending (``publish.follow_up``)."""
    post = await posts.get(services.store, post_id)
    if post is None:
        return "nothing"
    return await completion.follow_up(services, post_id, PublishRun(services, post).read_permalink)


__all__ = ["advance", "follow_up", "follow_up_job_id", "sweep"]
