"""Raw webhook deliveries of every source (``source``: meta, tiktok, youtube…): kept before the
platform gets its 200, processed by the worker's one drain, expired by TTL.

One document per distinct body of a source (``_id`` = hash of the raw bytes): a byte-identical
re-delivery lands on the same document. Different deliveries carrying the same comment are absorbed later,
by the comment's own key. The raw body is kept as received (a string), so a processing bug can be
fixed and the event replayed; field names Meta may add can never clash with MongoDB's rules.

States: ``pending`` (stored, waiting; ``queued`` is the same state as the previous release
wrote it for TikTok/YouTube deliveries: `adopt_legacy_queued` turns those into ``pending``) → ``processed`` (with per-event ``result`` counts and the
``page`` of the drain that processed it), or ``failed`` when processing it raised (a bug; kept
with the error for a replay). Work in progress is not written per event: one drain
at a time holds a lease in Redis (worker/jobs/webhooks.py); if it dies, its events are still
``pending`` and the next drain, or the sweeper's, processes them again (idempotently).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from socialsync.store import Store
from socialsync.store.migrations import LEGACY_SOURCE
from socialsync import clock

COLLECTION = "webhook_events"
PENDING = "pending"
FAILED = "failed"
PROCESSED = "processed"
LEGACY_QUEUED = "queued"  # the previous release's pending state of interface-platform deliveries


def event_id(body: bytes, source: str = LEGACY_SOURCE) -> str:
    """Per source. The ids of the previous release's only source (LEGACY_SOURCE) hash the body
    alone; other sources' are ``<source>:whe_<hash>``, the form their deliveries were stored under before the
    one inbox, so a re-delivery across the upgrade is still absorbed."""
    digest = "whe_" + hashlib.sha256(body).hexdigest()[:32]
    return digest if source == LEGACY_SOURCE else f"{source}:{digest}"


async def ensure_indexes(store: Store) -> None:
    col = store[COLLECTION]
    await col.create_index("expires_at", expireAfterSeconds=0)
    await col.create_index([("status", 1), ("received_at", 1)])
    await col.create_index("accounts")


async def record(
    store: Store, body: bytes, *, accounts: list[str], fields: dict[str, int], ttl: timedelta,
    source: str = LEGACY_SOURCE, rejected: list[dict[str, Any]] | None = None, now: datetime | None = None,
) -> tuple[str, bool]:
    """Store a delivery durably. Returns (event id, needs processing): False when the same body
    was stored before and already processed. A plain insert in the usual case (an insert costs
    the MongoDB-wire server far less than an upsert); a re-delivery falls back to the upsert.
    ``rejected``: the changes that cannot be applied, with their reasons (for operators)."""
    eid = event_id(body, source)
    now = now or clock.now()
    new = {
        "source": source,
        "body": body.decode("utf-8"),
        "accounts": accounts,
        "fields": fields,
        "rejected": rejected or [],
        "status": PENDING,
        "received_at": now,
        "expires_at": now + ttl,
    }
    try:
        await store[COLLECTION].insert_one({"_id": eid, **new, "deliveries": 1})
        return eid, True
    except DuplicateKeyError:
        pass
    before = await store[COLLECTION].find_one_and_update(
        {"_id": eid},
        {"$setOnInsert": new, "$inc": {"deliveries": 1}},
        upsert=True,
        return_document=ReturnDocument.BEFORE,
        projection={"status": 1},
    )
    return eid, before is None or before.get("status") != PROCESSED


async def get(store: Store, eid: str) -> dict[str, Any] | None:
    return await store[COLLECTION].find_one({"_id": eid})


def new_page_id() -> str:
    return "pg_" + secrets.token_hex(8)


async def pending_page(store: Store, *, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` pending events, oldest first, in one round trip (the drain that reads
    them holds the drain lease, so no per-event claim is written)."""
    found = store[COLLECTION].find({"status": PENDING}, {"_id": 1, "body": 1, "received_at": 1, "source": 1})
    return [d async for d in found.sort("received_at", 1).limit(limit)]


async def mark_processed(store: Store, eid: str, result: dict[str, Any]) -> None:
    await store[COLLECTION].update_one(
        {"_id": eid},
        {"$set": {"status": PROCESSED, "processed_at": clock.now(), "result": result}},
    )


async def mark_processed_many(
    store: Store, page: str, results: dict[str, dict[str, Any]],
    details: dict[str, list[dict[str, Any]]] | None = None,
) -> int:
    """Mark a processed page of events, each with its own result counts and the page id: one
    update_many per distinct result (a burst of one-comment deliveries shares one). ``details``:
    per event, what each change other than a comment came to (``results``: applied / rejected),
    written one event at a time (such events are few)."""
    groups: dict[tuple[tuple[str, Any], ...], list[str]] = {}
    now = clock.now()
    written = 0
    for eid, items in (details or {}).items():
        done = await store[COLLECTION].update_one({"_id": eid}, {"$set": {
            "status": PROCESSED, "processed_at": now, "result": results.get(eid, {}), "results": items,
            "page": page}})
        written += done.modified_count
    for eid, result in results.items():
        if eid not in (details or {}):
            groups.setdefault(tuple(sorted(result.items())), []).append(eid)
    for result_items, ids in groups.items():
        done = await store[COLLECTION].update_many(
            {"_id": {"$in": ids}},
            {"$set": {"status": PROCESSED, "processed_at": now, "result": dict(result_items), "page": page}},
        )
        written += done.modified_count
    return written


async def mark_failed(store: Store, eid: str, error: str) -> None:
    """An event whose processing raised (a bug, not an outage): out of the pending pages, kept
    with the error for a replay (``webhooks.process_event``) once fixed."""
    await store[COLLECTION].update_one(
        {"_id": eid, "status": PENDING},
        {"$set": {"status": FAILED, "failed_at": clock.now(), "error": error}},
    )


async def adopt_legacy_queued(store: Store) -> int:
    """Deliveries the previous release stored as ``queued`` (and never processed) join the one
    inbox as ``pending``; the drain processes them like any other."""
    done = await store[COLLECTION].update_many({"status": LEGACY_QUEUED}, {"$set": {"status": PENDING}})
    return done.modified_count


async def has_pending(store: Store, *, older_than: datetime | None = None) -> bool:
    query: dict[str, Any] = {"status": PENDING}
    if older_than is not None:
        query["received_at"] = {"$lte": older_than}
    return await store[COLLECTION].find_one(query, {"_id": 1}) is not None


async def requeue_failed(store: Store, eid: str) -> tuple[dict[str, Any] | None, str | None]:
    """A failed event back to pending (an operator's reprocess). Returns (the event without its
    body, None) or (None, its current status) — status None when there is no such event."""
    doc = await store[COLLECTION].find_one_and_update(
        {"_id": eid, "status": FAILED},
        {"$set": {"status": PENDING, "reprocess_requested_at": clock.now()}, "$inc": {"reprocessed": 1}},
        return_document=ReturnDocument.AFTER, projection={"body": 0},
    )
    if doc is not None:
        return doc, None
    current = await store[COLLECTION].find_one({"_id": eid}, {"status": 1})
    return None, None if current is None else current["status"]
