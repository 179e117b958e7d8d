"""Job names and deterministic job ids: enqueueing the same work twice is harmless.

arq refuses a second job with an id that is queued, running, or whose result is still kept, so
an id derived from the subject (plus a time bucket for recurring work) de-duplicates.
"""

from __future__ import annotations

from datetime import datetime

from arq.connections import ArqRedis
from arq.jobs import Job

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
    """One job per step of a post's state machine; ``tick`` only grows (see instagram/publish.py)."""
    return f"publish:{post_id}:{tick}"


def publish_follow_up_job_id(post_id: str) -> str:
    return f"publish:{post_id}:follow_up"


# --- Instagram sync (issue 3) -------------------------------------------------------------------
SYNC_RUN = "sync.run"
SYNC_SCHEDULE = "sync.schedule"


def sync_job_id(account_id: str, run_id: str) -> str:
    """One job per sync run: a second request joins the run, so it enqueues the same id."""
    return f"sync:{account_id}:{run_id}"


async def enqueue(
    redis: ArqRedis, name: str, *args: object, job_id: str, defer_seconds: float | None = None,
    queue_name: str | None = None,
) -> Job | None:
    """Enqueue once; None means the same job already exists (that is fine)."""
    return await redis.enqueue_job(
        name, *args, _job_id=job_id, _defer_by=defer_seconds, _queue_name=queue_name
    )
