"""sync.run (one sync run, resumable) and sync.schedule (cron: due accounts, spread by jitter):
the one sync path of every platform (manual syncs, the schedule, connects and inbound changes all
enqueue ``sync.run`` through `socialsync.sync.schedule.request_sync`).

A run holds a per-account lease in Redis while it works, so two workers never sync one account
at once (arq may start a job again while a slow first attempt still runs). A throttle defers the
job (``Retry(defer=…)``) and the run continues from its checkpoint; so does a long run that used
up its time slice, which keeps every job well inside arq's job timeout.

``platform.sync_run(account_id, run_id)`` was the interface platforms' own job in the previous
release; such a job may still be queued after an upgrade, so the name stays as an alias of
``sync.run`` (same lease, same run).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from arq import Retry, cron, func
from arq.cron import CronJob
from arq.worker import Function

from socialsync import lifecycle, queue, tokens
from socialsync.config import Settings
from socialsync.context import Services
from socialsync.logs import get_logger
from socialsync.platforms.base import (
    AccountUnavailable,
    Call,
    Capability,
    ErrorKind,
    PlatformError,
    RateLimited,
    TransportError,
)
from socialsync.retry import retry_for
from socialsync.store import accounts as account_store
from socialsync.store import sync_runs
from socialsync.sync import runner
from socialsync.sync.schedule import (  # noqa: F401 - bucket, interval_seconds, phase_seconds re-exported
    bucket,
    due_kind,
    interval_seconds,
    mark_scheduled,
    phase_seconds,
    request_sync,
)

log = get_logger(__name__)
MAX_TRANSIENT_TRIES = 6
OLD_PLATFORM_SYNC = "platform.sync_run"  # the previous release's job for TikTok/YouTube
SLICE_SHARE = 0.6  # a job syncs for at most this share of the job timeout, then continues in a new job
LEASE_KEY = "sync:lease:{account_id}"
TERMINAL = frozenset({"success", "partial", "failed", "skipped"})

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class SliceUsed(Exception):
    """The run worked its time slice: continue in a fresh job execution."""


async def run(ctx: dict[str, Any], run_id: str) -> str:
    services: Services = ctx["services"]
    store, redis, settings = services.store, services.redis, services.settings
    run_doc = await sync_runs.get(store, run_id)
    if run_doc is None:
        return "missing"
    if run_doc["status"] in TERMINAL:
        return run_doc["status"]
    account = await account_store.get(store, run_doc["account_id"])
    if account is None or account.get("status") != "active":
        reason = f"account is {(account or {}).get('status', 'missing')}"
        await sync_runs.finish(store, run_doc, "skipped", reason=reason)
        return "skipped"

    key = LEASE_KEY.format(account_id=account["_id"])
    token = uuid.uuid4().hex
    lease_ms = settings.sync_lease_seconds * 1000
    if not await redis.set(key, token, nx=True, px=lease_ms):
        ttl = await redis.pttl(key)
        raise Retry(defer=max(1.0, ttl / 1000 if ttl > 0 else 1.0))
    deadline = time.monotonic() + SLICE_SHARE * settings.job_timeout_seconds

    async def heartbeat() -> None:
        await redis.eval(_RENEW, 1, key, token, lease_ms)
        if time.monotonic() > deadline:
            raise SliceUsed

    plugin = services.platforms.for_account(account)
    try:
        expires_at = (account.get("token") or {}).get("expires_at")
        refreshable = bool((account.get("token") or {}).get("refresh_ciphertext"))
        if expires_at is not None and expires_at <= services.clock.now() and not refreshable:
            # An expired token cannot be refreshed, and a call with it would only fail.
            await lifecycle.account_needs_reconnect(services, account["_id"], "the access token expired")
            await sync_runs.finish(store, run_doc, "skipped", reason="token expired")
            return "skipped"
        now = services.clock.now()
        await sync_runs.update(store, run_id, set_={"status": "running", "started_at": run_doc.get("started_at") or now})
        try:
            status = await runner.execute(services, plugin, account, run_doc, heartbeat)
        except AccountUnavailable as exc:
            await sync_runs.finish(store, run_doc, "skipped", reason=str(exc))
            return "skipped"
        await sync_runs.finish(store, run_doc, status)
        if run_doc["kind"] == "full":
            await mark_scheduled(services, account, services.clock.now())
        log.info("sync run done", run_id=run_id, account_id=account["_id"], kind=run_doc["kind"], status=status)
        return status
    except SliceUsed:
        raise Retry(defer=0.1) from None
    except tokens.LockBusy:
        raise Retry(defer=1.0) from None  # another job refreshes the account's token right now
    except (RateLimited, PlatformError) as exc:
        if isinstance(exc, PlatformError) and exc.kind not in (ErrorKind.THROTTLED, ErrorKind.QUOTA_EXCEEDED):
            return await _failed_call(services, plugin.spec.display_name, run_doc, account, exc)
        if isinstance(exc, PlatformError):  # the platform throttled us: the governor now blocks the scope
            assert services.governor is not None
            budgets = plugin.rates.budgets(Call(account_key=account["external_id"]))
            retry_after = await services.governor.blocked_for([b.scope for b in budgets]) if budgets else 0.0
            scope = budgets[0].scope if budgets else plugin.name
            exc = RateLimited(scope, retry_after or exc.retry_after or settings.ratelimit_block_seconds, "throttled")
        wait = min(exc.retry_after, settings.ratelimit_max_defer_seconds)
        await sync_runs.update(store, run_id, inc={"rate_limit_wait_seconds": round(wait, 3), "deferrals": 1})
        log.info("sync deferred by the rate-limit governor", run_id=run_id, scope=exc.scope,
                 seconds=round(wait, 1), reason=exc.reason)
        raise Retry(defer=max(0.05, wait)) from None
    except TransportError as exc:
        return await _failed_call(services, plugin.spec.display_name, run_doc, account, exc)
    finally:
        await redis.eval(_RELEASE, 1, key, token)


async def _failed_call(
    services: Services, platform: str, run_doc: dict[str, Any], account: dict[str, Any],
    exc: PlatformError | TransportError,
) -> str:
    store = services.store
    detail = exc.describe() if isinstance(exc, PlatformError) else {"kind": "transport", "message": str(exc)}
    if isinstance(exc, PlatformError) and exc.kind is ErrorKind.TOKEN_INVALID:
        current = await account_store.get(store, account["_id"]) or {}
        used = (account.get("token") or {}).get("ciphertext")
        if current.get("status") == "active" and (current.get("token") or {}).get("ciphertext") not in (None, used):
            # The token was refreshed while this run used the old one: go on with the new one.
            raise Retry(defer=0.1)
        await lifecycle.account_needs_reconnect(services, account["_id"], f"{platform} rejected the token: {exc.message}")
        await sync_runs.add_error(store, run_doc["_id"], {"at": services.clock.now(), **detail})
        await sync_runs.finish(store, run_doc, "failed", reason="token_invalid")
        return "failed"
    attempt = await sync_runs.count_transient_attempt(store, run_doc["_id"])
    retry = retry_for(exc, attempt, base=services.settings.retry_backoff_base_seconds, max_tries=MAX_TRANSIENT_TRIES)
    if retry is not None:
        log.warning("sync call failed, will retry", run_id=run_doc["_id"], attempt=attempt, **detail)
        raise retry
    await sync_runs.add_error(store, run_doc["_id"], {"at": services.clock.now(), **detail})
    await sync_runs.finish(store, run_doc, "failed", reason=detail.get("kind"))
    log.error("sync run failed", run_id=run_doc["_id"], **detail)
    return "failed"


async def run_old_name(ctx: dict[str, Any], _account_id: str, run_id: str) -> str:
    """``platform.sync_run`` as queued by the previous release: the same run on the one path."""
    return await run(ctx, run_id)


# --- schedules ----------------------------------------------------------------------------------
async def schedule(ctx: dict[str, Any]) -> int:
    """Start the runs that are due (one per account at a time; a busy account waits a tick)."""
    services: Services = ctx["services"]
    now = services.clock.now()
    started = 0
    syncing = [p.name for p in services.platforms.with_capability(Capability.SYNC)]
    async for account in account_store.schedulable(services.store, syncing):
        if account.get("sync_active_run"):
            continue
        due = due_kind(services.settings, services.platforms.for_account(account), account, now)
        if due is None:
            continue
        kind, current = due
        _run, created = await request_sync(services, account, kind, "schedule")
        if created:
            await account_store.set_schedule_marks(services.store, account["_id"], {kind: current})
            started += 1
        # one run per account at a time: the other due kinds wait for the next tick
    log.info("sync schedule tick", started=started)
    return started


def functions(_settings: Settings) -> list[Function]:
    # Deferrals (throttles, time slices) are not failures: arq's try counter must not end the
    # run; transient errors are counted on the run itself (MAX_TRANSIENT_TRIES).
    return [func(run, name=queue.SYNC_RUN, max_tries=100_000),
            func(run_old_name, name=OLD_PLATFORM_SYNC, max_tries=100_000)]


def cron_jobs(settings: Settings) -> list[CronJob]:
    every = max(1, settings.sync_schedule_tick_minutes)
    minutes = set(range(0, 60, every)) if every < 60 else {3}
    return [cron(schedule, name=queue.SYNC_SCHEDULE, minute=minutes, unique=True)]
