"""YouTube Analytics API v2 (reports.query, ``ids=channel==MINE``).

Rows are read by their column headers (dimensions then metrics, in request order), never by
position assumptions. Data lags 48-72 h and ``rows`` is omitted when there is none: the result
says "not yet available" (``available=False``) instead of storing zeros.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from socialsync.platforms.youtube.client import YouTubeClient
from socialsync.platforms.youtube.errors import YouTubeError

DAILY_METRICS = ("views", "estimatedMinutesWatched", "averageViewDuration", "subscribersGained",
                 "subscribersLost", "likes", "comments", "shares", "engagedViews")
BASE_DAILY = DAILY_METRICS[:-1]
VIDEO_METRICS = ("views", "estimatedMinutesWatched", "averageViewDuration", "likes", "comments", "shares")


@dataclass
class Table:
    available: bool
    rows: list[dict[str, Any]] = field(default_factory=list)


def table(body: dict[str, Any]) -> Table:
    names = [str(h.get("name")) for h in body.get("columnHeaders") or []]
    rows = body.get("rows")
    if not rows:
        return Table(available=False)
    return Table(available=True, rows=[dict(zip(names, row, strict=False)) for row in rows])


async def _query(client: YouTubeClient, start: date, end: date, metrics: tuple[str, ...], **extra: str) -> Table:
    params = {"ids": "channel==MINE", "startDate": start.isoformat(), "endDate": end.isoformat(),
              "metrics": ",".join(metrics), **extra}
    return table(await client.analytics(params))


async def daily(client: YouTubeClient, start: date, end: date) -> Table:
    """The channel's daily series; ``engagedViews`` where the API has it (else without)."""
    try:
        return await _query(client, start, end, DAILY_METRICS, dimensions="day", sort="day")
    except YouTubeError as exc:
        if exc.status != 400:
            raise
        return await _query(client, start, end, BASE_DAILY, dimensions="day", sort="day")


async def demographics(client: YouTubeClient, start: date, end: date) -> Table:
    return await _query(client, start, end, ("viewerPercentage",), dimensions="ageGroup,gender", sort="ageGroup,gender")


async def countries(client: YouTubeClient, start: date, end: date) -> Table:
    return await _query(client, start, end, ("views",), dimensions="country", sort="-views", maxResults="50")


async def per_video(client: YouTubeClient, start: date, end: date, video_ids: list[str]) -> Table:
    if not video_ids:
        return Table(available=False)
    return await _query(client, start, end, VIDEO_METRICS, dimensions="video",
                        filters="video==" + ",".join(video_ids[:200]), sort="-views",
                        maxResults=str(min(200, len(video_ids))))
