"""Job names and deterministic job ids: enqueueing the same work twice is harmless.

arq refuses a second job with an id that is queued, running, or whose result is still kept, so
an id derived from the subject (plus a time bucket for recurring work) de-duplicates.
"""

from __future__ import annotations

from datetime import datetime

from arq.connections import ArqRedis
from arq.jobs import Job, JobStatus

TOKENS_REFRESH_DUE = "tokens.refresh_due"
TOKENS_REFRESH_ACCOUNT = "tokens.refresh_account"
EVENTS_DELIVER = "events.deliver"


def token_refresh_job_id(account_id: str, at: datetime) -> str:
    return f"tokens:refresh:{account_id}:{at:%Y%m%d%H}"


def event_delivery_job_id(event_id: str) -> str:
    return f"event:{event_id}"


# --- Meta webhooks, comments, CRM events, privacy (issue 4) ---------------------------------------
WEBHOOKS_PROCESS_EVENT = "webhooks.process_event"
WEBHOOKS_DRAIN = "webhooks.drain"
WEBHOOK_DRAIN_BUCKET_SECONDS = 0.1
WEBHOOKS_SWEEP = "webhooks.sweep"
WEBHOOKS_SUBSCRIBE = "webhooks.subscribe"
WEBHOOKS_UNSUBSCRIBE = "webhooks.unsubscribe"
# a platform's push feed (YouTube's WebSub) and its token revoke on disconnect
PUSH_SUBSCRIBE = "platform.push_subscribe"
PLATFORM_REVOKE = "platform.revoke"
COMMENTS_RESOLVE_MENTION = "comments.resolve_mention"
COMMENTS_PERFORM_ACTION = "comments.perform_action"
COMMENTS_BACKFILL_DUE = "comments.backfill_due"
COMMENTS_BACKFILL_ACCOUNT = "comments.backfill_account"
PRIVACY_ERASE_USER = "privacy.erase_user"


def webhook_event_job_id(event_id: str, sweep: int = 0) -> str:
    """The receiver enqueues sweep 0; each sweeper pass over a stuck event uses the next number."""
    return f"webhook:{event_id}:{sweep}"


def webhook_drain_job(now: float) -> tuple[str, float]:
    """(job id, defer seconds) of the drain job covering an event stored before ``now``.

    One id per short time bucket, so a burst of deliveries queues at most ~10 drains a second.
    The job is deferred to the end of its bucket: when it starts, every event whose enqueue was
    refused because that id already existed has been stored, so its first page read sees them."""
    bucket = int(now / WEBHOOK_DRAIN_BUCKET_SECONDS)
    defer = max(0.0, (bucket + 1) * WEBHOOK_DRAIN_BUCKET_SECONDS - now)
    return f"webhooks:drain:{bucket}", defer


def webhook_drain_follow_up_job_id(page: str) -> str:
    """A drain that stopped with events left (time budget) hands over to this one."""
    return f"webhooks:drain:after:{page}"


def webhook_sweep_drain_job_id(at: datetime) -> str:
    return f"webhooks:drain:sweep:{at:%Y%m%d%H%M%S%f}"


def subscription_job_id(account_id: str, verb: str, at: datetime) -> str:
    return f"webhooks:{verb}:{account_id}:{at:%Y%m%d%H%M%S}"


def push_job_id(account_id: str, at: datetime) -> str:
    return f"ppush:{account_id}:{at:%Y%m%d%H%M%S%f}"


def mention_job_id(account_id: str, media_id: str, comment_id: str | None) -> str:
    return f"mention:{account_id}:{media_id}:{comment_id or '-'}"


def comment_action_job_id(action_id: str) -> str:
    return f"action:{action_id}"


def comment_backfill_job_id(account_id: str, at: datetime) -> str:
    return f"comments:backfill:{account_id}:{at:%Y%m%d%H}"


def erase_user_job_id(code: str) -> str:
    return f"privacy:erase:{code}"


# --- publishing (issue 5) ---------------------------------------------------------------------
PUBLISH_ADVANCE = "publish.advance"
PUBLISH_SWEEP = "publish.sweep"
PUBLISH_FOLLOW_UP = "publish.follow_up"


def publish_job_id(post_id: str, tick: int) -> str:
    """One job per step of a post's state machine; ``tick`` only grows (see socialsync/publishing/machine.py)."""
    return f"publish:{post_id}:{tick}"


def publish_follow_up_job_id(post_id: str) -> str:
    return f"publish:{post_id}:follow_up"


