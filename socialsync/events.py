"""Events for the CRM (``comment.created``, ``account.needs_reconnect``, ``post.published``…),
written to an outbox collection first and delivered by the worker (job ``events.deliver``).

Writing the event and delivering it are separate on purpose: the code that causes an event only
records it (idempotently, keyed by ``event_key``), so a crash between the cause and the delivery
loses nothing, and re-running a job does not send the same event twice.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from socialsync import queue
from socialsync.context import Services
from socialsync.store import Store

COLLECTION = "crm_events"


def event_id(tenant_id: str, event_key: str) -> str:
    return "evt_" + hashlib.sha256(f"{tenant_id}\0{event_key}".encode()).hexdigest()[:24]


async def ensure_indexes(store: Store) -> None:
    await store[COLLECTION].create_index([("tenant_id", 1), ("created_at", -1)])
    await store[COLLECTION].create_index([("delivery.status", 1), ("delivery.next_attempt_at", 1)])


async def emit(
    services: Services, tenant_id: str, event_type: str, data: dict[str, Any], *, event_key: str
) -> str:
    """Record an event for the tenant and queue its delivery. Idempotent per ``event_key``
    (e.g. ``post.published:{post_id}``): emitting twice stores and delivers it once."""
    eid = event_id(tenant_id, event_key)
    now = datetime.now(UTC)
    await services.store[COLLECTION].update_one(
        {"_id": eid},
        {
            "$setOnInsert": {
                "tenant_id": tenant_id,
                "type": event_type,
                "data": data,
                "created_at": now,
                "delivery": {"status": "pending", "attempts": 0, "next_attempt_at": now},
            }
        },
        upsert=True,
    )
    await queue.enqueue(services.redis, queue.EVENTS_DELIVER, eid, job_id=queue.event_delivery_job_id(eid))
    return eid
