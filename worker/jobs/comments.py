"""comments.perform_action, comments.resolve_mention, comments.backfill_due (cron) and
comments.backfill_account.

``comments.perform_action`` is the one moderation job for every platform: it loads the action
and dispatches by the account's platform: its plugin's ``action_moderation`` part when it has
one (Instagram's, socialsync/platforms/instagram/moderation.py: at-most-once towards Meta as far
as we can tell), else the plugin's ``moderate`` part (socialsync/platform_comments.py);
then maps the failure to a retry, a deferral (rate limits: never a failure) or a final error.

The backfill and mention jobs are thin: the comments domain (socialsync/comments/backfill.py)
loads the account and stores what the platform's ``comment_reads`` part read; these jobs map the
platform's failures to retries.
"""

from __future__ import annotations

import hashlib
from typing import Any

from arq import Retry, cron, func
from arq.cron import CronJob
from arq.worker import Function

from socialsync import queue
from socialsync.config import Settings
from socialsync.comments import backfill as comment_reads
from socialsync.context import Services
from socialsync.logs import get_logger
from socialsync.platforms.base import AccountUnavailable, Capability, PlatformError, RateLimited, TransportError
from socialsync.retry import retry_for
from socialsync.store import accounts as account_store
from socialsync.store import actions as action_store
from socialsync.store.actions import ActionError
from worker.jobs import platform_errors
from socialsync import clock

log = get_logger(__name__)
MAX_TRIES = 6


# --- moderation --------------------------------------------------------------------------------
async def perform_action(ctx: dict[str, Any], action_id: str) -> str:
    """One moderation action (reply / hide / delete), for any platform: load it, let the
    platform's moderation do it once, map the failure to a retry or a final error."""
    services: Services = ctx["services"]
    action = await action_store.get(services.store, action_id)
    if action is None or action["status"] != "pending":
        return "done"
    account = await account_store.get(services.store, action["account_id"]) or {}
    own = getattr(services.platforms.for_account(account), "action_moderation", None)
    if own is None:
        return await _perform_on_plugin(ctx, action)
    try:
        result = await own.perform(services, account, action)
    except AccountUnavailable as exc:
        await action_store.finish(
            services.store, action_id, error=ActionError(code="account_unavailable", message=str(exc))
        )
        return "failed"
    except (PlatformError, RateLimited, TransportError) as exc:
        retry = await platform_errors.handle(services, ctx, exc, action["account_id"], max_tries=MAX_TRIES)
        if retry is not None:
            log.warning("comment action will retry", action_id=action_id, **platform_errors.describe(exc))
            raise retry from None
        await action_store.finish(services.store, action_id, error=own.action_error(exc))
        return "failed"
    await action_store.finish(services.store, action_id, result=result)
    return "succeeded"


async def _perform_on_plugin(ctx: dict[str, Any], action: dict[str, Any]) -> str:
    """A platform served through its plugin's ``moderate`` part (YouTube…)."""
    from socialsync import platform_comments  # noqa: PLC0415
    from socialsync import tokens as platform_tokens  # noqa: PLC0415 - the one token keeper
    from socialsync.platforms.base import ErrorKind as Kind  # noqa: PLC0415
    from socialsync.platforms.base import PlatformError  # noqa: PLC0415
    from socialsync.platforms.base import RateLimited as Refused  # noqa: PLC0415
    from socialsync.platforms.base import TransportError as NoAnswer  # noqa: PLC0415

    services: Services = ctx["services"]
    cap = services.settings.ratelimit_max_defer_seconds
    try:
        result, error = await platform_comments.perform(services, action)
    except Refused as exc:  # the governor: a spent day, a throttle (deferred, not failed)
        raise Retry(defer=max(1.0, min(exc.retry_after, cap))) from None
    except platform_tokens.LockBusy:
        raise Retry(defer=1) from None
    except (PlatformError, NoAnswer) as exc:
        if isinstance(exc, PlatformError) and exc.kind in (Kind.THROTTLED, Kind.QUOTA_EXCEEDED):
            raise Retry(defer=max(1.0, min(exc.retry_after or 60.0, cap))) from None
        attempt = int(ctx.get("job_try", 1))
        retry = retry_for(exc, attempt, base=services.settings.retry_backoff_base_seconds, max_tries=MAX_TRIES)
        if retry is not None:
            log.warning("comment action will retry", action_id=action["_id"], kind=type(exc).__name__)
            raise retry from None
        result, error = None, (platform_comments.action_error(exc) if isinstance(exc, PlatformError)
                               else ActionError(code="platform_unreachable", message=str(exc)))
    await action_store.finish(services.store, action["_id"], result=result, error=error)
    return "failed" if error else "succeeded"


