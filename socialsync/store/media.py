"""Synced media (posts, reels, carousels, stories): one document per (account, platform media id).

Keyed per connected account rather than per platform id alone: the same Instagram account may be
connected by two tenants, and each tenant's copy stays inside its tenancy. Writes are upserts
keyed by ``{account_id}:{media id}`` so re-running a sync page changes nothing twice; media
deleted on Instagram are marked ``deleted``, never erased.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from pymongo import UpdateOne

from socialsync.store import Store
from socialsync.store.migrations import platform_of

COLLECTION = "media"


def doc_id(account_id: str, media_id: str) -> str:
    return f"{account_id}:{media_id}"


def engagement_rate(
    like_count: int | None, comments_count: int | None, insights: dict[str, Any] | None, followers: int | None
) -> float | None:
    """(likes + comments + saves + shares) / followers × 100, rounded to 4 places; None without
    followers. Saves and shares count only when Meta reported them (missing is not zero)."""
    if not followers:
        return None
    ins = insights or {}
    total = (like_count or 0) + (comments_count or 0) + (ins.get("saved") or 0) + (ins.get("shares") or 0)
    return round(total * 100 / followers, 4)


async def ensure_indexes(store: Store) -> None:
    col = store[COLLECTION]
    await col.create_index([("account_id", 1), ("timestamp", -1)])
    await col.create_index([("account_id", 1), ("last_seen_run", 1)])
    await col.create_index([("tenant_id", 1), ("timestamp", -1)])
    await col.create_index([("platform", 1), ("external_id", 1)])


def item_update(
    account: dict[str, Any], run_id: str, item: Any, *, followers: int | None, now: datetime,
    insight_error: dict[str, Any] | None = None, extra: dict[str, Any] | None = None,
) -> UpdateOne:
    """The idempotent upsert of one media item as read from the platform (a pydantic model with
    ``id``, ``insights``, ``like_count``, ``comments_count``)."""
    fields = item.model_dump(exclude={"id", "insights"})
    fields["children"] = [c for c in fields.get("children") or []]
    return record_update(account, run_id, item.id, fields, item.insights, followers=followers, now=now,
                         insight_error=insight_error, extra=extra)


def record_update(
    account: dict[str, Any], run_id: str, platform_id: str, fields: dict[str, Any],
    insights: dict[str, Any] | None, *, followers: int | None, now: datetime,
    insight_error: dict[str, Any] | None = None, extra: dict[str, Any] | None = None,
) -> UpdateOne:
    """The idempotent upsert of one media record (any platform): ``insights`` None = not read,
    {} = the platform has none yet (missing, not zero)."""
    set_: dict[str, Any] = {
        **fields,
        "account_id": account["_id"],
        "tenant_id": account["tenant_id"],
        "platform": platform_of(account),
        "external_id": platform_id,
        "deleted": False,
        "deleted_at": None,
        "last_seen_run": run_id,
        "updated_at": now,
        "synced_at": now,  # when its counts (and the page's insights) were read
    }
    likes, comments = fields.get("like_count"), fields.get("comments_count")
    if insights:
        for metric, value in insights.items():
            set_[f"insights.{metric}"] = value
        set_["insights_status"] = "ok"
        set_["insights_error"] = None
        set_["insights_updated_at"] = now
    elif insights == {}:
        set_["insights_status"] = "no_data"  # none yet: missing, not zero
    # From the counts that exist: likes and comments always, saves/shares once reported.
    set_["engagement_rate"] = engagement_rate(likes, comments, insights, followers)
    if insight_error is not None:
        set_["insights_status"] = "unavailable"
        set_["insights_error"] = insight_error
    set_.update(extra or {})
    return UpdateOne(
        {"_id": doc_id(account["_id"], platform_id)},
        {"$set": set_, "$setOnInsert": {"first_seen_at": now, "first_seen_run": run_id}},
        upsert=True,
    )


async def write(store: Store, updates: list[UpdateOne]) -> None:
    if updates:
        await store[COLLECTION].bulk_write(updates, ordered=False)


def insights_update(
    doc: dict[str, Any], values: dict[str, Any], *, now: datetime, run_id: str | None = None,
    error: dict[str, Any] | None = None, followers: int | None = None,
) -> UpdateOne:
    """Per-item insights (or the per-item error) for one stored media, as one update for a bulk
    write: ``doc`` is the stored media as :func:`needing_extras` read it (its counts and insights
    give the engagement rate, so no read-back is needed)."""
    set_: dict[str, Any] = {"updated_at": now}
    if run_id is not None:
        set_["extras_run"] = run_id
    if error is not None:
        set_.update({"insights_status": "unavailable", "insights_error": error})
    elif values:
        set_.update({f"insights.{k}": v for k, v in values.items()})
        set_.update({"insights_status": "ok", "insights_error": None, "insights_updated_at": now})
        if {"saved", "shares"} & set(values) and followers:
            merged = {**(doc.get("insights") or {}), **values}
            set_["engagement_rate"] = engagement_rate(doc.get("like_count"), doc.get("comments_count"), merged, followers)
    elif values == {}:
        set_["insights_status"] = "no_data"
    return UpdateOne({"_id": doc["_id"]}, {"$set": set_})


async def known_ids(store: Store, account_id: str, media_ids: list[str], *, before_run: str) -> set[str]:
    """Which of these media were already stored before this run."""
    cursor = store[COLLECTION].find(
        {"_id": {"$in": [doc_id(account_id, m) for m in media_ids]}, "first_seen_run": {"$ne": before_run}},
        {"external_id": 1},
    )
    return {d["external_id"] async for d in cursor}


async def count_listed(store: Store, account_id: str, *, newer_than: datetime | None = None) -> int:
    """Stored, not deleted feed posts and reels of the account (newer than a time, if given)."""
    query: dict[str, Any] = {"account_id": account_id, "deleted": False, "media_product_type": {"$in": ["FEED", "REELS"]}}
    if newer_than is not None:
        query["timestamp"] = {"$gt": newer_than}
    return await store[COLLECTION].count_documents(query)


async def needing_extras(
    store: Store, account_id: str, run_id: str, since: datetime, until: datetime | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    posted: dict[str, Any] = {"$gte": since}
    if until is not None:
        posted["$lte"] = until
    cursor = store[COLLECTION].find(
        {
            "account_id": account_id, "deleted": False, "timestamp": posted,
            "media_product_type": {"$in": ["FEED", "REELS"]}, "extras_run": {"$ne": run_id},
            "insights_status": {"$ne": "unavailable"},
        },
        {"external_id": 1, "media_product_type": 1, "like_count": 1, "comments_count": 1, "insights": 1},
    ).sort("timestamp", -1).limit(limit)
    return [d async for d in cursor]


async def mark_deleted(
    store: Store, account_id: str, run_id: str, *, now: datetime, since: datetime | None = None,
    product_types: tuple[str, ...] = ("FEED", "REELS"), strictly_after: bool = False,
) -> int:
    """Media not seen by this run's complete listing (optionally only those from ``since``, or
    strictly after it) were deleted on Instagram: mark them, keep them."""
    query: dict[str, Any] = {
        "account_id": account_id, "deleted": False, "last_seen_run": {"$ne": run_id},
        "media_product_type": {"$in": list(product_types)},
    }
    if since is not None:
        query["timestamp"] = {"$gt" if strictly_after else "$gte": since}
    result = await store[COLLECTION].update_many(query, {"$set": {"deleted": True, "deleted_at": now, "updated_at": now}})
    return result.modified_count


async def mark_item_deleted(store: Store, account_id: str, media_id: str, *, now: datetime) -> None:
    """One media the platform said is gone (a push tombstone): marked, kept."""
    await store[COLLECTION].update_one(
        {"_id": doc_id(account_id, media_id)}, {"$set": {"deleted": True, "deleted_at": now, "updated_at": now}})


async def figures_by_account(
    store: Store, account_ids: list[str], *, product_types: tuple[str, ...], recent: int
) -> dict[str, tuple[int, list[float]]]:
    """Per account, in one aggregation: how many posts of these types, and the engagement rates
    of its ``recent`` newest rated posts (newest first)."""
    if not account_ids:
        return {}
    pipeline = [
        {"$match": {"account_id": {"$in": account_ids}, "deleted": False, "media_product_type": {"$in": list(product_types)}}},
        {"$sort": {"timestamp": -1}},
        {"$group": {"_id": "$account_id", "posts": {"$sum": 1}, "rates": {"$push": "$engagement_rate"}}},
    ]
    out: dict[str, tuple[int, list[float]]] = {}
    async for row in await store[COLLECTION].aggregate(pipeline):
        rates = [r for r in row.get("rates") or [] if r is not None][:recent]
        out[row["_id"]] = (int(row["posts"]), rates)
    return out


async def newest_and_top(
    store: Store, tenant_id: str, account_ids: list[str], *, product_types: tuple[str, ...], limit: int = 10
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The tenant's newest posts and its best by engagement rate, across these accounts."""
    scope = {"tenant_id": tenant_id, "account_id": {"$in": account_ids}, "deleted": False,
             "media_product_type": {"$in": list(product_types)}}
    col = store[COLLECTION]
    recent = [d async for d in col.find(scope).sort([("timestamp", -1), ("_id", 1)]).limit(limit)]
    top = [d async for d in col.find({**scope, "engagement_rate": {"$ne": None}})
           .sort([("engagement_rate", -1), ("_id", 1)]).limit(limit)]
    return recent, top


