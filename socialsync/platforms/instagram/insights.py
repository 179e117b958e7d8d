"""Which insight metrics to ask for, by product type, and how to read Meta's answers.

Only current metrics (PLATFORM_FACTS.md §2): the deprecated ones (impressions, plays,
video_views, clips_replays_count, ig_reels_aggregated_all_plays_count) are never requested.
``COMMON`` is what every feed/reel product type supports, so it can be expanded on a whole page
of mixed media (one unsupported metric would fail the page); ``EXTRAS`` are fetched per item.
"""

from __future__ import annotations

from typing import Any

from socialsync.platforms.instagram.errors import GraphError

COMMON: tuple[str, ...] = ("reach", "views", "likes", "comments", "saved", "shares", "total_interactions")
EXTRAS: dict[str, tuple[str, ...]] = {
    "FEED": ("follows", "profile_visits"),
    "REELS": ("ig_reels_avg_watch_time", "ig_reels_video_view_total_time"),
}
STORY: tuple[str, ...] = (
    "reach", "views", "replies", "shares", "follows", "profile_visits", "total_interactions", "navigation",
)
DEPRECATED = frozenset(
    {"impressions", "plays", "video_views", "clips_replays_count", "ig_reels_aggregated_all_plays_count"}
)
BEFORE_CONVERSION_SUBCODE = 2108006


def extras_for(product_type: str | None) -> tuple[str, ...]:
    return EXTRAS.get(product_type or "FEED", ())


def all_for(product_type: str | None) -> tuple[str, ...]:
    if product_type == "STORY":
        return STORY
    return COMMON + extras_for(product_type)


def parse(body: Any) -> dict[str, float | int]:
    """``{"data": [{name, values: [{value}]} | {name, total_value: {value}}]}`` → {name: value}.
    An empty ``data`` (no data yet) gives {}: stored as missing, never as zero."""
    out: dict[str, float | int] = {}
    for entry in (body or {}).get("data") or []:
        name = entry.get("name")
        value = None
        if isinstance(entry.get("values"), list) and entry["values"]:
            value = entry["values"][-1].get("value")
        if value is None and isinstance(entry.get("total_value"), dict):
            value = entry["total_value"].get("value")
        if name and isinstance(value, int | float):
            out[name] = value
    return out


def is_item_error(exc: GraphError) -> bool:
    """An error that one media item (not the request) causes: metric unsupported for its type
    (100), posted before business conversion (100/2108006), a story with < 5 viewers (10)."""
    return exc.code in (100, 10)


def item_error(exc: GraphError) -> dict[str, Any]:
    """How a per-item insight error is recorded on the item (never fails the run)."""
    reason = {
        BEFORE_CONVERSION_SUBCODE: "posted_before_business_conversion",
    }.get(exc.subcode or 0) or ("not_enough_viewers" if exc.code == 10 else "metric_unavailable")
    return {"reason": reason, "code": exc.code, "subcode": exc.subcode, "fbtrace_id": exc.fbtrace_id}
