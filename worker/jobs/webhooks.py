"""webhooks.drain, webhooks.process_event, webhooks.sweep (cron), webhooks.subscribe / unsubscribe.

``webhooks.subscribe`` / ``webhooks.unsubscribe`` are the core's one job pair for per-account
webhook subscriptions (connect → subscribe, disconnect → unsubscribe with the dropped token) of
every platform whose plugin has a ``subscriptions`` part (Meta's subscribed_apps); the same job
names as the previous release, so jobs it queued still run.

The one inbox of every webhook source (Meta, TikTok, YouTube…). Processing stored events is
database work only, done in pages: a drain (one at a time, under a Redis lease) reads up to
``DRAIN_BATCH`` pending events in one find and hands them to socialsync/webhook_inbox.py, which
normalizes each with its source's plugin and applies the changes together (one owners lookup,
one write of the comments, one outbox write, one update marking them processed), so the MongoDB
cost per delivery is a small fraction of a round trip. Re-running — after a crash, or for a
re-delivery — writes the same documents again. The sweeper queues a drain for events left
pending too long (lost enqueue, dead drain).

Job names of the previous release still run: ``platform.webhook_event`` (one TikTok/YouTube
delivery) is ``webhooks.process_event``; ``platform.webhook_sweep`` is ``webhooks.sweep``, which
also moves deliveries that release stored as ``queued`` into the inbox.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from arq import cron, func
from arq.cron import CronJob
from arq.worker import Function

from socialsync import queue
from socialsync.config import Settings
from socialsync.context import Services
from socialsync.logs import get_logger
from socialsync.platforms.base import PlatformError, RateLimited, SubscriptionState, TransportError
from socialsync.store import accounts as account_store
from socialsync.store import platform_accounts
from socialsync.store import webhook_events
from socialsync.webhook_inbox import UNAVAILABLE, process_batch  # noqa: F401 - process_batch: tests, replays
from worker.jobs import platform_errors
from socialsync.retry import retry_for
from socialsync import clock

log = get_logger(__name__)
MAX_TRIES = 6
# The previous release's job names (jobs it queued still run under them)
LEGACY_WEBHOOK_EVENT = "platform.webhook_event"
LEGACY_WEBHOOK_SWEEP = "platform.webhook_sweep"
DRAIN_BATCH = 500  # events read and processed together (one page)
DRAIN_BUDGET_SECONDS = 30.0  # a drain hands over to a follow-up job after this (inside job_timeout, 60 s)
# One drain at a time; renewed after each page (a page takes well under a second to a few
# seconds), lapses this long after its holder died. Overlap, were a page ever slower, is harmless:
# every write of a drain is idempotent.
DRAIN_LEASE_SECONDS = 15.0


_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def drain_keys(services: Services) -> tuple[str, str]:
    """Redis keys of the drain lease and of the "a drain was wanted" mark."""
    base = f"{services.settings.queue_name}:webhooks:drain"
    return f"{base}:lease", f"{base}:wanted"


async def drain(ctx: dict[str, Any]) -> dict[str, int]:
    """Process pending events in pages of ``DRAIN_BATCH``, each page together, until none are
    left or the time budget is spent (then a follow-up drain takes over).

    One drain works at a time: it holds a lease in Redis (``DRAIN_LEASE_SECONDS``, renewed after
    each page) instead of writing a claim on every event, which would cost one more update per
    event. A drain that finds the lease held leaves a "wanted" mark and returns; the holder looks
    for the mark before each pass and again after releasing, so the events that drain was queued
    for are never left behind. If the holder dies, its events are still ``pending``: once the
    lease lapses the next drain (queued by the next delivery, or by the sweeper) processes them
    again, idempotently.
    """
    services: Services = ctx["services"]
    redis = services.redis
    lease, wanted = drain_keys(services)
    token = webhook_events.new_page_id()
    lease_ms = int(DRAIN_LEASE_SECONDS * 1000)
    totals: Counter[str] = Counter()
    started = time.monotonic()
    await redis.set(wanted, 1, px=lease_ms * 10)  # the expiry only keeps litter away
    while await redis.set(lease, token, nx=True, px=lease_ms):
        try:
            while await redis.getdel(wanted) is not None:
                if not await _drain_pages(services, totals, started, lease, lease_ms):
                    return dict(totals)  # handed over to a follow-up drain
        finally:
            await redis.eval(_RELEASE, 1, lease, token)
        if not await redis.exists(wanted):  # one arrived between our last page and the release
            break
    else:
        totals["lease_busy"] += 1
    return dict(totals)


async def _drain_pages(services: Services, totals: Counter[str], started: float, lease: str, lease_ms: int) -> bool:
    """Process pages until one is not full. False when the budget ran out first (a follow-up
    drain is queued)."""
    while True:
        page = webhook_events.new_page_id()
        docs = await webhook_events.pending_page(services.store, limit=DRAIN_BATCH)
        if docs:
            results = await _process_page(services, docs, page, totals)
            totals["pages"] += 1
            totals["events"] += len(docs)
            totals["comments_new"] += sum(r.get("comments_new", 0) for r in results.values())
            await services.redis.pexpire(lease, lease_ms)
        if len(docs) < DRAIN_BATCH:
            return True
        if time.monotonic() - started > DRAIN_BUDGET_SECONDS:
            await queue.enqueue(services.redis, queue.WEBHOOKS_DRAIN, job_id=queue.webhook_drain_follow_up_job_id(page))
            totals["handed_over"] += 1
            return False


async def _process_page(
    services: Services, docs: list[dict[str, Any]], page: str, totals: Counter[str]
) -> dict[str, dict[str, int]]:
    """A page together; if that fails for a reason other than an unreachable MongoDB or Redis,
    each event alone, so one event that cannot be processed (a bug) does not hold back every
    page after it: it is marked ``failed`` with the error, kept for a replay."""
    try:
        return await process_batch(services, docs, page)
    except UNAVAILABLE:
        raise
    except Exception:  # noqa: BLE001 - isolate the event that breaks the page
        log.exception("webhook page failed; processing its events one by one", page=page, events=len(docs))
    results: dict[str, dict[str, int]] = {}
    for doc in docs:
        try:
            results.update(await process_batch(services, [doc], f"{page}:{doc['_id']}"))
        except UNAVAILABLE:
            raise
        except Exception as exc:  # noqa: BLE001
            log.exception("webhook event could not be processed; marked failed", event_id=doc["_id"])
            await webhook_events.mark_failed(services.store, doc["_id"], f"{type(exc).__name__}: {exc}"[:500])
            totals["failed"] += 1
    return results


async def process_event(ctx: dict[str, Any], event_id: str) -> dict[str, int] | str:
    """Process one stored event now (a replay, or a job queued by an earlier release: before
    drains existed, or ``platform.webhook_event``): the same work as a drain page of one."""
    services: Services = ctx["services"]
    doc = await webhook_events.get(services.store, event_id)
    if doc is None:
        return "missing"
    if doc["status"] == webhook_events.PROCESSED:
        return "already_processed"
    return (await process_batch(services, [doc], webhook_events.new_page_id()))[event_id]


async def sweep(ctx: dict[str, Any]) -> int:
    """Crash safety: queue a drain when events have been pending longer than the configured
    delay (their enqueue was lost, or the drain holding them died and no delivery came since)."""
    services: Services = ctx["services"]
    now = clock.now()
    older_than = now - timedelta(seconds=services.settings.webhook_sweep_after_seconds)
    adopted = await webhook_events.adopt_legacy_queued(services.store)
    if not adopted and not await webhook_events.has_pending(services.store, older_than=older_than):
        return 0
    await queue.enqueue(services.redis, queue.WEBHOOKS_DRAIN, job_id=queue.webhook_sweep_drain_job_id(now))
    log.warning("webhook events pending too long: drain enqueued by the sweeper")
    return 1


# --- subscriptions (every platform with a `subscriptions` part) --------------------------------
async def _set_subscription(services: Services, account_id: str, state: dict[str, Any]) -> None:
    await account_store.set_webhook_subscription(services.store, account_id, state)


def _state(outcome: SubscriptionState) -> dict[str, Any]:
    return {"status": outcome.status, "fields": list(outcome.fields), "error": outcome.error}


async def subscribe(ctx: dict[str, Any], account_id: str) -> str:
    """After a connect: subscribe the app to the account's changes at its platform (the plugin's
    ``subscriptions.subscribe``), recorded on the account; retried by the core."""
    services: Services = ctx["services"]
    account = await account_store.get(services.store, account_id)
    if account is None:
        return "missing"
    if account.get("status") != "active" or not (account.get("token") or {}).get("ciphertext"):
        return "unavailable"
    part = services.platforms.for_account(account).subscriptions
    if part is None:
        return "no subscriptions"
    try:
        outcome = await part.subscribe(platform_accounts.ref_of(account, services.cipher))
    except (PlatformError, RateLimited, TransportError) as exc:
        retry = await platform_errors.handle(services, ctx, exc, account_id, max_tries=MAX_TRIES)
        if retry is not None:
            raise retry from None
        fields = list(getattr(part, "fields", ()))
        await _set_subscription(services, account_id, {"status": "failed", "fields": fields, "error": str(exc)})
        return "failed"
    await _set_subscription(services, account_id, _state(outcome))
    return outcome.status


async def unsubscribe(ctx: dict[str, Any], account_id: str, token_ciphertext: str | None = None) -> str:
    """After a disconnect: remove the app's subscription for the account (the plugin's
    ``subscriptions.unsubscribe``). The disconnect has already dropped the account's token, so
    this works only when the caller handed the (encrypted) token over."""
    services: Services = ctx["services"]
    account = await account_store.get(services.store, account_id)
    if account is None:
        return "missing"
    part = services.platforms.for_account(account).subscriptions
    if part is None:
        return "no subscriptions"
    ciphertext = token_ciphertext or (account.get("token") or {}).get("ciphertext")
    if not ciphertext:
        await _set_subscription(
            services, account_id,
            {"status": "unsubscribe_skipped", "fields": [], "error": "token already dropped"},
        )
        return "skipped"
    ref = platform_accounts.ref_of({**account, "token": {**(account.get("token") or {}), "ciphertext": ciphertext}},
                                   services.cipher)
    try:
        outcome = await part.unsubscribe(ref)
    except (PlatformError, RateLimited, TransportError) as exc:
        attempt = int(ctx.get("job_try", 1))
        retry = retry_for(exc, attempt, base=services.settings.retry_backoff_base_seconds, max_tries=MAX_TRIES)
        if retry is not None:
            raise retry from None
        await _set_subscription(services, account_id, {"status": "unsubscribe_failed", "fields": [], "error": str(exc)})
        return "failed"
    await _set_subscription(services, account_id, _state(outcome))
    return outcome.status


def functions(_settings: Settings) -> list[Function]:
    return [
        # keep_result=0: ~10 drain ids a second would otherwise pile up as results in Redis
        func(drain, name=queue.WEBHOOKS_DRAIN, max_tries=MAX_TRIES, keep_result=0),
        func(process_event, name=queue.WEBHOOKS_PROCESS_EVENT, max_tries=MAX_TRIES),
        func(process_event, name=LEGACY_WEBHOOK_EVENT, max_tries=MAX_TRIES),
        func(sweep, name=LEGACY_WEBHOOK_SWEEP, max_tries=MAX_TRIES),
        func(subscribe, name=queue.WEBHOOKS_SUBSCRIBE, max_tries=MAX_TRIES + 1),
        # keep_result=0: its argument is the dropped (encrypted) token; keep no copy in Redis
        func(unsubscribe, name=queue.WEBHOOKS_UNSUBSCRIBE, max_tries=MAX_TRIES + 1, keep_result=0),
    ]


def cron_jobs(settings: Settings) -> list[CronJob]:
    every = max(1, settings.webhook_sweep_cron_minutes)
    minutes = set(range(0, 60, every)) if every < 60 else {3}
    return [cron(sweep, name=queue.WEBHOOKS_SWEEP, minute=minutes, unique=True, run_at_startup=False)]
