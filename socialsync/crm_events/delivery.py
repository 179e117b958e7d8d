"""Pushing CRM events (job ``events.deliver``) and the log of every attempt (``crm_deliveries``).

One POST of the ledger payload ``{"seq", "id", "type", "created_at", "data"}`` (the same body
``GET /v1/events`` returns) to the tenant's registered URL, signed (``signing.py``). Any 2xx is
success; anything else is retried with exponential backoff until ``crm_event_retry_hours`` after
the event, then the event is marked ``failed`` (a CRM can still pull it from the ledger).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
from pydantic import BaseModel
from pymongo import ReturnDocument

from socialsync import outbound, retry
from socialsync.context import Services
from socialsync.crm_events import ledger
from socialsync.crm_events.outbox import COLLECTION, wants
from socialsync.crm_events.signing import SIGNATURE_HEADER, sign
from socialsync.logs import get_logger
from socialsync.store import Store
from socialsync.store import webhook_endpoints
from socialsync import clock

log = get_logger(__name__)
DELIVERIES = "crm_deliveries"
DELIVERY_LOG_TTL = timedelta(days=30)
BACKOFF_CAP_SECONDS = 3600.0
UNNUMBERED_RETRY_SECONDS = 0.3


async def ensure_indexes(store: Store) -> None:
    await store[DELIVERIES].create_index([("tenant_id", 1), ("at", -1), ("_id", -1)])
    await store[DELIVERIES].create_index("expires_at", expireAfterSeconds=0)


def backoff_seconds(attempt: int, base: float) -> float:
    """Exponential with jitter in [½, 1] of min(cap, base·2^(attempt-1))."""
    return retry.backoff_seconds(attempt, base, BACKOFF_CAP_SECONDS, min_share=0.5)


class DeliveryOutcome(BaseModel):
    status: Literal["delivered", "retry", "failed", "skipped", "missing"]
    retry_in: float | None = None


async def deliver(services: Services, eid: str) -> DeliveryOutcome:
    """One delivery attempt of a recorded event. ``retry`` means: call again in ``retry_in``."""
    store = services.store
    settings = services.settings
    event = await store[COLLECTION].find_one({"_id": eid})
    if event is None:
        return DeliveryOutcome(status="missing")
    state = event.get("delivery", {})
    if state.get("status") not in ("pending",):
        return DeliveryOutcome(status="skipped")
    # Retries are due by the service's clock (a test's clock may run a day in seconds): a job
    # that runs early (a re-enqueue of an event already waiting for its next attempt) waits for its turn.
    due = state.get("next_attempt_at")
    if due is not None and state.get("attempts") and (early := (due - clock.now()).total_seconds()) > 0:
        return DeliveryOutcome(status="retry", retry_in=clock.real_seconds(early))
    if event.get("seq") is None:  # pushed with its ledger number, so wait for it
        await ledger.request_sequencing(services, [event["tenant_id"]])
        return DeliveryOutcome(status="retry", retry_in=UNNUMBERED_RETRY_SECONDS)
    endpoint = await webhook_endpoints.get(store, event["tenant_id"])
    if not wants(endpoint, event["type"]):
        await store[COLLECTION].update_one({"_id": eid}, {"$set": {"delivery.status": "no_endpoint"}})
        return DeliveryOutcome(status="skipped")
    assert endpoint is not None
    body = json.dumps(ledger.payload(event), separators=(",", ":"), default=str).encode()
    now = time.time()
    secret = webhook_endpoints.secret_of(endpoint, services.cipher)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret, int(now), body),
        "X-Socialsync-Event-Id": eid,
        "X-Socialsync-Event-Type": event["type"],
        "X-Socialsync-Event-Seq": str(event["seq"]),
    }
    attempt = int(state.get("attempts", 0)) + 1
    status_code: int | None = None
    error: str | None = None
    started = time.perf_counter()
    try:
        response = await outbound.post(  # vetted, pinned address; redirects not followed
            services.http, endpoint["url"], settings, content=body, headers=headers,
            timeout=settings.crm_event_timeout_seconds,
        )
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except outbound.DestinationRefused as exc:
        error = f"destination refused: {exc}"
    except httpx.HTTPError as exc:
        error = type(exc).__name__
    at = clock.now()
    await store[DELIVERIES].update_one(
        {"_id": f"{eid}:{attempt}"},
        {
            "$setOnInsert": {
                "tenant_id": event["tenant_id"],
                "event_id": eid,
                "event_type": event["type"],
                "attempt": attempt,
                "url": endpoint["url"],
                "status_code": status_code,
                "error": error,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "at": at,
                "expires_at": at + DELIVERY_LOG_TTL,
            }
        },
        upsert=True,
    )
    if error is None:
        await store[COLLECTION].update_one(
            {"_id": eid},
            {"$set": {"delivery.status": "delivered", "delivery.attempts": attempt, "delivery.delivered_at": at}},
        )
        return DeliveryOutcome(status="delivered")
    delay = backoff_seconds(attempt, settings.crm_event_backoff_base_seconds)
    # An operator's resend (socialsync.operations) opens a new retry window from that moment.
    deadline = (state.get("window_from") or event["created_at"]) + timedelta(hours=settings.crm_event_retry_hours)
    next_at = at + timedelta(seconds=delay)
    if next_at > deadline:
        await store[COLLECTION].update_one(
            {"_id": eid},
            {"$set": {"delivery.status": "failed", "delivery.attempts": attempt, "delivery.last_error": error}},
        )
        log.warning("CRM event given up", event_id=eid, attempts=attempt, error=error)
        return DeliveryOutcome(status="failed")
    await store[COLLECTION].update_one(
        {"_id": eid},
        {"$set": {"delivery.attempts": attempt, "delivery.next_attempt_at": next_at, "delivery.last_error": error}},
    )
    return DeliveryOutcome(status="retry", retry_in=clock.real_seconds(delay))


async def reopen_failed(store: Store, event_id: str, *, tenant_id: str | None, now: datetime
                        ) -> tuple[dict[str, Any] | None, str | None]:
    """An operator's resend: a failed event becomes pending with an attempt due ``now`` and a new
    retry window from then. (the event, None) when reopened; (None, its delivery status) when
    it is not failed; (None, None) when there is no such event (of that tenant)."""
    query: dict[str, Any] = {"_id": event_id}
    if tenant_id is not None:
        query["tenant_id"] = tenant_id
    doc = await store[COLLECTION].find_one_and_update(
        {**query, "delivery.status": "failed"},
        {"$set": {"delivery.status": "pending", "delivery.next_attempt_at": now, "delivery.resent_at": now,
                  "delivery.window_from": now},
         "$inc": {"delivery.resends": 1}},
        return_document=ReturnDocument.AFTER,
    )
    if doc is not None:
        return doc, None
    current = await store[COLLECTION].find_one(query, {"delivery.status": 1})
    return None, (current["delivery"]["status"] if current else None)


class DeliveryOut(BaseModel):
    id: str
    event_id: str
    event_type: str
    attempt: int
    url: str
    status_code: int | None = None
    error: str | None = None
    duration_ms: float
    at: datetime

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "DeliveryOut":
        return cls(id=doc["_id"], **{k: v for k, v in doc.items() if k in cls.model_fields and k != "id"})


async def list_deliveries(
    store: Store, tenant_id: str, *, limit: int, cursor: tuple[datetime, str] | None
) -> list[dict[str, Any]]:
    """The tenant's delivery attempts, newest first; cursor = (at, _id) of the last one seen."""
    query: dict[str, Any] = {"tenant_id": tenant_id}
    if cursor:
        at, last = cursor
        query["$or"] = [{"at": {"$lt": at}}, {"at": at, "_id": {"$lt": last}}]
    found = store[DELIVERIES].find(query).sort([("at", -1), ("_id", -1)]).limit(limit)
    return [d async for d in found]