class MediaOut(BaseModel):
    """A synced media item as the CRM sees it."""

    id: str = Field(description="Platform media id")
    account_id: str
    platform: str
    media_type: str
    media_product_type: str | None = None
    caption: str | None = None
    media_url: str | None = None
    thumbnail_url: str | None = None
    thumbnail_expires_at: datetime | None = Field(
        default=None, description="When thumbnail_url stops working (TikTok covers: ~6 h); null: permanent")
    permalink: str | None = None
    shortcode: str | None = None
    timestamp: datetime
    like_count: int | None = None
    comments_count: int | None = None
    children: list[dict[str, Any]] = Field(default_factory=list)
    insights: dict[str, float | int] = Field(default_factory=dict, description="Missing metric: no data yet")
    insights_status: str | None = Field(default=None, description="ok | no_data | unavailable")
    insights_error: dict[str, Any] | None = None
    insights_updated_at: datetime | None = Field(default=None, description="When its insights were last read")
    synced_at: datetime | None = Field(default=None, description="When its counts were last read from the platform")
    engagement_rate: float | None = None
    deleted: bool = False
    deleted_at: datetime | None = None
    # Video platforms (YouTube; null elsewhere)
    title: str | None = None
    duration_seconds: int | None = None
    privacy_status: str | None = Field(default=None, description="public | unlisted | private")
    is_short: bool | None = Field(default=None, description="YouTube Short: square or vertical and at most 3 minutes")

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "MediaOut":
        data = {k: v for k, v in doc.items() if k in cls.model_fields and k != "id"}
        data.setdefault("synced_at", doc.get("updated_at"))  # stored before synced_at existed
        return cls(id=doc["external_id"], **data)


async def page(store: Store, query: dict[str, Any], field: str, direction: int, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` media matching ``query``, ordered by ``field`` (then id, so pages are stable)."""
    cursor = store[COLLECTION].find(query).sort([(field, direction), ("_id", 1)]).limit(limit)
    return [d async for d in cursor]
