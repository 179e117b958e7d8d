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


async def enqueue(
    redis: ArqRedis, name: str, *args: object, job_id: str, defer_seconds: float | None = None,
    queue_name: str | None = None,
) -> Job | None:
    """Enqueue once; None means the same job already exists (that is fine)."""
    return await redis.enqueue_job(
        name, *args, _job_id=job_id, _defer_by=defer_seconds, _queue_name=queue_name
    )
