"""Storing what a platform's sync stage returned (`socialsync.platforms.base.SyncBatch`).

One bulk write per collection per batch, every write an idempotent upsert keyed by (connected
account, platform id), so a batch stored twice (a re-run after a crash) changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import UpdateOne

from socialsync.credentials import top_fields
from socialsync.platforms.base import (
    AccountExtra,
    AudienceRecord,
    CommentRecord,
    ItemProblem,
    ListingComplete,
    MediaInsights,
    MediaRecord,
    MetricPoint,
    ProfileRecord,
    StageProblem,
    SyncRecord,
)
from socialsync.store import Store
from socialsync.store import audience as audience_store
from socialsync.store import comments as comment_store
from socialsync.store import media as media_store
from socialsync.store import metrics as metrics_store
from socialsync.store import sync_runs
from socialsync.store.migrations import platform_of

PROFILE_TOP_LEVEL = ("username", "name", "profile_picture_url")


async def write_batch(
    store: Store, account: dict[str, Any], run: dict[str, Any], records: Sequence[SyncRecord], *, now: datetime,
    items: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Store the records; returns item counts by kind (for the run document): ``items`` when the
    batch names them, else counted by record kind (plus ``deleted``, what a `ListingComplete`
    marked). ``account`` (the core's copy of the document) follows the profile and extra fields
    stored, so later batches of the run compute engagement rates with the new follower count."""
    counts: dict[str, int] = {}
    profile: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    media, points, comments, insights, listings = [], [], [], [], []
    day_insights = False
    for r in records:
        if isinstance(r, ProfileRecord):
            profile.update(r.fields)
        elif isinstance(r, MediaRecord):
            media.append(r)  # (a record whose fields say ``deleted``: the platform reports it gone)
        elif isinstance(r, MediaInsights):
            insights.append(r)
        elif isinstance(r, ListingComplete):
            listings.append(r)
        elif isinstance(r, AccountExtra):
            extra.update(r.fields)
        elif isinstance(r, MetricPoint):
            points.append(metrics_store.point(account, r.metric, r.at, r.value, source=r.source or r.subject, day=r.day))
            day_insights = day_insights or (r.day and r.source == "insights")
        elif isinstance(r, AudienceRecord):
            await audience_store.put(store, account, r.metric or r.breakdown, r.breakdown, r.timeframe, dict(r.values),
                                     taken_at=r.at)
            counts["audience"] = counts.get("audience", 0) + 1
        elif isinstance(r, StageProblem):
            error = {"stage": r.stage, "at": now, **r.details}
            if r.error is not None:
                error.update(r.error.describe())
            await sync_runs.add_error(store, run["_id"], error)
        elif isinstance(r, CommentRecord):
            comments.append(comment_store.CommentIn(
                account_id=account["_id"], tenant_id=account["tenant_id"], comment_id=r.platform_id,
                platform=platform_of(account), text=r.text, from_id=r.from_id, from_username=r.from_username, media_id=r.media_id,
                parent_id=r.parent_id, timestamp=r.timestamp, source="sync",
            ))
        elif isinstance(r, ItemProblem):
            error = {"stage": r.stage, "at": now, "message": r.message, "item_id": r.item_id}
            if r.error is not None:
                error.update(r.error.describe())
            await sync_runs.add_error(store, run["_id"], error)
    if profile:
        # the top-level name fields only when the platform sent them (never wiped with null)
        set_ = {("profile." + k if k not in PROFILE_TOP_LEVEL else k): v for k, v in profile.items()
                if k not in PROFILE_TOP_LEVEL or v is not None}
        set_["profile_synced_at"] = now
        await store.accounts.update_one({"_id": account["_id"]}, {"$set": set_})
        account["profile"] = {**(account.get("profile") or {}),
                              **{k: v for k, v in profile.items() if k not in PROFILE_TOP_LEVEL}}
    if extra:
        # a platform's top-level fields (credentials.top_fields) stay there, others go in ``extra``
        top = top_fields(account)
        await store.accounts.update_one({"_id": account["_id"]}, {"$set": {
            (k if k in top else "extra." + k): v for k, v in extra.items()}})
        for k, v in extra.items():
            (account if k in top else account.setdefault("extra", {}))[k] = v
    followers = (account.get("profile") or {}).get("followers_count")
    await media_store.write(store, [
        _gone(account, run["_id"], m.platform_id, now) if m.fields.get("deleted") else
        media_store.record_update(account, run["_id"], m.platform_id, dict(m.fields),
                                  dict(m.insights) if m.insights is not None else None, followers=followers, now=now,
                                  insight_error=dict(m.insights_error) if m.insights_error is not None else None,
                                  extra={"extras_run": run["_id"]} if m.extras_read else None)
        for m in media
    ] + [
        media_store.insights_update({**i.basis, "_id": media_store.doc_id(account["_id"], i.platform_id)},
                                    dict(i.values), now=now, run_id=run["_id"],
                                    error=dict(i.error) if i.error is not None else None, followers=followers)
        for i in insights
    ])
    deleted = 0
    for listing in listings:  # after the media above: what this run saw carries its id
        deleted += await media_store.mark_deleted(
            store, account["_id"], run["_id"], now=now, since=listing.since, strictly_after=listing.strictly_after,
            product_types=listing.product_types)
    if day_insights:  # day-labelled insight points replace those written before days were labelled
        await metrics_store.drop_unlabelled_insights(store, account["_id"])
    await metrics_store.write(store, points)
    if comments:
        await comment_store.upsert_many(store, comments)
    if items is not None:
        counts = {k: v for k, v in items.items() if v}
    else:
        for name, n in (("media", len(media)), ("metric_points", len(points)), ("comments", len(comments))):
            if n:
                counts[name] = n
    if deleted:
        counts["deleted"] = counts.get("deleted", 0) + deleted
    return counts


def _gone(account: dict[str, Any], run_id: str, platform_id: str, now: datetime) -> UpdateOne:
    """A stored media the platform reports deleted (or no longer visible): marked, never erased."""
    return UpdateOne({"_id": media_store.doc_id(account["_id"], platform_id), "deleted": {"$ne": True}},
                     {"$set": {"deleted": True, "deleted_at": now, "last_seen_run": run_id, "updated_at": now}})


async def lookback_ids(store: Store, account_id: str, since: datetime) -> list[str]:
    """Platform ids of the account's stored, not deleted media published since ``since``, newest
    first (what a ``counts`` stage refreshes)."""
    cursor = store[media_store.COLLECTION].find(
        {"account_id": account_id, "deleted": False, "timestamp": {"$gte": since}}, {"external_id": 1},
    ).sort("timestamp", -1)
    return [d["external_id"] async for d in cursor]


async def set_stage_state(store: Store, account_id: str, stage: str, state: dict[str, Any]) -> None:
    """The cross-run state of one stage (``sync_state.<stage>`` on the account)."""
    await store.accounts.update_one({"_id": account_id}, {"$set": {f"sync_state.{stage}": state}})


async def record_capability_missing(
    store: Store, account_id: str, stage: str, *, code: Any, message: str, at: datetime
) -> None:
    await store.accounts.update_one(
        {"_id": account_id},
        {"$set": {f"capabilities.{stage}": {"available": False, "code": code, "message": message, "at": at}}},
    )
