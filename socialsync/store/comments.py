"""Comments (and mentions) of connected accounts: one document per (account, comment id).

The key is the account, not only the platform id, because two tenants may connect the same
Instagram account and each must see (and moderate) its own copy. Every write is an upsert on
that key, so any number of webhook re-deliveries and sync passes leave one document.
Moderation state (``hidden``, ``deleted``) is only ever set by moderation, never by an upsert
of platform data, so an old re-delivery cannot un-hide or resurrect a comment.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from socialsync.store import Store
from socialsync import clock

COLLECTION = "comments"
MENTIONS = "mentions"
# Per-media high-water marks of the comment backfill (what it has already seen).
BACKFILL = "comment_backfill"
DUPLICATE_KEY = 11000
Source = Literal["webhook", "sync", "api"]


class CommentIn(BaseModel):
    """Platform data about one comment, from a webhook, the API or a sync pass."""

    account_id: str
    tenant_id: str
    comment_id: str
    platform: str  # the account's (the caller knows it)
    text: str | None = None
    from_id: str | None = None
    from_username: str | None = None
    media_id: str | None = None
    media_product_type: str | None = None
    parent_id: str | None = None
    timestamp: datetime | None = None
    like_count: int | None = None
    live: bool = False
    source: Source


class CommentOut(BaseModel):
    id: str = Field(description="The platform's comment id (unique only within the account).")
    ref: str = Field(description="socialsync's own id of the comment: `/v1/comments/{ref}/…` "
                                 "(the platform id is still accepted there for Instagram).")
    account_id: str
    media_id: str | None = None
    media_product_type: str | None = None
    parent_id: str | None = None
    text: str | None = None
    from_: dict[str, str | None] = Field(default_factory=dict, alias="from", serialization_alias="from")
    timestamp: datetime | None = None
    like_count: int | None = None
    hidden: bool = False
    live: bool = False
    source: str
    replies: list["CommentOut"] | None = None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "CommentOut":
        return cls.model_validate(
            {
                "id": doc["comment_id"],
                "ref": doc.get("_id") or doc_id(doc["account_id"], doc["comment_id"]),
                "account_id": doc["account_id"],
                "media_id": doc.get("media_id"),
                "media_product_type": doc.get("media_product_type"),
                "parent_id": doc.get("parent_id"),
                "text": doc.get("text"),
                "from": {"id": doc.get("from_id"), "username": doc.get("from_username")},
                "timestamp": doc.get("timestamp"),
                "like_count": doc.get("like_count"),
                "hidden": bool(doc.get("hidden")),
                "live": bool(doc.get("live")),
                "source": doc.get("source", "webhook"),
            }
        )


def doc_id(account_id: str, comment_id: str) -> str:
    return f"{account_id}:{comment_id}"


async def ensure_indexes(store: Store) -> None:
    col = store[COLLECTION]
    await col.create_index([("account_id", 1), ("comment_id", 1)], unique=True)
    await col.create_index([("tenant_id", 1), ("comment_id", 1)])
    await col.create_index([("account_id", 1), ("parent_id", 1), ("timestamp", -1), ("_id", 1)])
    await col.create_index([("account_id", 1), ("media_id", 1)])
    await store[MENTIONS].create_index([("account_id", 1), ("timestamp", -1)])
    await store[MENTIONS].create_index([("account_id", 1), ("mention_at", -1), ("_id", 1)])


def _fields(c: CommentIn, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """($set, $setOnInsert) of a comment's upsert."""
    data = c.model_dump(exclude={"account_id", "tenant_id", "comment_id", "source", "platform"}, exclude_none=True)
    if not c.live:
        data.pop("live", None)
    on_insert = {
        "account_id": c.account_id,
        "tenant_id": c.tenant_id,
        "platform": c.platform,
        "comment_id": c.comment_id,
        "source": c.source,
        "hidden": False,
        "deleted": False,
        "created_at": now,
    }
    return {**data, "updated_at": now}, on_insert


def _upsert(c: CommentIn, now: datetime) -> UpdateOne:
    update, on_insert = _fields(c, now)
    return UpdateOne(
        {"_id": doc_id(c.account_id, c.comment_id)}, {"$set": update, "$setOnInsert": on_insert}, upsert=True
    )


async def upsert_many(store: Store, comments: list[CommentIn]) -> list[CommentIn]:
    """Upsert every comment; returns those that were new. Two round trips at most: an unordered
    insert of them all (new comments, the usual case for webhooks, cost an insert, far cheaper
    than an upsert on the MongoDB-wire server), then one bulk upsert of those already stored —
    the same documents a bulk upsert of all of them would leave."""
    if not comments:
        return []
    now = clock.now()
    docs = []
    for c in comments:
        update, on_insert = _fields(c, now)
        docs.append({"_id": doc_id(c.account_id, c.comment_id), **update, **on_insert})
    existing: list[int] = []
    try:
        await store[COLLECTION].insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
        existing = sorted(e["index"] for e in errors)
    if not existing:
        return list(comments)
    again = [comments[i] for i in existing]
    result = await store[COLLECTION].bulk_write([_upsert(c, now) for c in again], ordered=False)
    new_again = {existing[i] for i in result.upserted_ids}  # deleted in between: upserted now
    taken = set(existing) - new_again
    return [c for i, c in enumerate(comments) if i not in taken]


