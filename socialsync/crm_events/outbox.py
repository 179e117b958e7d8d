"""Recording CRM events: the outbox collection ``crm_events``.

The code that causes an event only records it (idempotently, keyed by ``event_key``), so a crash
between the cause and the delivery loses nothing, and re-running a job does not send the same
event twice. Recording queues the numbering of the tenant's new events (``ledger``, job
``events.sequence``) and, when the tenant's endpoint wants that type, the push delivery.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pymongo.errors import BulkWriteError

from socialsync import queue
from socialsync.context import Services
from socialsync.crm_events import ledger
from socialsync.store import Store
from socialsync.store import webhook_endpoints
from socialsync.store.migrations import platform_of
from socialsync import clock

COLLECTION = ledger.COLLECTION
EVENT_TYPES = (
    "comment.created",
    "account.needs_reconnect",
    "account.disconnected",
    "post.published",
    "post.failed",
)


def event_id(tenant_id: str, event_key: str) -> str:
    return "evt_" + hashlib.sha256(f"{tenant_id}\0{event_key}".encode()).hexdigest()[:24]


async def ensure_indexes(store: Store) -> None:
    await store[COLLECTION].create_index([("tenant_id", 1), ("created_at", -1)])
    await store[COLLECTION].create_index([("delivery.status", 1), ("delivery.next_attempt_at", 1)])
    await store[COLLECTION].create_index("data.account_id")


def wants(endpoint: dict[str, Any] | None, event_type: str) -> bool:
    if endpoint is None:
        return False
    events = endpoint.get("events") or ["*"]
    return "*" in events or event_type in events


def _document(
    tenant_id: str, event_type: str, data: dict[str, Any], now: datetime, deliver: bool, pos: int = 0
) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "type": event_type,
        "data": data,
        "created_at": now,
        "pos": pos,  # order among events recorded together (same created_at)
        "seq": None,  # given by ledger.sequence
        "delivery": {"status": "pending" if deliver else "no_endpoint", "attempts": 0, "next_attempt_at": now},
    }


async def emit(
    services: Services, tenant_id: str, event_type: str, data: dict[str, Any], *, event_key: str
) -> str:
    """Record an event for the tenant and queue its delivery. Idempotent per ``event_key``
    (e.g. ``post.published:{post_id}``): emitting twice stores and delivers it once.
    A tenant with no endpoint for this type gets the event recorded as ``no_endpoint``."""
    endpoint = await webhook_endpoints.get(services.store, tenant_id)
    deliver = wants(endpoint, event_type)
    eid = event_id(tenant_id, event_key)
    await services.store[COLLECTION].update_one(
        {"_id": eid},
        {"$setOnInsert": _document(tenant_id, event_type, data, clock.now(), deliver)},
        upsert=True,
    )
    await ledger.request_sequencing(services, [tenant_id])
    if deliver:  # also when the event existed: a crash may have come between store and enqueue
        await queue.enqueue(
            services.redis, queue.EVENTS_DELIVER, eid, job_id=queue.event_delivery_job_id(eid)
        )
    return eid


class EventIn(NamedTuple):
    """One event to record with :func:`record_many`."""

    tenant_id: str
    event_type: str
    data: dict[str, Any]
    event_key: str


async def record_many(services: Services, items: Sequence[EventIn]) -> list[str]:
    """:func:`emit` for many events at once, same outcome, a fixed number of round trips: one
    endpoint lookup for all tenants (``$in``), one unordered insert of the outbox records (each
    still idempotent per ``event_key``: a record that exists is kept as it is), one sequencing
    per tenant, then a delivery job only for events whose tenant has a matching endpoint.
    Returns the event ids in order."""
    if not items:
        return []
    store = services.store
    tenants = sorted({i.tenant_id for i in items})
    endpoints: dict[str, dict[str, Any]] = {
        doc["_id"]: doc async for doc in store[webhook_endpoints.COLLECTION].find({"_id": {"$in": tenants}})
    }
    now = clock.now()
    ids: list[str] = []
    deliver: dict[str, None] = {}  # ordered set of event ids to enqueue
    docs: dict[str, dict[str, Any]] = {}
    for item in items:
        eid = event_id(item.tenant_id, item.event_key)
        ids.append(eid)
        if eid in docs:
            continue
        wanted = wants(endpoints.get(item.tenant_id), item.event_type)
        if wanted:
            deliver[eid] = None
        docs[eid] = {"_id": eid, **_document(item.tenant_id, item.event_type, item.data, now, wanted, len(docs))}
    # Insert-only, like emit's $setOnInsert upsert: an event already recorded is left as it
    # is (duplicate-key errors are the "already there" answer; any other error is raised).
    try:
        await store[COLLECTION].insert_many(list(docs.values()), ordered=False)
    except BulkWriteError as exc:
        if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
            raise
    await ledger.request_sequencing(services, tenants)
    for eid in deliver:  # also when the event existed: a crash may have come between store and enqueue
        await queue.enqueue(services.redis, queue.EVENTS_DELIVER, eid, job_id=queue.event_delivery_job_id(eid))
    return ids


async def emit_account_event(services: Services, account_id: str, event_type: str) -> str | None:
    """``account.needs_reconnect`` / ``account.disconnected`` for the account's tenant, once per
    occurrence (keyed by the account's connect or disconnect time)."""
    account = await services.store.accounts.find_one({"_id": account_id})
    if account is None:
        return None
    moment = account.get("disconnected_at") if event_type == "account.disconnected" else account.get("connected_at")
    data = {
        "account_id": account_id,
        "platform": platform_of(account),
        "external_id": account.get("external_id"),
        "username": account.get("username"),
        "status": account.get("status"),
        "reason": account.get("status_reason"),
        "user_ref": account.get("user_ref"),
    }
    key = f"{event_type}:{account_id}:{moment.isoformat() if moment else ''}"
    return await emit(services, account["tenant_id"], event_type, data, event_key=key)
