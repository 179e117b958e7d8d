"""webhooks.drain, webhooks.process_event, webhooks.sweep (cron), webhooks.subscribe / unsubscribe.

Processing stored events is database work only, done in batches: a drain claims up to
``DRAIN_BATCH`` pending events in one update and processes them together (one owners lookup,
one bulk upsert of the comments, one outbox write, one update marking them processed), so the
MongoDB cost per delivery is a small fraction of a round trip. Comments are upserted by their
key, mentions become their own (rate-limited) jobs, unknown accounts and fields are counted on
the event. Re-running — after a crash, or for a re-delivery — writes the same documents again.
The sweeper releases claims whose run died and queues a drain for anything left behind.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from arq import cron, func
from arq.cron import CronJob
from arq.worker import Function
from pydantic import ValidationError

from socialsync import events, queue
from socialsync.config import Settings
from socialsync.context import Services
from socialsync.logs import get_logger
from socialsync.platforms.instagram import subscriptions
from socialsync.platforms.instagram.access import AccountUnavailable, access_for
from socialsync.platforms.instagram.errors import GraphError, RateLimited, TransportError
from socialsync.platforms.instagram.webhooks import (
    COMMENT_FIELDS,
    MENTION_FIELD,
    CommentValue,
    MentionValue,
    Payload,
    changes_of,
    parse_time,
)
from socialsync.store import accounts as account_store
from socialsync.store import comments as comment_store
from socialsync.store import webhook_events
from worker.jobs import platform_errors
from worker.retry import retry_for

log = get_logger(__name__)
MAX_TRIES = 6
DRAIN_BATCH = 500  # events claimed and processed together
DRAIN_BUDGET_SECONDS = 30.0  # a drain hands over to a follow-up job after this (job_timeout is 300 s)
DRAIN_LEASE_SECONDS = 60.0  # one drain at a time; renewed after each page, expires if its holder dies


async def owners_of(services: Services, ig_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Accounts (any tenant, not disconnected) that own each Instagram account id."""
    found = services.store.accounts.find(
        {"platform": "instagram", "external_id": {"$in": ig_ids}, "status": {"$ne": "disconnected"}},
        {"_id": 1, "tenant_id": 1, "external_id": 1, "login": 1},
    )
    owners: dict[str, list[dict[str, Any]]] = {}
    async for acc in found:
        owners.setdefault(acc["external_id"], []).append(acc)
    return owners


def comment_created_data(c: comment_store.CommentIn) -> dict[str, Any]:
    return {
        "account_id": c.account_id,
        "comment_id": c.comment_id,
        "media_id": c.media_id,
        "parent_id": c.parent_id,
        "text": c.text,
        "from": {"id": c.from_id, "username": c.from_username},
        "timestamp": c.timestamp.isoformat() if c.timestamp else None,
        "live": c.live,
    }


async def emit_comment_events(services: Services, comments: list[comment_store.CommentIn]) -> None:
    """comment.created for each (idempotent per comment: a re-run re-emits nothing new), in one
    endpoint lookup and one outbox write for the whole batch."""
    await events.record_many(services, [
        events.EventIn(c.tenant_id, "comment.created", comment_created_data(c), f"comment.created:{c.account_id}:{c.comment_id}")
        for c in comments
    ])