async def get_for_tenant(store: Store, tenant_id: str, comment_id: str) -> dict[str, Any] | None:
    """By our own id (``{account}:{platform id}``, `CommentOut.ref`), or, the old form, by the
    platform id alone (unambiguous for Instagram's numeric ids within a tenant's accounts)."""
    key = {"_id": comment_id} if comment_id.startswith("acc_") and ":" in comment_id else {"comment_id": comment_id}
    return await store[COLLECTION].find_one({"tenant_id": tenant_id, **key, "deleted": False})


async def set_hidden(store: Store, account_id: str, comment_id: str, hidden: bool) -> None:
    await store[COLLECTION].update_one(
        {"_id": doc_id(account_id, comment_id)},
        {"$set": {"hidden": hidden, "updated_at": clock.now()}},
    )


async def mark_deleted(store: Store, account_id: str, comment_id: str) -> None:
    """Deleted on the platform: kept as a tombstone (so a late re-delivery does not bring it
    back into lists), its text dropped."""
    now = clock.now()
    await store[COLLECTION].update_one(
        {"_id": doc_id(account_id, comment_id)},
        {"$set": {"deleted": True, "deleted_at": now, "updated_at": now}, "$unset": {"text": ""}},
    )
    await store[COLLECTION].update_many(
        {"account_id": account_id, "parent_id": comment_id},
        {"$set": {"deleted": True, "deleted_at": now, "updated_at": now}, "$unset": {"text": ""}},
    )


# --- listing, threaded by parent ---------------------------------------------------------------
def encode_cursor(doc: dict[str, Any]) -> str:
    ts = doc.get("timestamp")
    raw = f"{ts.timestamp() if ts else 0!r}|{doc['_id']}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


class BadCursor(ValueError):
    pass


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        ts, _, last_id = raw.partition("|")
        if not last_id:
            raise ValueError
        return datetime.fromtimestamp(float(ts), UTC), last_id
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadCursor(cursor) from None


async def list_threads(
    store: Store,
    account_id: str,
    *,
    limit: int,
    media_id: str | None = None,
    since: datetime | None = None,
    hidden: bool | None = None,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Top-level comments newest first (stable cursor on (timestamp, _id)), each with its
    replies oldest first under ``replies``."""
    query: dict[str, Any] = {"account_id": account_id, "parent_id": None, "deleted": False}
    if media_id:
        query["media_id"] = media_id
    if since:
        query["timestamp"] = {"$gte": since}
    if hidden is not None:
        query["hidden"] = hidden
    if cursor:
        ts, last_id = decode_cursor(cursor)
        query["$or"] = [{"timestamp": {"$lt": ts}}, {"timestamp": ts, "_id": {"$gt": last_id}}]
    found = store[COLLECTION].find(query).sort([("timestamp", -1), ("_id", 1)]).limit(limit + 1)
    top = [d async for d in found]
    next_cursor = encode_cursor(top[limit - 1]) if len(top) > limit else None
    top = top[:limit]
    ids = [d["comment_id"] for d in top]
    replies: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        found = store[COLLECTION].find(
            {"account_id": account_id, "parent_id": {"$in": ids}, "deleted": False}
        ).sort([("timestamp", 1), ("_id", 1)])
        async for reply in found:
            replies[reply["parent_id"]].append(reply)
    for d in top:
        d["replies"] = replies[d["comment_id"]]
    return top, next_cursor


# --- mentions ----------------------------------------------------------------------------------
class MentionIn(BaseModel):
    account_id: str
    tenant_id: str
    platform: str  # the account's (the caller knows it)
    media_id: str
    comment_id: str | None = None
    kind: Literal["comment", "media"]
    text: str | None = None
    username: str | None = None
    timestamp: datetime | None = None
    permalink: str | None = None
    media_owner_username: str | None = None


async def upsert_mention(store: Store, m: MentionIn) -> bool:
    """One document per (account, media, comment); returns True when it was new."""
    now = clock.now()
    key = f"{m.account_id}:{m.media_id}:{m.comment_id or '-'}"
    set_: dict[str, Any] = {**m.model_dump(exclude_none=True), "updated_at": now}
    on_insert: dict[str, Any] = {"created_at": now}
    # The listing's sort key: the mention's own time once known, else when it was received.
    if m.timestamp is not None:
        set_["mention_at"] = m.timestamp
    else:
        on_insert["mention_at"] = now
    result = await store[MENTIONS].update_one({"_id": key}, {"$set": set_, "$setOnInsert": on_insert}, upsert=True)
    return result.upserted_id is not None


# --- backfill bookkeeping (what the scheduled comment backfill has already read) ---------------
def _backfill_key(account_id: str, media_id: str) -> str:
    return f"{account_id}:{media_id}"


async def backfill_unchanged(store: Store, account_id: str, media_id: str, comments_count: int | None) -> bool:
    """True when the media was read before with the same comment count (nothing new to read)."""
    if comments_count is None:
        return False
    seen = await store[BACKFILL].find_one({"_id": _backfill_key(account_id, media_id)}, {"comments_count": 1})
    return seen is not None and seen.get("comments_count") == comments_count


async def mark_backfilled(store: Store, account_id: str, media_id: str, comments_count: int | None) -> None:
    await store[BACKFILL].update_one(
        {"_id": _backfill_key(account_id, media_id)},
        {"$set": {"account_id": account_id, "comments_count": comments_count, "read_at": clock.now()}},
        upsert=True,
    )
