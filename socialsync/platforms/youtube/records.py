"""YouTube answers parsed into records (pydantic at the boundary): counts from strings,
RFC 3339 times with ``Z`` or fractions, ISO 8601 durations, the Shorts rule."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

SHORT_MAX_SECONDS = 180
_DURATION = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def duration_seconds(value: str | None) -> int | None:
    """ISO 8601 duration (``PT1H2M3S``, ``P0D`` while live) in seconds; None if unparseable."""
    if not value:
        return None
    match = _DURATION.match(value)
    if match is None or value in ("P", "PT"):
        return None
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    return int(parts["w"] * 604800 + parts["d"] * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"])


def parse_time(value: str | None) -> datetime | None:
    """RFC 3339 with ``Z``, ``.000Z`` or a nanosecond fraction (WebSub) -> aware UTC."""
    if not value:
        return None
    text = _FRACTION.sub(lambda m: m.group(1), value.strip()).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def count(value: Any) -> int | None:
    """Counts arrive as JSON strings (uint64); missing stays missing (None), never 0."""
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def is_short(duration: int | None, width: int | None, height: int | None) -> bool | None:
    """YouTube's rule: square or vertical, and at most 3 minutes. Unknown frame -> None."""
    if duration is None or not width or not height:
        return None
    return height >= width and duration <= SHORT_MAX_SECONDS


class ChannelRecord(BaseModel):
    channel_id: str
    title: str
    description: str = ""
    custom_url: str | None = None
    published_at: datetime | None = None
    country: str | None = None
    thumbnail_url: str | None = None
    subscriber_count: int | None = None  # None when hidden: missing, not 0
    hidden_subscriber_count: bool = False
    view_count: int | None = None
    video_count: int | None = None
    uploads_playlist_id: str | None = None

    @classmethod
    def parse(cls, item: dict[str, Any]) -> ChannelRecord:
        snippet = item.get("snippet") or {}
        stats = item.get("statistics") or {}
        related = (item.get("contentDetails") or {}).get("relatedPlaylists") or {}
        thumbs = snippet.get("thumbnails") or {}
        hidden = bool(stats.get("hiddenSubscriberCount", False))
        return cls(
            channel_id=item["id"], title=snippet.get("title", ""),
            description=snippet.get("description", ""), custom_url=snippet.get("customUrl"),
            published_at=parse_time(snippet.get("publishedAt")), country=snippet.get("country"),
            thumbnail_url=(thumbs.get("high") or thumbs.get("default") or {}).get("url"),
            subscriber_count=None if hidden else count(stats.get("subscriberCount")),
            hidden_subscriber_count=hidden, view_count=count(stats.get("viewCount")),
            video_count=count(stats.get("videoCount")),
            uploads_playlist_id=related.get("uploads") or None,
        )


class VideoRecord(BaseModel):
    """One upload in the common media shape (``platform: "youtube"``)."""

    id: str
    caption: str | None = None  # the title, where Instagram has its caption
    title: str
    description: str = ""
    timestamp: datetime | None = None
    permalink: str
    thumbnail_url: str | None = None
    media_type: str = "VIDEO"
    media_product_type: str  # "SHORTS" or "VIDEO"
    is_short: bool | None = None
    duration_seconds: int | None = None
    privacy_status: str | None = None
    made_for_kids: bool | None = None
    tags: list[str] = []
    category_id: str | None = None
    like_count: int | None = None
    comments_count: int | None = None
    view_count: int | None = None
    insights: dict[str, int] | None = None

    @classmethod
    def parse(cls, item: dict[str, Any]) -> VideoRecord:
        snippet = item.get("snippet") or {}
        stats = item.get("statistics") or {}
        details = item.get("contentDetails") or {}
        status = item.get("status") or {}
        streams = ((item.get("fileDetails") or {}).get("videoStreams") or [{}])
        stream = streams[0] if streams else {}
        duration = duration_seconds(details.get("duration"))
        short = is_short(duration, stream.get("widthPixels"), stream.get("heightPixels"))
        thumbs = snippet.get("thumbnails") or {}
        views, likes, comments = count(stats.get("viewCount")), count(stats.get("likeCount")), count(stats.get("commentCount"))
        insights = {k: v for k, v in (("views", views), ("likes", likes), ("comments", comments)) if v is not None}
        return cls(
            id=item["id"], caption=snippet.get("title"), title=snippet.get("title", ""),
            description=snippet.get("description", ""), timestamp=parse_time(snippet.get("publishedAt")),
            permalink=f"https://www.youtube.com/watch?v={item['id']}" if not short else f"https://www.youtube.com/shorts/{item['id']}",
            thumbnail_url=(thumbs.get("high") or thumbs.get("default") or {}).get("url"),
            media_product_type="SHORTS" if short else "VIDEO", is_short=short,
            duration_seconds=duration, privacy_status=status.get("privacyStatus"),
            made_for_kids=status.get("madeForKids"), tags=list(snippet.get("tags") or []),
            category_id=snippet.get("categoryId"), like_count=likes, comments_count=comments,
            view_count=views, insights=insights or None,
        )


class CommentRecord(BaseModel):
    comment_id: str
    video_id: str | None
    parent_id: str | None
    text: str | None
    author_name: str | None
    author_channel_id: str | None
    timestamp: datetime | None
    like_count: int | None

    @classmethod
    def parse(cls, comment: dict[str, Any], *, video_id: str | None = None, parent_id: str | None = None) -> CommentRecord:
        snippet = comment.get("snippet") or {}
        return cls(
            comment_id=comment["id"], video_id=snippet.get("videoId") or video_id,
            parent_id=snippet.get("parentId") or parent_id,
            text=snippet.get("textOriginal", snippet.get("textDisplay")),  # textDisplay is HTML
            author_name=snippet.get("authorDisplayName"),
            author_channel_id=(snippet.get("authorChannelId") or {}).get("value"),
            timestamp=parse_time(snippet.get("publishedAt")), like_count=count(snippet.get("likeCount")),
        )
