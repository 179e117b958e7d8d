"""The publish sweep: rescue the posts whose job went missing or died with its worker."""

from __future__ import annotations

from datetime import timedelta

from arq.jobs import JobStatus

from socialsync import queue
from socialsync.context import Services
from socialsync.logs import get_logger
from socialsync.publishing.machine import _now, enqueue_step
from socialsync.store import posts

log = get_logger(__name__)


async def sweep(services: Services) -> int:
    """Rescue the posts whose job went missing or died with its worker; returns how many.

    A post is a candidate when it has been silent (``next_check_at``, refreshed by every write of
    a live step) for PUBLISH_STUCK_AFTER_SECONDS. Its current job (arq's public ``Job.status()``)
    is then
    - queued (due, not started): a backlog, not a loss - left alone (it keeps its place);
    - anything else - in progress (a worker took it and may be dead), deferred although the post
      is overdue, complete, or not found (Redis flushed, a crash between a write and its
      enqueue): the post moves to a *new* tick whose job is enqueued at once, in the place the
      post had in the queue. The old job, if it ever runs (arq re-runs a dead worker's job once
      its in-progress key expires), is a stale tick and changes nothing.
    Recovery therefore never waits for arq's in-progress expiry, and never touches arq's keys: a
    dead worker's ids stay in the queue until arq releases them, and the workers read far enough
    past them (worker/settings.py ``queue_read_limit``) that they do not hide the due work."""
    settings = services.settings
    now = _now()
    before = now - timedelta(seconds=settings.publish_stuck_after_seconds)
    candidates = await posts.overdue(services.store, before=before)
    count = 0
    for stale in candidates:
        old_job = queue.publish_job_id(stale["_id"], stale["tick"])
        status = await queue.job(services.redis, queue.PUBLISH_ADVANCE, old_job).status()
        if status is JobStatus.queued:
            continue
        doc = await posts.compare_and_set(
            services.store, stale["_id"], tick=stale["tick"], states=posts.ACTIVE_STATES,
            set_fields={"next_check_at": now}, inc={"tick": 1},
            attempt={"at": now, "step": "sweep", "outcome": "re-enqueued", "detail": f"job {status.value}"},
        )
        if doc is None:
            continue  # it moved meanwhile: alive after all
        await enqueue_step(services, doc["_id"], doc["tick"], queued_since=stale.get("next_check_at"))
        count += 1
    for post_id, number in await posts.claim_overdue_events(services.store, before=before, now=now):
        await queue.enqueue(services.redis, queue.PUBLISH_FOLLOW_UP, post_id,
                            job_id=follow_up_job_id(post_id, number))
    if count:
        log.info("publish sweep", re_enqueued=count)
    return count


def follow_up_job_id(post_id: str, number: int) -> str:
    """Each sweep pass over a post whose event is overdue uses a new id: the previous follow-up
    may be held by a dead worker, and arq refuses an id it still knows."""
    return f"{queue.publish_follow_up_job_id(post_id)}:{number}"

