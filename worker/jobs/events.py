"""CRM event jobs: ``events.deliver`` (one push attempt; failures are retried with backoff for
24 h), ``events.sequence`` (number a tenant's new events in its ledger), and the ledger's crons:
``events.ledger_sequence`` (every minute: number events whose emitter died before queueing
their numbering) and ``events.ledger_prune`` (hourly: drop events past retention)."""

from __future__ import annotations

from typing import Any

from arq import Retry, cron, func
from arq.cron import CronJob
from arq.worker import Function

from socialsync import crm_events, queue
from socialsync.config import Settings
from socialsync.context import Services

# Backoff doubles up to an hour, so 24 h of retries is ~30 attempts; the deadline, not this
# number, ends them. A run that finds its event not yet due (crm_events.delivery: retries are due
# by the service's clock, which a test moves by hand) defers again and counts a try too.
MAX_TRIES = 10_000


async def deliver(ctx: dict[str, Any], event_id: str) -> str:
    services: Services = ctx["services"]
    outcome = await crm_events.deliver(services, event_id)
    if outcome.status == "retry":
        raise Retry(defer=outcome.retry_in or 0)
    return outcome.status


async def sequence(ctx: dict[str, Any], tenant_id: str) -> int:
    """Number the tenant's recorded events (ledger order); the lock busy → try again shortly."""
    numbered = await crm_events.ledger.sequence(ctx["services"], tenant_id, wait_seconds=2.0)
    if numbered is None:
        raise Retry(defer=0.5)
    return numbered


async def ledger_sequence(ctx: dict[str, Any]) -> int:
    """Number the events whose emitter died between recording and numbering them."""
    return await crm_events.ledger.sequence_pending(ctx["services"])


async def ledger_prune(ctx: dict[str, Any]) -> int:
    services: Services = ctx["services"]
    return await crm_events.ledger.prune(services.store, services.settings.crm_event_retention_days)


def functions(_settings: Settings) -> list[Function]:
    return [
        func(deliver, name=queue.EVENTS_DELIVER, max_tries=MAX_TRIES),
        # No timeout of its own: arq blocks a dead worker's jobs for the LONGEST function timeout
        # + 10 s, for every job. A numbering blocked by an abandoned transaction gives up after
        # ledger.TRANSACTION_SECONDS and is retried.
        func(sequence, name=crm_events.ledger.SEQUENCE_JOB, max_tries=MAX_TRIES),
    ]


def cron_jobs(_settings: Settings) -> list[CronJob]:
    return [
        cron(ledger_sequence, name="events.ledger_sequence", second=30),
        cron(ledger_prune, name="events.ledger_prune", minute=7, second=0),
    ]
