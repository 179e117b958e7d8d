"""sync.run (one sync run, resumable) and sync.schedule (cron: due accounts, spread by jitter).

A run holds a per-account lease in Redis while it works, so two workers never sync one account
at once (arq may start a job again while a slow first attempt still runs). A throttle defers the
job (``Retry(defer=…)``) and the run continues from its checkpoint; so does a long run that used
up its time slice, which keeps every job well inside arq's job timeout.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from arq import Retry, cron, func
from arq.cron import CronJob
from arq.worker import Function

from socialsync import lifecycle, queue
from socialsync.config import Settings
from socialsync.context import Services
from socialsync.logs import get_logger
from socialsync.platforms.instagram.access import AccountUnavailable, access_for
from socialsync.platforms.instagram.errors import ErrorKind, GraphError, RateLimited, TransportError
from socialsync.platforms.instagram.sync import AccountSync, request_sync
from socialsync.store import accounts as account_store
from socialsync.store import sync_runs
from socialsync.retry import retry_for

log = get_logger(__name__)
MAX_TRANSIENT_TRIES = 6
SLICE_SHARE = 0.6  # a job syncs for at most this share of the job timeout, then continues in a new job
LEASE_KEY = "sync:lease:{account_id}"
TERMINAL = frozenset({"success", "partial", "failed", "skipped"})
SCHEDULED_KINDS = ("recent", "media", "insights", "audience", "stories")

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

    try:
        expires_at = (account.get("token") or {}).get("expires_at")
        if expires_at is not None and expires_at <= datetime.now(UTC):
            # An expired token cannot be refreshed, and a call with it would only fail.
            await lifecycle.account_needs_reconnect(services, account["_id"], "the access token expired")
            await sync_runs.finish(store, run_doc, "skipped", reason="token expired")
            return "skipped"
        try:
            access = access_for(account, settings, services.cipher)
        except AccountUnavailable as exc:
            await sync_runs.finish(store, run_doc, "skipped", reason=str(exc))
            return "skipped"
        now = datetime.now(UTC)
        await sync_runs.update(store, run_id, set_={"status": "running", "started_at": run_doc.get("started_at") or now})
        status = await AccountSync(services, account, run_doc, access, heartbeat=heartbeat).execute()
        await sync_runs.finish(store, run_doc, status)
        if run_doc["kind"] == "full":
            await mark_scheduled(services, account["_id"], datetime.now(UTC))
        log.info("sync run done", run_id=run_id, account_id=account["_id"], kind=run_doc["kind"], status=status)
        return status
    except SliceUsed:
        raise Retry(defer=0.1) from None
    except (RateLimited, GraphError) as exc:
        if isinstance(exc, GraphError) and exc.kind is not ErrorKind.THROTTLED:
            return await _failed_call(services, run_doc, account, exc)
        if isinstance(exc, GraphError):  # Meta throttled us: the governor now blocks the scope
            assert services.governor is not None
            retry_after = await services.governor.blocked_for(account["external_id"])
            exc = RateLimited(f"ig:{account['external_id']}", retry_after or settings.ratelimit_block_seconds, "throttled")
        wait = min(exc.retry_after, settings.ratelimit_max_defer_seconds)
        await sync_runs.update(store, run_id, inc={"rate_limit_wait_seconds": round(wait, 3), "deferrals": 1})
        log.info("sync deferred by the rate-limit governor", run_id=run_id, scope=exc.scope,
                 seconds=round(wait, 1), reason=exc.reason)
        raise Retry(defer=max(0.05, wait)) from None
    except TransportError as exc:
        return await _failed_call(services, run_doc, account, exc)
    finally:
        await redis.eval(_RELEASE, 1, key, token)


async def _failed_call(
    services: Services, run_doc: dict[str, Any], account: dict[str, Any], exc: GraphError | TransportError
) -> str:
    store = services.store
    detail = exc.describe() if isinstance(exc, GraphError) else {"kind": "transport", "message": str(exc)}
    if isinstance(exc, GraphError) and exc.kind is ErrorKind.TOKEN_INVALID:
        current = await account_store.get(store, account["_id"]) or {}
        used = (account.get("token") or {}).get("ciphertext")
        if current.get("status") == "active" and (current.get("token") or {}).get("ciphertext") not in (None, used):
            # The token was refreshed while this run used the old one: go on with the new one.
            raise Retry(defer=0.1)
        await lifecycle.account_needs_reconnect(services, account["_id"], f"Meta rejected the token: {exc.message}")
        await sync_runs.add_error(store, run_doc["_id"], {"at": datetime.now(UTC), **detail})
        await sync_runs.finish(store, run_doc, "failed", reason="token_invalid")
        return "failed"
    fresh = await store[sync_runs.COLLECTION].find_one_and_update(
        {"_id": run_doc["_id"]}, {"$inc": {"transient_attempts": 1}}, return_document=True
    )
    attempt = int((fresh or {}).get("transient_attempts", 1))
    retry = retry_for(exc, attempt, base=services.settings.retry_backoff_base_seconds, max_tries=MAX_TRANSIENT_TRIES)
    if retry is not None:
        log.warning("sync call failed, will retry", run_id=run_doc["_id"], attempt=attempt, **detail)
        raise retry
    await sync_runs.add_error(store, run_doc["_id"], {"at": datetime.now(UTC), **detail})
    await sync_runs.finish(store, run_doc, "failed", reason=detail.get("kind"))
    log.error("sync run failed", run_id=run_doc["_id"], **detail)
    return "failed"


# --- schedules ----------------------------------------------------------------------------------
def interval_seconds(settings: Settings, kind: str) -> int:
    return 60 * max(1, int(getattr(settings, f"sync_{ {'recent': 'profile'}.get(kind, kind)}_minutes")))


def phase_seconds(account_id: str, kind: str, interval: int) -> int:
    """A stable spot inside the interval for this account: 10,000 accounts do not fire at once."""
    digest = hashlib.sha256(f"{account_id}:{kind}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % interval


def bucket(account_id: str, kind: str, interval: int, now: datetime) -> int:
    """Which occurrence of the schedule ``now`` falls in, shifted by the account's phase."""
    return int((now.timestamp() - phase_seconds(account_id, kind, interval)) // interval)


async def mark_scheduled(services: Services, account_id: str, now: datetime) -> None:
    """A full sync covers every scheduled kind: the next ones are due after their interval."""
    s = services.settings
    await services.store.accounts.update_one({"_id": account_id}, {"$set": {
        f"sync_schedule.{k}": bucket(account_id, k, interval_seconds(s, k), now) for k in SCHEDULED_KINDS
    }})


async def schedule(ctx: dict[str, Any]) -> int:
    """Start the runs that are due (one per account at a time; a busy account waits a tick)."""
    services: Services = ctx["services"]
    s = services.settings
    now = datetime.now(UTC)
    started = 0
    cursor = services.store.accounts.find(
        {"status": "active", "platform": "instagram"},
        {"_id": 1, "tenant_id": 1, "sync_schedule": 1, "sync_active_run": 1},
    )
    async for account in cursor:
        if account.get("sync_active_run"):
            continue
        marks = account.get("sync_schedule") or {}
        for kind in SCHEDULED_KINDS:
            current = bucket(account["_id"], kind, interval_seconds(s, kind), now)
            if marks.get(kind, -1) >= current:
                continue
            run_doc, created = await request_sync(services, account, kind, "schedule")
            if created:
                await services.store.accounts.update_one(
                    {"_id": account["_id"]}, {"$set": {f"sync_schedule.{kind}": current}}
                )
                started += 1
            break  # one run per account at a time: the other due kinds wait for the next tick
    log.info("sync schedule tick", started=started)
    return started


def functions(_settings: Settings) -> list[Function]:
    # Deferrals (throttles, time slices) are not failures: arq's try counter must not end the
    # run; transient errors are counted on the run itself (MAX_TRANSIENT_TRIES).
    return [func(run, name=queue.SYNC_RUN, max_tries=100_000)]


def cron_jobs(settings: Settings) -> list[CronJob]:
    every = max(1, settings.sync_schedule_tick_minutes)
    minutes = set(range(0, 60, every)) if every < 60 else {3}
    return [cron(schedule, name=queue.SYNC_SCHEDULE, minute=minutes, unique=True)]
