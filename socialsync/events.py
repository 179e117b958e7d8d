"""Events for the CRM (``comment.created``, ``account.needs_reconnect``, ``post.published``…),
written to an outbox collection first and delivered by the worker (job ``events.deliver``).

Writing the event and delivering it are separate on purpose: the code that causes an event only
records it (idempotently, keyed by ``event_key``), so a crash between the cause and the delivery
loses nothing, and re-running a job does not send the same event twice.

Delivery: one POST of ``{"id", "type", "created_at", "data"}`` to the tenant's registered URL,
signed ``X-Socialsync-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`` (the
timestamp is signed too, so a receiver can refuse replays). Any 2xx is success; anything else is
retried with exponential backoff until ``crm_event_retry_hours`` after the event, then the event
is marked ``failed``. Every attempt is written to the delivery log (``crm_deliveries``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple

import httpx
from pydantic import BaseModel
from pymongo.errors import BulkWriteError

from socialsync import outbound, queue, retry
from socialsync.context import Services
from socialsync.logs import get_logger
from socialsync.store import Store
from socialsync.store import webhook_endpoints

log = get_logger(__name__)
COLLECTION = "crm_events"
DELIVERIES = "crm_deliveries"
SIGNATURE_HEADER = "X-Socialsync-Signature"
EVENT_TYPES = (
    "comment.created",
    "account.needs_reconnect",
    "account.disconnected",
    "post.published",
    "post.failed",
)
DELIVERY_LOG_TTL = timedelta(days=30)
BACKOFF_CAP_SECONDS = 3600.0


def event_id(tenant_id: str, event_key: str) -> str:
    return "evt_" + hashlib.sha256(f"{tenant_id}\0{event_key}".encode()).hexdigest()[:24]


async def ensure_indexes(store: Store) -> None:
    await store[COLLECTION].create_index([("tenant_id", 1), ("created_at", -1)])
    await store[COLLECTION].create_index([("delivery.status", 1), ("delivery.next_attempt_at", 1)])
    await store[COLLECTION].create_index("data.account_id")
    await store[DELIVERIES].create_index([("tenant_id", 1), ("at", -1), ("_id", -1)])
    await store[DELIVERIES].create_index("expires_at", expireAfterSeconds=0)


def wants(endpoint: dict[str, Any] | None, event_type: str) -> bool:
    if endpoint is None:
        return False
    events = endpoint.get("events") or ["*"]
    return "*" in events or event_type in events


async def emit(
    services: Services, tenant_id: str, event_type: str, data: dict[str, Any], *, event_key: str
) -> str:
    """Record an event for the tenant and queue its delivery. Idempotent per ``event_key``
    (e.g. ``post.published:{post_id}``): emitting twice stores and delivers it once.
    A tenant with no endpoint for this type gets the event recorded as ``no_endpoint``."""
    endpoint = await webhook_endpoints.get(services.store, tenant_id)
    return await _record(services, tenant_id, event_type, data, event_key, wants(endpoint, event_type))


async def _record(
    services: Services, tenant_id: str, event_type: str, data: dict[str, Any], event_key: str,
    deliver: bool,
) -> str:
    eid = event_id(tenant_id, event_key)
    now = datetime.now(UTC)
    status = "pending" if deliver else "no_endpoint"
    await services.store[COLLECTION].update_one(
        {"_id": eid},
        {
            "$setOnInsert": {
                "tenant_id": tenant_id,
                "type": event_type,
                "data": data,
                "created_at": now,
                "delivery": {"status": status, "attempts": 0, "next_attempt_at": now},
            }
        },
        upsert=True,
    )
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
    still idempotent per ``event_key``: a record that exists is kept as it is), then a delivery
    job only for events whose tenant has a matching endpoint. Returns the event ids in order."""
    if not items:
        return []
    store = services.store
    tenants = sorted({i.tenant_id for i in items})
    endpoints: dict[str, dict[str, Any]] = {
        doc["_id"]: doc async for doc in store[webhook_endpoints.COLLECTION].find({"_id": {"$in": tenants}})
    }
    now = datetime.now(UTC)
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
        docs[eid] = {
            "_id": eid,
            "tenant_id": item.tenant_id,
            "type": item.event_type,
            "data": item.data,
            "created_at": now,
            "delivery": {"status": "pending" if wanted else "no_endpoint", "attempts": 0, "next_attempt_at": now},
        }
    # Insert-only, like _record's $setOnInsert upsert: an event already recorded is left as it
    # is (duplicate-key errors are the "already there" answer; any other error is raised).
    try:
        await store[COLLECTION].insert_many(list(docs.values()), ordered=False)
    except BulkWriteError as exc:
        if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
            raise
    for eid in deliver:  # also when the event existed: a crash may have come between store and enqueue
        await queue.enqueue(services.redis, queue.EVENTS_DELIVER, eid, job_id=queue.event_delivery_job_id(eid))
    return ids


# --- delivery ----------------------------------------------------------------------------------
def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, tolerance_seconds: int = 300, now: float | None = None) -> bool:
    """How a CRM checks a delivery (documented; used by the tests)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - t) > tolerance_seconds:
        return False
    expected = sign(secret, t, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


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
    endpoint = await webhook_endpoints.get(store, event["tenant_id"])
    if not wants(endpoint, event["type"]):
        await store[COLLECTION].update_one({"_id": eid}, {"$set": {"delivery.status": "no_endpoint"}})
        return DeliveryOutcome(status="skipped")
    assert endpoint is not None
    body = json.dumps(
        {
            "id": eid,
            "type": event["type"],
            "created_at": event["created_at"].astimezone(UTC).isoformat(),
            "data": event["data"],
        },
        separators=(",", ":"), default=str,
    ).encode()
    now = time.time()
    secret = webhook_endpoints.secret_of(endpoint, services.cipher)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret, int(now), body),
        "X-Socialsync-Event-Id": eid,
        "X-Socialsync-Event-Type": event["type"],
    }
    attempt = int(state.get("attempts", 0)) + 1
    status_code: int | None = None
    error: str | None = None
    started = time.perf_counter()
    try:
        await outbound.check_destination(endpoint["url"], settings)
        response = await services.http.post(
            endpoint["url"], content=body, headers=headers, timeout=settings.crm_event_timeout_seconds
        )
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except outbound.DestinationRefused as exc:
        error = f"destination refused: {exc}"
    except httpx.HTTPError as exc:
        error = type(exc).__name__
    at = datetime.now(UTC)
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
    deadline = event["created_at"] + timedelta(hours=settings.crm_event_retry_hours)
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
    return DeliveryOutcome(status="retry", retry_in=delay)


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


# --- account lifecycle events -------------------------------------------------------------------
async def emit_account_event(services: Services, account_id: str, event_type: str) -> str | None:
    """``account.needs_reconnect`` / ``account.disconnected`` for the account's tenant, once per
    occurrence (keyed by the account's connect or disconnect time)."""
    account = await services.store.accounts.find_one({"_id": account_id})
    if account is None:
        return None
    moment = account.get("disconnected_at") if event_type == "account.disconnected" else account.get("connected_at")
    data = {
        "account_id": account_id,
        "platform": account.get("platform", "instagram"),
        "external_id": account.get("external_id"),
        "username": account.get("username"),
        "status": account.get("status"),
        "reason": account.get("status_reason"),
        "user_ref": account.get("user_ref"),
    }
    key = f"{event_type}:{account_id}:{moment.isoformat() if moment else ''}"
    return await emit(services, account["tenant_id"], event_type, data, event_key=key)