# --- Instagram sync (issue 3) -------------------------------------------------------------------
SYNC_RUN = "sync.run"
SYNC_SCHEDULE = "sync.schedule"


def sync_job_id(account_id: str, run_id: str) -> str:
    """One job per sync run: a second request joins the run, so it enqueues the same id."""
    return f"sync:{account_id}:{run_id}"


# --- queues: one per workload (issue 8 §3) -------------------------------------------------
# A webhook drain must not wait behind a sync backlog, and a publishing step not behind either.
# Each workload has its own arq queue (a sorted set) and its own arq Worker in the worker
# process (worker/main.py): its read limit, timeouts and concurrency are its own, and a dead
# worker's job ids in one queue cannot fill the head of another. Names derive from
# ``Settings.queue_name`` (the base): ``{base}:webhooks``, ``{base}:sync``, ``{base}:publish``, and
# the base itself for ``default`` (every other job, and any job enqueued without a queue: the
# default queue's Worker knows every function).
WEBHOOKS, SYNC, PUBLISH, DEFAULT = "webhooks", "sync", "publish", "default"
WORKLOADS = (WEBHOOKS, SYNC, PUBLISH, DEFAULT)
WORKLOAD_OF: dict[str, str] = {
    WEBHOOKS_DRAIN: WEBHOOKS, WEBHOOKS_PROCESS_EVENT: WEBHOOKS, WEBHOOKS_SWEEP: WEBHOOKS,
    SYNC_RUN: SYNC, SYNC_SCHEDULE: SYNC,
    PUBLISH_ADVANCE: PUBLISH, PUBLISH_FOLLOW_UP: PUBLISH, PUBLISH_SWEEP: PUBLISH,
}


def workload_of(name: str) -> str:
    """The workload (queue) a job name belongs to; unknown names are ``default``."""
    return WORKLOAD_OF.get(name, DEFAULT)


def queue_name_for(base: str, workload: str) -> str:
    if workload not in WORKLOADS:
        raise ValueError(f"unknown workload {workload!r}: one of {', '.join(WORKLOADS)}")
    return base if workload == DEFAULT else f"{base}:{workload}"


def all_queue_names(base: str) -> dict[str, str]:
    """workload → arq queue name, for every workload (e.g. to show queue depths)."""
    return {w: queue_name_for(base, w) for w in WORKLOADS}


def queue_of(redis: ArqRedis, name: str) -> str:
    """The queue a job of ``name`` goes to, for a pool made by ``socialsync.context`` (whose
    default queue is the base name)."""
    return queue_name_for(redis.default_queue_name, workload_of(name))


async def enqueue(
    redis: ArqRedis, name: str, *args: object, job_id: str, defer_seconds: float | None = None,
    queue_name: str | None = None, expires_seconds: float | None = None,
) -> Job | None:
    """Enqueue once, on the job's workload queue; None means the same job already exists (that is
    fine). ``expires_seconds``: arq drops the job if it has not started by then (late work that
    is worthless; the project's sweeps cover what must still happen)."""
    return await redis.enqueue_job(
        name, *args, _job_id=job_id, _defer_by=defer_seconds,
        _queue_name=queue_name or queue_of(redis, name), _expires=expires_seconds,
    )


async def enqueue_at(
    redis: ArqRedis, name: str, *args: object, job_id: str, when: datetime,
) -> Job | None:
    """Enqueue once with an explicit due time (a past one keeps a job's place in its queue:
    arq orders due jobs by score, and the score is when the job became due)."""
    return await redis.enqueue_job(
        name, *args, _job_id=job_id, _defer_until=when, _queue_name=queue_of(redis, name)
    )


def job(redis: ArqRedis, name: str, job_id: str) -> Job:
    """arq's public handle on a job of ``name`` (status, abort), on its workload queue."""
    return Job(job_id, redis, _queue_name=queue_of(redis, name))


async def withdraw(redis: ArqRedis, name: str, job_id: str) -> bool:
    """Withdraw a job that must not run (arq's ``Job.abort()``; every Worker allows aborts): a
    deferred one is made due and dropped as aborted by the next poll of its queue, a running one
    is cancelled by its worker. Does not wait for the outcome. False when there was nothing to
    withdraw (finished, or unknown)."""
    handle = job(redis, name, job_id)
    if await handle.status() not in (JobStatus.deferred, JobStatus.queued, JobStatus.in_progress):
        return False
    try:
        await handle.abort(timeout=0, poll_delay=0)
    except TimeoutError:
        pass  # the abort is recorded; its outcome is not awaited
    return True