# --- mentions ----------------------------------------------------------------------------------
async def resolve_mention(ctx: dict[str, Any], account_id: str, media_id: str, comment_id: str | None) -> str:
    """A mention of the account: read through its platform when its login can (Facebook Login),
    else stored as received (socialsync/comments/backfill.py)."""
    services: Services = ctx["services"]
    try:
        return await comment_reads.resolve_mention(services, account_id, media_id, comment_id)
    except (PlatformError, RateLimited, TransportError) as exc:
        retry = await platform_errors.handle(services, ctx, exc, account_id, max_tries=MAX_TRIES)
        if retry is not None:
            raise retry from None
        log.warning("mention not resolved", account_id=account_id, **platform_errors.describe(exc))
        return "failed"


# --- backfill during scheduled syncs -----------------------------------------------------------
def jitter_seconds(account_id: str, spread: int) -> int:
    """A stable per-account offset, so the accounts' backfills do not all start together."""
    if spread <= 0:
        return 0
    return int(hashlib.sha256(account_id.encode()).hexdigest()[:8], 16) % spread


async def backfill_due(ctx: dict[str, Any]) -> int:
    services: Services = ctx["services"]
    now = clock.now()
    platforms = [p.name for p in services.platforms.with_capability(Capability.COMMENTS)
                 if getattr(p, "comment_reads", None) is not None]
    count = 0
    for account_id in await account_store.active_ids(services.store, platforms):
        await queue.enqueue(
            services.redis, queue.COMMENTS_BACKFILL_ACCOUNT, account_id,
            job_id=queue.comment_backfill_job_id(account_id, now),
            defer_seconds=jitter_seconds(account_id, services.settings.comments_backfill_jitter_seconds),
        )
        count += 1
    return count


async def backfill_account(ctx: dict[str, Any], account_id: str) -> dict[str, int] | str:
    """The account's recent comments read back (socialsync/comments/backfill.py); platform
    failures become retries, or a logged failure once the tries are spent."""
    services: Services = ctx["services"]
    try:
        return await comment_reads.backfill_account(services, account_id)
    except (PlatformError, RateLimited, TransportError) as exc:
        retry = await platform_errors.handle(services, ctx, exc, account_id, max_tries=MAX_TRIES)
        if retry is not None:
            raise retry from None
        log.warning("comment backfill failed", account_id=account_id, **platform_errors.describe(exc))
        return "failed"


def functions(_settings: Settings) -> list[Function]:
    return [
        # rate-limit deferrals (a spent YouTube day: up to 24 h) must not use up arq's tries;
        # transient failures still give up after MAX_TRIES (retry_for / platform_errors)
        func(perform_action, name=queue.COMMENTS_PERFORM_ACTION, max_tries=500),
        func(resolve_mention, name=queue.COMMENTS_RESOLVE_MENTION, max_tries=MAX_TRIES + 1),
        func(backfill_account, name=queue.COMMENTS_BACKFILL_ACCOUNT, max_tries=MAX_TRIES + 1),
    ]


def cron_jobs(settings: Settings) -> list[CronJob]:
    every = max(1, settings.comments_backfill_cron_minutes)
    minutes = set(range(0, 60, every)) if every < 60 else {17}
    return [cron(backfill_due, name=queue.COMMENTS_BACKFILL_DUE, minute=minutes, unique=True)]
