"""Raw Meta webhook deliveries: kept before Meta gets its 200, processed by the worker, expired by TTL.

One document per distinct body (``_id`` = hash of the raw bytes): a byte-identical re-delivery
lands on the same document. Different deliveries carrying the same comment are absorbed later,
by the comment's own key. The raw body is kept as received (a string), so a processing bug can be
fixed and the event replayed; field names Meta may add can never clash with MongoDB's rules.

States: ``pending`` (stored, waiting) → ``processing`` (claimed by one drain run: ``claim``,
``claimed_at``) → ``processed`` (with per-event ``result`` counts). A claim whose run died is
released back to ``pending`` by the sweeper after the configured delay.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument

from socialsync.store import Store

COLLECTION = "webhook_events"
PENDING = "pending"
PROCESSING = "processing"
PROCESSED = "processed"


def event_id(body: bytes) -> str:
    return "whe_" + hashlib.sha256(body).hexdigest()[:32]


async def ensure_indexes(store: Store) -> None:
    col = store[COLLECTION]
    await col.create_index("expires_at", expireAfterSeconds=0)
    await col.create_index([("status", 1), ("received_at", 1)])
    await col.create_index("accounts")


async def record(
    store: Store, body: bytes, *, accounts: list[str], fields: dict[str, int], ttl: timedelta
) -> tuple[str, bool]:
    """Store a delivery durably. Returns (event id, needs processing): False when the same body
    was stored before and already processed."""
    eid = event_id(body)
    now = datetime.now(UTC)
    before = await store[COLLECTION].find_one_and_update(
        {"_id": eid},
        {
            "$setOnInsert": {
                "body": body.decode("utf-8"),
                "accounts": accounts,
                "fields": fields,
                "status": PENDING,
                "received_at": now,
                "expires_at": now + ttl,
            },
            "$inc": {"deliveries": 1},
        },
        upsert=True,
        return_document=ReturnDocument.BEFORE,
        projection={"status": 1},
    )
    return eid, before is None or before.get("status") != PROCESSED


async def get(store: Store, eid: str) -> dict[str, Any] | None:
    return await store[COLLECTION].find_one({"_id": eid})


def new_claim_id() -> str:
    return "clm_" + secrets.token_hex(8)


async def claim_pending(store: Store, claim: str, *, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Claim up to ``limit`` pending events, oldest first, for one processing run.

    Returns (the claimed documents, more): ``more`` is True when the page of pending events was
    full, so others may be waiting. Three MongoDB round trips whatever the page size: the ids of
    the oldest pending events, one update_many flipping them ``pending`` → ``processing`` with
    the claim id (it only matches documents still ``pending``, so each event goes to one run
    even when drains run concurrently), then the bodies of those this run won.
    """
    col = store[COLLECTION]
    ids = [d["_id"] async for d in col.find({"status": PENDING}, {"_id": 1}).sort("received_at", 1).limit(limit)]
    if not ids:
        return [], False
    result = await col.update_many(
        {"_id": {"$in": ids}, "status": PENDING},
        {"$set": {"status": PROCESSING, "claim": claim, "claimed_at": datetime.now(UTC)}, "$inc": {"claims": 1}},
    )
    docs: list[dict[str, Any]] = []
    if result.modified_count:
        found = col.find({"_id": {"$in": ids}, "claim": claim}, {"_id": 1, "body": 1, "received_at": 1})
        docs = sorted([d async for d in found], key=lambda d: d["received_at"])
    return docs, len(ids) == limit


async def claim_one(store: Store, eid: str, claim: str) -> dict[str, Any] | None:
    """Claim one event whatever its state unless processed (a re-run of a single event)."""
    return await store[COLLECTION].find_one_and_update(
        {"_id": eid, "status": {"$ne": PROCESSED}},
        {"$set": {"status": PROCESSING, "claim": claim, "claimed_at": datetime.now(UTC)}, "$inc": {"claims": 1}},
        return_document=ReturnDocument.AFTER,
        projection={"_id": 1, "body": 1, "received_at": 1},
    )


async def mark_processed(store: Store, eid: str, result: dict[str, Any]) -> None:
    await store[COLLECTION].update_one(
        {"_id": eid},
        {"$set": {"status": PROCESSED, "processed_at": datetime.now(UTC), "result": result}},
    )


async def mark_processed_many(store: Store, claim: str, results: dict[str, dict[str, Any]]) -> int:
    """Mark a claimed batch processed, each event with its own result counts: one update_many per
    distinct result (a burst of one-comment deliveries shares one). Only events still held by
    ``claim`` are written (one the sweeper released and another run re-claimed is that run's to
    finish; the work is idempotent either way)."""
    groups: dict[tuple[tuple[str, Any], ...], list[str]] = {}
    for eid, result in results.items():
        groups.setdefault(tuple(sorted(result.items())), []).append(eid)
    now = datetime.now(UTC)
    written = 0
    for result_items, ids in groups.items():
        done = await store[COLLECTION].update_many(
            {"_id": {"$in": ids}, "claim": claim},
            {"$set": {"status": PROCESSED, "processed_at": now, "result": dict(result_items)}},
        )
        written += done.modified_count
    return written


async def release_stale(store: Store, *, older_than: datetime) -> int:
    """Claims taken before ``older_than`` and never completed (the run died): back to pending."""
    result = await store[COLLECTION].update_many(
        {"status": PROCESSING, "claimed_at": {"$lte": older_than}},
        {"$set": {"status": PENDING, "released_at": datetime.now(UTC)}, "$unset": {"claim": ""}},
    )
    return result.modified_count


async def has_pending(store: Store, *, older_than: datetime | None = None) -> bool:
    query: dict[str, Any] = {"status": PENDING}
    if older_than is not None:
        query["received_at"] = {"$lte": older_than}
    return await store[COLLECTION].find_one(query, {"_id": 1}) is not None
