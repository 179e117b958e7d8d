"""Time series of account (and media) figures: one document per (subject, metric, timestamp).

Follower history comes from a point per profile read; daily account insights from Meta's day
values. The id is derived from the three keys, so writing a point twice stores it once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import UpdateOne

from socialsync.store import Store
from socialsync.store.migrations import platform_of

COLLECTION = "metrics"


async def ensure_indexes(store: Store) -> None:
    await store[COLLECTION].create_index([("account_id", 1), ("metric", 1), ("ts", 1)])


def point(
    account: dict[str, Any], metric: str, ts: datetime, value: float, *, source: str, day: bool = False
) -> UpdateOne:
    """``day``: ``ts`` is a calendar-day label (00:00 UTC of the measured day), not an instant."""
    fields: dict[str, Any] = {"account_id": account["_id"], "tenant_id": account["tenant_id"],
                              "platform": platform_of(account), "metric": metric,
                              "ts": ts, "value": value, "source": source}
    if day:
        fields["day"] = True
    return UpdateOne({"_id": f"{account['_id']}:{metric}:{ts.isoformat()}"}, {"$set": fields}, upsert=True)


async def drop_unlabelled_insights(store: Store, account_id: str) -> int:
    """Daily insight points written before days were labelled with the measured day (stamped with
    Meta's ``end_time``, one day late): removed, the stage rewrites them labelled. Idempotent."""
    result = await store[COLLECTION].delete_many(
        {"account_id": account_id, "source": "insights", "day": {"$exists": False}}
    )
    return result.deleted_count


async def write(store: Store, points: list[UpdateOne]) -> None:
    if points:
        await store[COLLECTION].bulk_write(points, ordered=False)


async def series(
    store: Store, account_id: str, metric: str, *, since: datetime | None, until: datetime | None, limit: int = 5000
) -> list[dict[str, Any]]:
    query: dict[str, Any] = {"account_id": account_id, "metric": metric}
    if since or until:
        query["ts"] = {k: v for k, v in (("$gte", since), ("$lt", until)) if v is not None}
    cursor = store[COLLECTION].find(query, {"ts": 1, "value": 1}).sort("ts", 1).limit(limit)
    return [d async for d in cursor]
