"""The event ledger: every CRM event gets a per-tenant, strictly increasing sequence number, so a
CRM can pull ``GET /v1/events?after=<seq>`` beside (or instead of) the push.

Why numbers are given by a *sequencer* and not at insert time: with several processes, "take the
next number, then insert" lets process B's event 8 become visible before process A's event 7; a
CRM that pulled 8 would never see 7. Here an event is first recorded without a number (the
outbox), then a sequencer numbers the tenant's unnumbered events, oldest first, in one MongoDB
transaction that increments the tenant's counter document and sets ``seq`` on each event. Two
sequencers of the same tenant both write the counter document, so the database serializes them
(a write conflict aborts one, which then retries): numbers become visible in the order they are
given, and a reader that sees ``n`` has seen everything below ``n``. A per-tenant Redis lock only
keeps the sequencers from colliding (speed); the transaction is what makes it correct, also when a
lock holder was paused past its lease. Requires a replica set (transactions, majority commits).

Who sequences: the job ``events.sequence`` (one per tenant and 100 ms bucket, queued by the code
that records events and by a delivery that finds its event unnumbered), and the worker's sweep
every minute (an emitter that died between insert and enqueue). Not inline where events are
recorded: a process killed inside the transaction leaves it open until the server's transaction
lifetime limit (MongoDB's ``transactionLifetimeLimitSeconds``, 60 s by default) and the tenant's
numbering waits that long; in a job that delays only the ledger and the push, never the webhook
drain that records comments. Events are numbered within ~0.1-0.5 s of being recorded. Numbers
are never reused; events erased for privacy leave gaps.

Retention: ``crm_event_retention_days`` (default 30). The prune job deletes the numbered events
older than that and raises the tenant's ``pruned_through``; a pull with ``after`` below it is told
``after_expired`` (events were dropped that it never saw).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pymongo
from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import PyMongoError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern
from redis.exceptions import LockError

from socialsync import queue
from socialsync.context import Services
from socialsync.logs import get_logger
from socialsync.store import Store
from socialsync import clock

log = get_logger(__name__)
COLLECTION = "crm_events"
COUNTERS = "crm_event_counters"
BATCH = 500
LOCK_SECONDS = 30.0
LOCK_WAIT_SECONDS = 5.0
MAX_RACES = 5
# A worker killed inside a numbering transaction leaves it open until the server's transaction
# lifetime limit (60 s): give up on the tenant after this long and let the job retry later.
TRANSACTION_SECONDS = 10.0
SEQUENCE_JOB = "events.sequence"
SEQUENCE_BUCKET_SECONDS = 0.1


class _Busy(Exception):
    """The tenant's numbering could not commit in time (an abandoned transaction holds it)."""


class _Raced(Exception):
    """An event picked for numbering was numbered or erased meanwhile: abort and start over."""


async def ensure_indexes(store: Store) -> None:
    # Serves both the pull (tenant, seq > n, by seq) and the sequencer (tenant, seq null, oldest first).
    await store[COLLECTION].create_index([("tenant_id", 1), ("seq", 1), ("created_at", 1), ("pos", 1), ("_id", 1)])


def payload(doc: dict[str, Any]) -> dict[str, Any]:
    """The event as the CRM sees it, pushed and pulled alike."""
    return {
        "seq": doc.get("seq"),
        "id": doc["_id"],
        "type": doc["type"],
        "created_at": doc["created_at"].astimezone(UTC).isoformat(),
        "data": doc["data"],
    }


def sequence_job(tenant_id: str, now: float) -> tuple[str, float]:
    """(job id, defer seconds) of the numbering job covering events recorded before ``now``: one
    per tenant and short bucket, deferred to the bucket's end, so a burst queues few jobs and the
    job sees every event whose enqueue was refused because the id existed."""
    bucket = int(now / SEQUENCE_BUCKET_SECONDS)
    return f"events:sequence:{tenant_id}:{bucket}", max(0.0, (bucket + 1) * SEQUENCE_BUCKET_SECONDS - now)


async def request_sequencing(services: Services, tenant_ids: list[str]) -> None:
    now = time.time()
    for tenant_id in tenant_ids:
        job_id, defer = sequence_job(tenant_id, now)
        await queue.enqueue(services.redis, SEQUENCE_JOB, tenant_id, job_id=job_id, defer_seconds=defer)


