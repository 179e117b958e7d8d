"""Audience demographics snapshots: one document per (account, metric, breakdown, day)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from socialsync.store import Store
from socialsync.store.migrations import platform_of

COLLECTION = "audience"


async def ensure_indexes(store: Store) -> None:
    await store[COLLECTION].create_index([("account_id", 1), ("taken_at", -1)])


async def put(
    store: Store, account: dict[str, Any], metric: str, breakdown: str, timeframe: str,
    values: dict[str, float], *, taken_at: datetime,
) -> None:
    day = taken_at.strftime("%Y-%m-%d")
    await store[COLLECTION].update_one(
        {"_id": f"{account['_id']}:{metric}:{breakdown}:{day}"},
        {"$set": {"account_id": account["_id"], "tenant_id": account["tenant_id"],
                  "platform": platform_of(account), "metric": metric,
                  "breakdown": breakdown, "timeframe": timeframe, "values": values, "taken_at": taken_at}},
        upsert=True,
    )


async def latest(store: Store, account_id: str) -> list[dict[str, Any]]:
    """The newest snapshot of each (metric, breakdown)."""
    seen: set[tuple[str, str]] = set()
    out: list[dict[str, Any]] = []
    async for doc in store[COLLECTION].find({"account_id": account_id}).sort("taken_at", -1).limit(200):
        key = (doc["metric"], doc["breakdown"])
        if key not in seen:
            seen.add(key)
            out.append(doc)
    return out
