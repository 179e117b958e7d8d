"""Publish jobs (``publish_jobs``): one document per CRM post request and its state machine.

Unique per (tenant, Idempotency-Key). Every change made by the worker is a compare-and-set on
the post's ``state`` and ``tick`` (the step counter that names the job allowed to move it), so
two workers — or a worker and a cancel — can never both act on the same step.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from socialsync.store import Store
from socialsync import clock

COLLECTION = "publish_jobs"
PostState = Literal[
    "scheduled", "creating", "processing", "ready", "publishing", "published", "failed", "cancelled"
]
FINAL_STATES = ("published", "failed", "cancelled")
ACTIVE_STATES = ("scheduled", "creating", "processing", "ready", "publishing")
CANCELLABLE_STATES = ("scheduled", "creating", "processing", "ready")
MAX_ATTEMPT_RECORDS = 50


class PostError(BaseModel):
    code: str = Field(description="e.g. media_url_unreachable, needs_reconnect, processing_timeout")
    message: str = Field(description="What happened and what a person can do about it.")
    caller_can_fix: bool = Field(description="True when changing the request (or reconnecting) helps.")
    platform_code: int | None = None
    platform_subcode: int | None = None


class Attempt(BaseModel):
    at: datetime
    step: str
    outcome: str
    detail: str | None = None


class ContainerOut(BaseModel):
    id: str
    role: Literal["item", "carousel"]
    status: str | None = None


def _video_media(request: dict[str, Any]) -> list[dict[str, Any]]:
    """A platform whose request names one video (YouTube: ``video_url``) shows it as ``media``."""
    return [{"url": request["video_url"], "kind": "video"}] if request.get("video_url") else []


def _own_options(request: dict[str, Any]) -> dict[str, Any]:
    """A flat platform request (YouTube's): everything but what caption/media already show."""
    if "media" in request:
        return {}
    return {k: v for k, v in request.items() if k not in ("type", "caption", "title", "video_url", "publish_at")}


class PostOut(BaseModel):
    """A publish job as the CRM sees it."""

    id: str
    account_id: str
    type: str
    state: PostState
    state_reason: str | None = Field(default=None, description="Why the post waits, when it does.")
    caption: str
    media: list[dict[str, Any]]
    options: dict[str, Any] = Field(default_factory=dict)
    publish_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None
    media_id: str | None = None
    permalink: str | None = None
    error: PostError | None = None
    containers: list[ContainerOut] = Field(default_factory=list)
    publish_attempts: int = 0
    attempts: list[Attempt] = Field(default_factory=list)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "PostOut":
        request = doc["request"]
        fields = doc.get("platform_fields") or {}  # a platform's containers (Instagram's), if it has them
        containers = [
            ContainerOut(id=c["id"], role="item", status=c.get("status"))
            for _, c in sorted((fields.get("items") or {}).items(), key=lambda kv: int(kv[0][1:]))
        ]
        if fields.get("parent"):
            containers.append(
                ContainerOut(id=fields["parent"]["id"], role="carousel", status=fields["parent"].get("status"))
            )
        return cls(
            id=doc["_id"],
            account_id=doc["account_id"],
            type=request["type"],
            state=doc["state"],
            state_reason=doc.get("state_reason"),
            caption=request.get("caption", request.get("title", "")),
            media=request.get("media") or _video_media(request),
            options={k: v for k, v in (request.get("options") or _own_options(request)).items() if v is not None},
            publish_at=request.get("publish_at"),
            created_at=doc["created_at"],
            updated_at=doc["updated_at"],
            published_at=doc.get("published_at"),
            media_id=doc.get("media_id"),
            permalink=doc.get("permalink"),
            error=doc.get("error"),
            containers=containers,
            publish_attempts=doc.get("publish_attempts", 0),
            attempts=doc.get("attempts", []),
        )


async def ensure_indexes(store: Store) -> None:
    col = store[COLLECTION]
    await col.create_index([("tenant_id", 1), ("idempotency_key", 1)], unique=True)
    await col.create_index([("tenant_id", 1), ("account_id", 1), ("_id", 1)])
    await col.create_index([("state", 1), ("next_check_at", 1)])
    await col.create_index([("event_pending", 1), ("updated_at", 1)])
    await col.create_index([("external_id", 1), ("published_at", 1)])


def new_post_id() -> str:
    # Time-ordered prefix: ids sort by creation, which gives a stable paging cursor.
    return f"post_{int(clock.now().timestamp() * 1000):013x}{secrets.token_hex(5)}"


async def insert_or_existing(store: Store, doc: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Insert the post, or return the one already stored under its idempotency key."""
    try:
        await store[COLLECTION].insert_one(doc)
        return doc, True
    except DuplicateKeyError:
        existing = await store[COLLECTION].find_one(
            {"tenant_id": doc["tenant_id"], "idempotency_key": doc["idempotency_key"]}
        )
        if existing is None:  # pragma: no cover - the key's owner vanished between the two calls
            raise
        return existing, False


async def get(store: Store, post_id: str) -> dict[str, Any] | None:
    return await store[COLLECTION].find_one({"_id": post_id})


async def get_for_tenant(store: Store, tenant_id: str, post_id: str) -> dict[str, Any] | None:
    return await store[COLLECTION].find_one({"_id": post_id, "tenant_id": tenant_id})


async def list_for_account(
    store: Store, tenant_id: str, account_id: str, *, state: str | None, limit: int, after: str | None
) -> list[dict[str, Any]]:
    """The account's posts, newest first; the cursor is the last id of the previous page."""
    query: dict[str, Any] = {"tenant_id": tenant_id, "account_id": account_id}
    if state:
        query["state"] = state
    if after:
        query["_id"] = {"$lt": after}
    cursor = store[COLLECTION].find(query).sort("_id", -1).limit(limit)
    return [doc async for doc in cursor]


async def cancel(store: Store, tenant_id: str, post_id: str) -> dict[str, Any] | None:
    """Cancel while nothing is being published; None when the post is not cancellable."""
    now = clock.now()
    return await store[COLLECTION].find_one_and_update(
        {"_id": post_id, "tenant_id": tenant_id, "state": {"$in": list(CANCELLABLE_STATES)}},
        {
            "$set": {"state": "cancelled", "state_reason": "cancelled by the CRM", "updated_at": now},
            "$inc": {"tick": 1},
            "$push": {"attempts": {"$each": [{"at": now, "step": "cancel", "outcome": "cancelled"}],
                                   "$slice": -MAX_ATTEMPT_RECORDS}},
        },
        return_document=ReturnDocument.AFTER,
    )


async def compare_and_set(
    store: Store,
    post_id: str,
    *,
    tick: int | None,
    states: tuple[str, ...] | None,
    set_fields: dict[str, Any],
    unset: tuple[str, ...] = (),
    inc: dict[str, int] | None = None,
    attempt: dict[str, Any] | None = None,
    extra_filter: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Apply the change only if the post is still at ``tick`` and in one of ``states``.
    Returns the updated document, or None when someone else moved it first."""
    query: dict[str, Any] = {"_id": post_id, **(extra_filter or {})}
    if tick is not None:
        query["tick"] = tick
    if states is not None:
        query["state"] = {"$in": list(states)}
    update: dict[str, Any] = {"$set": {**set_fields, "updated_at": clock.now()}}
    if unset:
        update["$unset"] = {name: "" for name in unset}
    if inc:
        update["$inc"] = inc
    if attempt is not None:
        update["$push"] = {"attempts": {"$each": [attempt], "$slice": -MAX_ATTEMPT_RECORDS}}
    return await store[COLLECTION].find_one_and_update(
        query, update, return_document=ReturnDocument.AFTER
    )


async def overdue(store: Store, *, before: datetime, limit: int = 2000) -> list[dict[str, Any]]:
    """Active posts silent since before ``before`` (no write of a live step, no due wait):
    their job is missing, dead with its worker, or still waiting in a queue backlog."""
    cursor = store[COLLECTION].find(
        {"state": {"$in": list(ACTIVE_STATES)}, "next_check_at": {"$lt": before}},
        {"_id": 1, "tick": 1, "next_check_at": 1},
    ).sort("next_check_at", 1).limit(limit)
    return [doc async for doc in cursor]


async def claim_overdue_events(
    store: Store, *, before: datetime, now: datetime, limit: int = 500
) -> list[tuple[str, int]]:
    """Final posts whose outcome event was never recorded (the worker died in between), each
    claimed for one follow-up: (post id, follow-up number). A post is claimed again only after
    ``before`` passes its last claim, and each claim has its own number (a new job id)."""
    query = {
        "event_pending": {"$exists": True}, "updated_at": {"$lt": before},
        "$or": [{"follow_up_at": {"$exists": False}}, {"follow_up_at": {"$lt": before}}],
    }
    claimed: list[tuple[str, int]] = []
    async for doc in store[COLLECTION].find(query, {"_id": 1}).limit(limit):
        updated = await store[COLLECTION].find_one_and_update(
            {"_id": doc["_id"], **query}, {"$set": {"follow_up_at": now}, "$inc": {"follow_ups": 1}},
            projection={"follow_ups": 1}, return_document=ReturnDocument.AFTER,
        )
        if updated is not None:
            claimed.append((updated["_id"], int(updated["follow_ups"])))
    return claimed


async def waiting_with_platform_field(store: Store, platform: str, field: str, value: str, *,
                                      now: datetime) -> list[dict[str, Any]]:
    """(id, tick) of the active posts of ``platform`` whose platform field ``field`` is ``value``
    and that wait for a later step (``next_check_at`` after ``now``)."""
    found = store[COLLECTION].find(
        {"platform": platform, f"platform_fields.{field}": value, "state": {"$in": list(ACTIVE_STATES)},
         "next_check_at": {"$gt": now}}, {"_id": 1, "tick": 1},
    )
    return [d async for d in found]


async def media_ids_claimed(store: Store, external_id: str, media_ids: list[str]) -> set[str]:
    cursor = store[COLLECTION].find(
        {"external_id": external_id, "media_id": {"$in": media_ids}}, {"media_id": 1}
    )
    return {doc["media_id"] async for doc in cursor}


async def published_since(store: Store, external_id: str, since: datetime) -> list[datetime]:
    """When our own posts on this account went live since ``since`` (quota estimate)."""
    cursor = store[COLLECTION].find(
        {"external_id": external_id, "state": "published", "published_at": {"$gte": since}},
        {"published_at": 1},
    )
    return sorted([doc["published_at"] async for doc in cursor])


async def active_due_by(store: Store, external_id: str, at: datetime) -> int:
    """Our posts on this account not yet final whose next step is due by ``at`` (each will
    spend a publishing slot before a post due at ``at``)."""
    return await store[COLLECTION].count_documents(
        {"external_id": external_id, "state": {"$in": list(ACTIVE_STATES)}, "next_check_at": {"$lte": at}}
    )


async def find_by_idempotency_key(store: Store, tenant_id: str, key: str) -> dict[str, Any] | None:
    return await store[COLLECTION].find_one({"tenant_id": tenant_id, "idempotency_key": key})


async def event_sent(store: Store, post_id: str, pending: str, fields: dict[str, Any]) -> None:
    """The outcome event ``pending`` was recorded in the outbox: clear it (and store ``fields``)."""
    await store[COLLECTION].update_one(
        {"_id": post_id, "event_pending": pending}, {"$set": fields, "$unset": {"event_pending": ""}}
    )
