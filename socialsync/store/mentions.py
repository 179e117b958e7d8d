"""Reading the stored mentions of an account (written by ``comments.upsert_mention``), newest
first with a stable cursor on (time, id). The time is the mention's own (the comment's or the
caption's timestamp) when it was resolved, else when it was received."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from socialsync.store import Store
from socialsync.store.comments import MENTIONS
from socialsync.store.migrations import platform_of


class BadCursor(ValueError):
    pass


def _at(doc: dict[str, Any]) -> datetime:
    moment = doc.get("timestamp") or doc.get("created_at") or datetime.fromtimestamp(0, UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _encode(doc: dict[str, Any]) -> str:
    raw = f"{_at(doc).timestamp()!r}|{doc['_id']}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        ts, _, last_id = raw.partition("|")
        if not last_id:
            raise ValueError
        return datetime.fromtimestamp(float(ts), UTC), last_id
    except (binascii.Error, ValueError, UnicodeDecodeError, OverflowError):
        raise BadCursor(cursor) from None


async def list_for_account(
    store: Store, account_id: str, *, limit: int, cursor: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the account's mentions, newest first, and the cursor of the next page
    (sorted on ``mention_at``, which ``comments.upsert_mention`` keeps)."""
    await ensure_sort_keys(store, account_id)
    query: dict[str, Any] = {"account_id": account_id}
    if cursor:
        at, last_id = _decode(cursor)
        query["$or"] = [{"mention_at": {"$lt": at}}, {"mention_at": at, "_id": {"$gt": last_id}}]
    found = store[MENTIONS].find(query).sort([("mention_at", -1), ("_id", 1)]).limit(limit + 1)
    docs = [d async for d in found]
    next_cursor = _encode(docs[limit - 1]) if len(docs) > limit else None
    return docs[:limit], next_cursor


async def ensure_sort_keys(store: Store, account_id: str) -> None:
    """Mentions stored before ``mention_at`` existed get it (normally finds nothing)."""
    col = store[MENTIONS]
    async for doc in col.find({"account_id": account_id, "mention_at": {"$exists": False}}):
        await col.update_one({"_id": doc["_id"]}, {"$set": {"mention_at": _at(doc)}})


class MentionUser(BaseModel):
    username: str | None = Field(default=None, description="Who mentioned the account, when the platform says")


class MentionOut(BaseModel):
    """A mention of a connected account, as the CRM sees it."""

    id: str = Field(description="The project's mention id")
    account_id: str
    platform: str
    kind: Literal["comment", "media"] = Field(description="Mentioned in a comment or in a caption")
    media_id: str = Field(description="Platform id of the media the mention is on")
    comment_id: str | None = Field(default=None, description="Platform id of the mentioning comment")
    text: str | None = Field(default=None, description="The comment text or caption (resolved mentions)")
    user: MentionUser
    permalink: str | None = None
    timestamp: datetime = Field(description="When the mention was made (or received, if not resolved)")
    resolved: bool = Field(description="False: stored as the platform delivered it, without a lookup")
    received_at: datetime | None = None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> MentionOut:
        # The mentioning user: the comment's author, or for a caption the media's owner.
        username = doc.get("username") or (doc.get("media_owner_username") if doc.get("kind") == "media" else None)
        return cls(
            id=doc["_id"], account_id=doc["account_id"], platform=platform_of(doc),
            kind=doc.get("kind", "comment"), media_id=doc["media_id"], comment_id=doc.get("comment_id"),
            text=doc.get("text"), user=MentionUser(username=username), permalink=doc.get("permalink"),
            timestamp=_at(doc), resolved=doc.get("timestamp") is not None or doc.get("text") is not None,
            received_at=doc.get("created_at"),
        )
