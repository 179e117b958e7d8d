"""events.deliver: one attempt to POST a CRM event; failures are retried with backoff for 24 h."""

from __future__ import annotations

from typing import Any

from arq import Retry, func
from arq.cron import CronJob
from arq.worker import Function

from socialsync import events, queue
from socialsync.config import Settings
from socialsync.context import Services

# Backoff doubles up to an hour, so 24 h of retries is ~30 attempts; the deadline, not this
# number, ends them.
MAX_TRIES = 200


async def deliver(ctx: dict[str, Any], event_id: str) -> str:
    services: Services = ctx["services"]
    outcome = await events.deliver(services, event_id)
    if outcome.status == "retry":
        raise Retry(defer=outcome.retry_in or 0)
    return outcome.status


def functions(_settings: Settings) -> list[Function]:
    return [func(deliver, name=queue.EVENTS_DELIVER, max_tries=MAX_TRIES)]


def cron_jobs(_settings: Settings) -> list[CronJob]:
    return []