async def process_batch(services: Services, docs: list[dict[str, Any]], claim: str) -> dict[str, dict[str, int]]:
    """Process claimed events together: one owners lookup, one bulk upsert of every comment, one
    outbox write, one update marking them processed. Returns each event's result counts."""
    counts: dict[str, Counter[str]] = {d["_id"]: Counter() for d in docs}
    parsed: list[tuple[dict[str, Any], list[Any]]] = []
    ig_ids: set[str] = set()
    for doc in docs:
        try:
            payload = Payload.model_validate_json(doc["body"])
        except ValidationError:  # validated on receipt; only a model change could get here
            counts[doc["_id"]]["invalid_body"] += 1
            continue
        parsed.append((doc, changes_of(payload)))
        ig_ids.update(payload.account_ids())
    owners = await owners_of(services, sorted(ig_ids)) if ig_ids else {}
    upserts: dict[str, comment_store.CommentIn] = {}
    source_event: dict[str, str] = {}  # comment doc id -> event that supplied it (last wins)
    for doc, changes in parsed:
        n = counts[doc["_id"]]
        for change in changes:
            accounts = owners.get(change.account_ig_id, [])
            if change.field in COMMENT_FIELDS:
                try:
                    value = CommentValue.model_validate(change.value)
                except ValidationError:
                    n["invalid_value"] += 1
                    continue
                if not accounts:
                    n["unknown_account"] += 1
                    continue
                when = parse_time(value.timestamp) or change.time or doc["received_at"]
                for acc in accounts:
                    c = comment_store.CommentIn(
                        account_id=acc["_id"], tenant_id=acc["tenant_id"], comment_id=value.id,
                        text=value.text,
                        from_id=value.from_.id if value.from_ else None,
                        from_username=value.from_.username if value.from_ else None,
                        media_id=value.media.id if value.media else None,
                        media_product_type=value.media.media_product_type if value.media else None,
                        parent_id=value.parent_id, timestamp=when,
                        live=change.field == "live_comments", source="webhook",
                    )
                    key = comment_store.doc_id(c.account_id, c.comment_id)
                    upserts.pop(key, None)  # re-insert: the later delivery's data is written
                    upserts[key] = c
                    source_event[key] = doc["_id"]
                n[change.field] += 1
            elif change.field == MENTION_FIELD:
                try:
                    mention = MentionValue.model_validate(change.value)
                except ValidationError:
                    n["invalid_value"] += 1
                    continue
                if not accounts:
                    n["unknown_account"] += 1
                    continue
                for acc in accounts:
                    await queue.enqueue(
                        services.redis, queue.COMMENTS_RESOLVE_MENTION, acc["_id"], mention.media_id,
                        mention.comment_id,
                        job_id=queue.mention_job_id(acc["_id"], mention.media_id, mention.comment_id),
                    )
                n["mentions"] += 1
            else:
                n["unknown_field"] += 1
    comments = list(upserts.values())
    new = await comment_store.upsert_many(services.store, comments)
    # Events for every comment of the batch, not only the new ones: a run that died after the
    # upsert must still emit; event keys make the repeats no-ops.
    await emit_comment_events(services, comments)
    for c in new:
        counts[source_event[comment_store.doc_id(c.account_id, c.comment_id)]]["comments_new"] += 1
    results = {eid: {**n, "comments_new": n["comments_new"]} for eid, n in counts.items()}
    await webhook_events.mark_processed_many(services.store, claim, results)
    for eid, n in counts.items():
        if n["unknown_account"] or n["unknown_field"] or n["invalid_body"]:
            log.info("webhook event had unknown parts", event_id=eid, **n)
    return results


_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


async def drain(ctx: dict[str, Any]) -> dict[str, int]:
    """Claim pending events in pages of ``DRAIN_BATCH`` and process each page together, until
    none are left or the time budget is spent (then a follow-up drain takes over).

    One drain works at a time (a Redis lease): drains that start together would otherwise all
    read the same pending page and all but one would find it taken. A drain that finds the lease
    held leaves a "wanted" mark and returns; the holder looks for the mark after its last page
    and again after releasing, so the events that drain was queued for are never left behind.
    The lease expires if its holder dies; its claimed events then wait for the sweeper.
    """
    services: Services = ctx["services"]
    redis = services.redis
    lease, wanted = _drain_keys(services)
    token = webhook_events.new_claim_id()
    totals: Counter[str] = Counter()
    started = time.monotonic()
    await redis.set(wanted, 1, px=int(DRAIN_LEASE_SECONDS * 10_000))  # expiry only against litter
    while await redis.set(lease, token, nx=True, px=int(DRAIN_LEASE_SECONDS * 1000)):
        try:
            while await redis.getdel(wanted) is not None:
                if not await _drain_pages(services, totals, started, lease):
                    return dict(totals)  # handed over to a follow-up drain
        finally:
            await redis.eval(_RELEASE, 1, lease, token)
        if not await redis.exists(wanted):
            break
    else:
        totals["lease_busy"] += 1
    return dict(totals)


def _drain_keys(services: Services) -> tuple[str, str]:
    base = f"{services.settings.queue_name}:webhooks:drain"
    return f"{base}:lease", f"{base}:wanted"


async def _drain_pages(services: Services, totals: Counter[str], started: float, lease: str) -> bool:
    """Claim and process pages until a page is not full. False when the budget ran out first
    (a follow-up drain is queued)."""
    while True:
        claim = webhook_events.new_claim_id()
        docs, more = await webhook_events.claim_pending(services.store, claim, limit=DRAIN_BATCH)
        if docs:
            results = await process_batch(services, docs, claim)
            totals["batches"] += 1
            totals["events"] += len(docs)
            totals["comments_new"] += sum(r.get("comments_new", 0) for r in results.values())
            await services.redis.pexpire(lease, int(DRAIN_LEASE_SECONDS * 1000))
        if not more:
            return True
        if time.monotonic() - started > DRAIN_BUDGET_SECONDS:
            await queue.enqueue(
                services.redis, queue.WEBHOOKS_DRAIN, job_id=queue.webhook_drain_follow_up_job_id(claim)
            )
            totals["handed_over"] += 1
            return False


