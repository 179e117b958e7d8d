"""Platform clean-up and push feeds of every platform that has them: token revokes on
disconnect (``privacy.revoke``), push subscriptions (``inbound.subscribe``: YouTube's WebSub).
(Their webhook deliveries go through the one inbox: worker/jobs/webhooks.py. Their syncs run on
the core's ``sync.run`` (worker/jobs/sync.py), their tokens on the core's keeper
(worker/jobs/tokens.py), their posts on the publish queue's generic jobs.)

Thin: load, call the platform-neutral driver, map the failure to arq ``Retry`` (deferred on rate
limits, backoff on transient errors), never sleeping.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from arq import Retry, cron, func
from arq.cron import CronJob
from arq.worker import Function

from socialsync import queue
from socialsync.config import Settings
from socialsync.logs import get_logger
from socialsync.platforms.base import PlatformError, TransportError
from socialsync.retry import retry_for
from socialsync.store import platform_accounts
from socialsync import clock

log = get_logger(__name__)
MAX_TRIES = 8

PUSH_SUBSCRIBE = queue.PUSH_SUBSCRIBE
push_job_id = queue.push_job_id
PUSH_RENEW_SHARE = 0.8  # renew a push lease when this share of it has passed
PUSH_RETRY_SECONDS = 300.0


def _retry(ctx: dict[str, Any], exc: BaseException, what: str, **log_fields: Any) -> Retry | None:
    attempt = int(ctx.get("job_try", 1))
    base = ctx["services"].settings.retry_backoff_base_seconds
    retry = retry_for(exc, attempt, base=base, max_tries=MAX_TRIES)
    detail = exc.describe() if isinstance(exc, PlatformError) else {"kind": type(exc).__name__}
    log.warning(f"{what} deferred" if retry else f"{what} gave up", attempt=attempt, **detail, **log_fields)
    return retry


async def revoke(ctx: dict[str, Any], account_id: str, token_ciphertext: str | None) -> str:
    """After a disconnect: revoke the dropped token at the platform (best effort, retried)."""
    from dataclasses import replace  # noqa: PLC0415

    from socialsync.store import accounts as account_store  # noqa: PLC0415

    services = ctx["services"]
    doc = await account_store.get(services.store, account_id)
    if doc is None or not token_ciphertext:
        return "nothing to revoke"
    plugin = services.platforms.for_account(doc)
    if getattr(plugin.privacy, "revoke", None) is None:
        return "no revoke"
    ref = platform_accounts.ref_of({**doc, "token": {**(doc.get("token") or {}), "ciphertext": token_ciphertext}, "refresh": None},
                                   services.cipher)
    try:
        await plugin.privacy.revoke(replace(ref))
    except PlatformError as exc:
        if exc.kind.value == "token_invalid":
            return "already dead"
        retry = _retry(ctx, exc, "revoke", account_id=account_id)
        if retry is None:
            return "failed"
        raise retry from None
    except TransportError as exc:
        retry = _retry(ctx, exc, "revoke", account_id=account_id)
        if retry is None:
            return "failed"
        raise retry from None
    return "revoked"


async def push_subscribe(ctx: dict[str, Any], account_id: str) -> str:
    """Subscribe (or renew) the account's push feed at the platform's hub (YouTube's WebSub),
    and note when to renew: before the lease ends. A hub that fails (503 + Retry-After) is tried
    again after its delay; scheduled polling keeps the account current meanwhile."""
    from socialsync.store import accounts as account_store  # noqa: PLC0415

    services = ctx["services"]
    doc = await account_store.get(services.store, account_id)
    if doc is None or doc.get("status") != "active":
        return "skipped"
    inbound = services.platforms.for_account(doc).inbound
    subscribe = getattr(inbound, "subscribe", None)
    if subscribe is None:
        return "no push"
    lease = float(getattr(inbound, "lease_seconds", 432_000))
    now = clock.now()
    try:
        status = await subscribe(doc["external_id"], services.settings.public_base)
    except Exception as exc:  # noqa: BLE001 - the hub's failure is recorded; polling goes on
        wait = float(getattr(exc, "retry_after", None) or PUSH_RETRY_SECONDS)
        await platform_accounts.set_push_subscription(services.store, account_id, now, {
            "status": "hub_unavailable", "error": type(exc).__name__, "retry_at": now + timedelta(seconds=wait),
            "renew_at": now + timedelta(seconds=wait)})
        log.warning("push subscription deferred: the hub failed", account_id=account_id, seconds=wait)
        if int(ctx.get("job_try", 1)) >= MAX_TRIES:
            return "hub_unavailable"  # the renew cron tries again at renew_at
        raise Retry(defer=wait) from None
    accepted = 200 <= int(status) < 300
    await platform_accounts.set_push_subscription(services.store, account_id, now, {
        "status": "requested" if accepted else "refused", "hub_status": int(status), "error": None,
        "lease_seconds": lease, "requested_at": now, "expires_at": now + timedelta(seconds=lease),
        "renew_at": now + timedelta(seconds=lease * PUSH_RENEW_SHARE if accepted else PUSH_RETRY_SECONDS * 12)})
    return "requested" if accepted else "refused"


async def push_renew(ctx: dict[str, Any]) -> int:
    """Cron: re-subscribe every push feed whose lease is near its end (or whose hub failed)."""
    services = ctx["services"]
    now = clock.now()
    pushing = [p.name for p in services.platforms if getattr(p.inbound, "subscribe", None) is not None]
    ids = await platform_accounts.push_due(services.store, pushing, now)
    for account_id in ids:
        await queue.enqueue(services.redis, PUSH_SUBSCRIBE, account_id, job_id=push_job_id(account_id, now))
    return len(ids)


def functions(_settings: Settings) -> list[Function]:
    return [
        func(revoke, name=queue.PLATFORM_REVOKE, max_tries=MAX_TRIES),
        func(push_subscribe, name=PUSH_SUBSCRIBE, max_tries=MAX_TRIES),
    ]


def cron_jobs(_settings: Settings) -> list[CronJob]:
    return [
        cron(push_renew, name="platform.push_renew", minute={7, 37}, second={15}, unique=True),
    ]
