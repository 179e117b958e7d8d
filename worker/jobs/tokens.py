"""tokens.refresh_due (cron) and tokens.refresh_account, for every platform: thin; the work is
socialsync/tokens.py. ``platform.tokens_refresh`` (the interface platforms' job name of the
previous release) is an alias of tokens.refresh_account, so such a job still queued runs."""

from __future__ import annotations

from typing import Any

from arq import cron, func
from arq.cron import CronJob
from arq.worker import Function

from socialsync import queue
from socialsync.config import Settings
from socialsync.context import Services
from socialsync.logs import get_logger
from socialsync.platforms.base import PlatformError, RateLimited, TransportError
from socialsync.retry import retry_for
from socialsync.store import accounts as account_store
from socialsync.tokens import LockBusy, refresh_account as refresh

log = get_logger(__name__)
MAX_TRIES = 6
OLD_REFRESH_NAME = "platform.tokens_refresh"  # previous release's name (TikTok/YouTube)


async def refresh_due(ctx: dict[str, Any]) -> int:
    """Find accounts whose token needs work and enqueue one job each (deterministic ids)."""
    services: Services = ctx["services"]
    now = services.clock.now()
    ids = await account_store.due_for_token_work(services.store, now=now)
    for account_id in ids:
        await queue.enqueue(
            services.redis, queue.TOKENS_REFRESH_ACCOUNT, account_id,
            job_id=queue.token_refresh_job_id(account_id, now),
        )
    log.info("token refresh scheduled", accounts=len(ids))
    return len(ids)


async def refresh_account(ctx: dict[str, Any], account_id: str) -> str:
    services: Services = ctx["services"]
    try:
        outcome = await refresh(services, account_id, wait_seconds=0)
    except LockBusy:
        log.info("token work skipped: another refresh of the account is in flight", account_id=account_id)
        return "busy"  # that refresh stores the pair and the next check time
    except (PlatformError, TransportError, RateLimited) as exc:
        attempt = int(ctx.get("job_try", 1))
        detail = exc.describe() if isinstance(exc, PlatformError) else {"kind": type(exc).__name__, "message": str(exc)}
        retry = retry_for(exc, attempt, base=services.settings.retry_backoff_base_seconds, max_tries=MAX_TRIES)
        if retry is None:
            log.error("token refresh gave up", account_id=account_id, attempt=attempt, **detail)
            return "failed"
        log.warning("token refresh failed, will retry", account_id=account_id, attempt=attempt, **detail)
        raise retry from None
    log.info("token work done", account_id=account_id, outcome=outcome.value)
    return outcome.value


def functions(_settings: Settings) -> list[Function]:
    return [func(refresh_account, name=queue.TOKENS_REFRESH_ACCOUNT, max_tries=MAX_TRIES + 1),
            func(refresh_account, name=OLD_REFRESH_NAME, max_tries=MAX_TRIES + 1)]


def cron_jobs(settings: Settings) -> list[CronJob]:
    every = max(1, settings.token_refresh_cron_minutes)
    minutes = set(range(0, 60, every)) if every < 60 else {7}
    return [cron(refresh_due, name=queue.TOKENS_REFRESH_DUE, minute=minutes, unique=True)]