async def process_event(ctx: dict[str, Any], event_id: str) -> dict[str, int] | str:
    """Process one stored event now, whatever its claim (a replay, or a job queued before drains
    existed). Same work as a drain of one."""
    services: Services = ctx["services"]
    claim = webhook_events.new_claim_id()
    doc = await webhook_events.claim_one(services.store, event_id, claim)
    if doc is None:
        return "missing" if await webhook_events.get(services.store, event_id) is None else "already_processed"
    return (await process_batch(services, [doc], claim))[event_id]


async def sweep(ctx: dict[str, Any]) -> int:
    """Crash safety: release claims older than the configured delay (their run died) and queue a
    drain when such events, or events pending that long (their enqueue was lost), exist."""
    services: Services = ctx["services"]
    now = datetime.now(UTC)
    older_than = now - timedelta(seconds=services.settings.webhook_sweep_after_seconds)
    released = await webhook_events.release_stale(services.store, older_than=older_than)
    if released or await webhook_events.has_pending(services.store, older_than=older_than):
        await queue.enqueue(services.redis, queue.WEBHOOKS_DRAIN, job_id=queue.webhook_sweep_drain_job_id(now))
        log.warning("webhook events left behind: drain enqueued by the sweeper", released_claims=released)
        return released or 1
    return 0


# --- subscriptions -----------------------------------------------------------------------------
async def _set_subscription(services: Services, account_id: str, state: dict[str, Any]) -> None:
    await services.store.accounts.update_one(
        {"_id": account_id}, {"$set": {"webhook_subscription": {**state, "at": datetime.now(UTC)}}}
    )


async def subscribe(ctx: dict[str, Any], account_id: str) -> str:
    services: Services = ctx["services"]
    account = await account_store.get(services.store, account_id)
    if account is None:
        return "missing"
    try:
        access = access_for(account, services.settings, services.cipher)
    except AccountUnavailable:
        return "unavailable"
    fields = services.settings.webhook_subscribed_fields
    try:
        await subscriptions.subscribe(services.graph, access, fields)
    except (GraphError, RateLimited, TransportError) as exc:
        retry = await platform_errors.handle(services, ctx, exc, account_id, max_tries=MAX_TRIES)
        if retry is not None:
            raise retry from None
        await _set_subscription(services, account_id, {"status": "failed", "fields": fields, "error": str(exc)})
        return "failed"
    await _set_subscription(services, account_id, {"status": "subscribed", "fields": fields, "error": None})
    return "subscribed"


async def unsubscribe(ctx: dict[str, Any], account_id: str, token_ciphertext: str | None = None) -> str:
    """Remove the app's subscription for the account. The disconnect has already dropped the
    account's token, so this works only when the caller handed the (encrypted) token over."""
    services: Services = ctx["services"]
    account = await account_store.get(services.store, account_id)
    if account is None:
        return "missing"
    ciphertext = token_ciphertext or (account.get("token") or {}).get("ciphertext")
    if not ciphertext:
        await _set_subscription(
            services, account_id,
            {"status": "unsubscribe_skipped", "fields": [], "error": "token already dropped"},
        )
        return "skipped"
    access = access_for(
        {**account, "status": "active", "token": {"ciphertext": ciphertext}}, services.settings, services.cipher
    )
    try:
        await subscriptions.unsubscribe(services.graph, access)
    except (GraphError, RateLimited, TransportError) as exc:
        attempt = int(ctx.get("job_try", 1))
        retry = retry_for(exc, attempt, base=services.settings.retry_backoff_base_seconds, max_tries=MAX_TRIES)
        if retry is not None:
            raise retry from None
        await _set_subscription(services, account_id, {"status": "unsubscribe_failed", "fields": [], "error": str(exc)})
        return "failed"
    await _set_subscription(services, account_id, {"status": "unsubscribed", "fields": [], "error": None})
    return "unsubscribed"


def functions(_settings: Settings) -> list[Function]:
    return [
        # keep_result=0: ~10 drain ids a second would otherwise pile up as results in Redis
        func(drain, name=queue.WEBHOOKS_DRAIN, max_tries=MAX_TRIES, keep_result=0),
        func(process_event, name=queue.WEBHOOKS_PROCESS_EVENT, max_tries=MAX_TRIES),
        func(subscribe, name=queue.WEBHOOKS_SUBSCRIBE, max_tries=MAX_TRIES + 1),
        # keep_result=0: its argument is the dropped (encrypted) token; keep no copy in Redis
        func(unsubscribe, name=queue.WEBHOOKS_UNSUBSCRIBE, max_tries=MAX_TRIES + 1, keep_result=0),
    ]


def cron_jobs(settings: Settings) -> list[CronJob]:
    every = max(1, settings.webhook_sweep_cron_minutes)
    minutes = set(range(0, 60, every)) if every < 60 else {3}
    return [cron(sweep, name=queue.WEBHOOKS_SWEEP, minute=minutes, unique=True, run_at_startup=False)]
