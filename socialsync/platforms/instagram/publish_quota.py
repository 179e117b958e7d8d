"""How much of an account's publishing quota is left, without calling Meta (for dry runs).

Meta's ``content_publishing_limit`` (PLATFORM_FACTS.md §3: ``quota_total`` posts per
``quota_duration`` seconds, 100 per 24 h in the docs, read at run time) is read by the worker
before each publish; the last answer is remembered in Redis for the length of its window. The
web receiver never calls Meta, so a dry run estimates from that answer and from our own posts:
used = max(Meta's last usage, our posts published in the window) + our active posts due by then.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from typing import Any

from redis.asyncio import Redis

from socialsync.platforms.instagram.containers import PublishingLimit

DOCUMENTED_TOTAL, DOCUMENTED_WINDOW = 100, 86400


def _key(ig_user_id: str) -> str:
    return f"publish:quota:{ig_user_id}"


async def remember(redis: Redis, ig_user_id: str, limit: PublishingLimit) -> None:
    value = {"usage": limit.quota_usage, "total": limit.config.quota_total,
             "duration": limit.config.quota_duration}
    await redis.set(_key(ig_user_id), json.dumps(value), ex=max(1, limit.config.quota_duration))


@dataclass(frozen=True)
class QuotaEstimate:
    total: int
    window_seconds: int
    left: int
    frees_at: datetime | None  # when the next slot frees, if none is left


async def estimate(redis: Redis, own_posts: Any, ig_user_id: str, at: datetime) -> QuotaEstimate:
    """``own_posts``: the core's read-only view of the account's posts (publishing/own_posts.py)."""
    raw = await redis.get(_key(ig_user_id))
    seen = json.loads(raw) if raw else {}
    total = int(seen.get("total", DOCUMENTED_TOTAL))
    window = int(seen.get("duration", DOCUMENTED_WINDOW))
    ours = await own_posts.published_since(at - timedelta(seconds=window))
    ahead = await own_posts.active_due_by(at)
    used = max(int(seen.get("usage", 0)), len(ours)) + ahead
    left = max(0, total - used)
    frees_at = None
    if left == 0:
        frees_at = ours[0] + timedelta(seconds=window) if ours else at + timedelta(seconds=window)
    return QuotaEstimate(total=total, window_seconds=window, left=left, frees_at=frees_at)