async def sequence(services: Services, tenant_id: str, *, wait_seconds: float = LOCK_WAIT_SECONDS) -> int | None:
    """Number the tenant's unnumbered events, oldest first. Returns how many were numbered, or
    None when another process held the tenant's lock for longer than ``wait_seconds`` or the
    transaction could not commit within TRANSACTION_SECONDS (try again later)."""
    store = services.store
    if await store[COLLECTION].find_one({"tenant_id": tenant_id, "seq": None}, {"_id": 1}) is None:
        return 0
    lock = services.redis.lock(
        f"crm_events:sequence:{tenant_id}", timeout=LOCK_SECONDS, blocking_timeout=wait_seconds
    )
    if not await lock.acquire():
        return None
    total = 0
    try:
        while True:
            try:
                numbered = await _sequence_batch(store, tenant_id)
            except _Busy:
                log.warning("CRM event numbering blocked; retrying later", tenant_id=tenant_id)
                return None
            total += numbered
            if numbered < BATCH:
                return total
    finally:
        try:
            await lock.release()
        except LockError:  # expired meanwhile: the transaction kept the numbers right anyway
            log.warning("CRM event sequencer outlived its lock", tenant_id=tenant_id)


async def _sequence_batch(store: Store, tenant_id: str) -> int:
    events = store[COLLECTION]

    async def numbering(session: Any) -> int:  # noqa: ANN401 - AsyncClientSession
        found = events.find({"tenant_id": tenant_id, "seq": None}, {"_id": 1}, session=session)
        ids = [d["_id"] async for d in found.sort([("created_at", 1), ("pos", 1), ("_id", 1)]).limit(BATCH)]
        if not ids:
            return 0
        counter = await store[COUNTERS].find_one_and_update(
            {"_id": tenant_id}, {"$inc": {"seq": len(ids)}}, upsert=True,
            return_document=ReturnDocument.AFTER, session=session,
        )
        first = int(counter["seq"]) - len(ids) + 1
        result = await events.bulk_write(
            [UpdateOne({"_id": eid, "seq": None}, {"$set": {"seq": first + k}}) for k, eid in enumerate(ids)],
            ordered=True, session=session,
        )
        if result.modified_count != len(ids):
            raise _Raced
        return len(ids)

    for _ in range(MAX_RACES):
        try:
            with pymongo.timeout(TRANSACTION_SECONDS):  # bounds with_transaction's retries too
                async with store.client.start_session() as session:
                    return int(await session.with_transaction(
                        numbering, read_concern=ReadConcern("snapshot"), write_concern=WriteConcern("majority"),
                    ))
        except _Raced:
            continue
        except PyMongoError as exc:
            if exc.timeout:
                raise _Busy from exc
            raise
    return 0


async def sequence_pending(services: Services) -> int:
    """The sweep: number every tenant's leftovers (an emitter died between insert and numbering)."""
    tenants = await services.store[COLLECTION].distinct("tenant_id", {"seq": None})
    return sum([await sequence(services, t) or 0 for t in tenants])


async def read_after(store: Store, tenant_id: str, after: int, limit: int) -> tuple[list[dict[str, Any]], int, int]:
    """(up to ``limit`` + 1 events numbered above ``after``, in order; pruned_through; last seq).
    Majority reads: what is returned cannot be rolled back by a primary failover."""
    events = store[COLLECTION].with_options(read_concern=ReadConcern("majority"))
    counters = store[COUNTERS].with_options(read_concern=ReadConcern("majority"))
    counter = await counters.find_one({"_id": tenant_id}) or {}
    found = events.find({"tenant_id": tenant_id, "seq": {"$gt": after}}).sort("seq", 1).limit(limit + 1)
    return [d async for d in found], int(counter.get("pruned_through", 0)), int(counter.get("seq", 0))


async def prune(store: Store, retention_days: float, *, now: datetime | None = None) -> int:
    """Delete numbered events older than the retention; remember the highest number dropped."""
    cutoff = (now or clock.now()) - timedelta(days=retention_days)
    pipeline = [
        {"$match": {"created_at": {"$lt": cutoff}, "seq": {"$ne": None}}},
        {"$group": {"_id": "$tenant_id", "through": {"$max": "$seq"}}},
    ]
    deleted = 0
    async for row in await store[COLLECTION].aggregate(pipeline):
        tenant_id, through = row["_id"], int(row["through"])
        # The mark first: a crash after it leaves old events readable, never a silent hole.
        await store[COUNTERS].update_one({"_id": tenant_id}, {"$max": {"pruned_through": through}}, upsert=True)
        result = await store[COLLECTION].delete_many({"tenant_id": tenant_id, "seq": {"$ne": None, "$lte": through}})
        deleted += result.deleted_count
    return deleted
