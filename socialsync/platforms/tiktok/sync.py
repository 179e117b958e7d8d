"""TikTok sync stages: profile, videos (all, or new since the high-water mark), counts.

- ``profile``: ``/v2/user/info/`` with the fields the scopes allow → the profile + one metric
  point per count (follower history).
- ``videos``: ``/v2/video/list/`` newest first, ≤ 20 a page, ``cursor`` a millisecond timestamp.
  The stage's cross-run ``state`` keeps ``high_water_ms`` (the newest video of the last complete
  listing): a later run stops at the first video at or below it, so an incremental sync costs one
  call when little is new. The run's ``checkpoint`` keeps the ``cursor`` to resume from.
- ``counts``: ``/v2/video/query/`` for the stored videos inside the look-back (the core puts
  their ids in the checkpoint as ``video_ids``), 20 ids a call: fresh counts and a fresh
  ``cover_image_url``, stored with its expiry (the CDN link dies after ~6 h: never permanent).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from socialsync.platforms.base import AccountRef, MediaRecord, MetricPoint, ProfileRecord, StoredView, SyncBatch
from socialsync.platforms.tiktok.client import TikTokClient
from socialsync.platforms.tiktok.profile import COUNT_METRICS, profile_fields, profile_from_user

VIDEO_FIELDS = [
    "id", "create_time", "cover_image_url", "share_url", "video_description", "duration",
    "height", "width", "title", "embed_link", "like_count", "comment_count", "share_count", "view_count",
]
PAGE_SIZE = 20
QUERY_IDS = 20
COVER_TTL = timedelta(hours=6)
SYNC_KINDS = {
    "full": ("profile", "videos", "counts"),
    "recent": ("profile", "videos", "counts"),
    "media": ("videos",),
    "counts": ("counts",),
}


def cover_expiry(url: str | None, fetched: datetime) -> datetime | None:
    """The CDN link's own ``x-expires`` when it has one, else fetch time + 6 h."""
    if not url:
        return None
    raw = parse_qs(urlsplit(url).query).get("x-expires", [""])[0]
    if raw.isdigit():
        return datetime.fromtimestamp(int(raw), UTC)
    return fetched + COVER_TTL


def media_record(video: Mapping[str, Any], now: datetime) -> MediaRecord:
    """A TikTok video in the common media shape (id as a string; counts also as insights)."""
    created = video.get("create_time")
    cover = video.get("cover_image_url")
    fields = {
        "caption": video.get("title") or video.get("video_description"),
        "description": video.get("video_description"),
        "media_type": "VIDEO",
        "media_product_type": "TIKTOK",
        "permalink": video.get("share_url"),
        "timestamp": datetime.fromtimestamp(int(created), UTC) if isinstance(created, int | float) else None,
        "like_count": video.get("like_count"),
        "comments_count": video.get("comment_count"),
        "thumbnail_url": cover,
        "thumbnail_expires_at": cover_expiry(cover, now),
        "duration": video.get("duration"),
        "width": video.get("width"),
        "height": video.get("height"),
        "embed_link": video.get("embed_link"),
    }
    insights = {
        name: video[key] for key, name in (
            ("view_count", "views"), ("like_count", "likes"), ("comment_count", "comments"), ("share_count", "shares"),
        ) if isinstance(video.get(key), int)
    }
    return MediaRecord(platform_id=str(video["id"]), fields={k: v for k, v in fields.items() if v is not None},
                       insights=insights or None)


class TikTokSync:
    def __init__(self, client: TikTokClient, *, max_pages: int = 500) -> None:
        self._client = client
        self._max_pages = max_pages

    def stage(
        self, account: AccountRef, name: str, *, checkpoint: Mapping[str, Any], state: Mapping[str, Any],
        now: datetime, view: StoredView | None = None,  # nothing stored to ask
    ) -> AsyncIterator[SyncBatch]:
        if name == "profile":
            return self._profile(account, now)
        if name == "videos":
            return self._videos(account, checkpoint, state, now)
        if name == "counts":
            return self._counts(account, checkpoint, now)
        raise ValueError(f"tiktok has no sync stage {name!r}")

    async def _call(self, account: AccountRef, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return await self._client.api(
            method, path, token=account.credentials.access_token, account_key=account.external_id, **kwargs
        )

    async def _profile(self, account: AccountRef, now: datetime) -> AsyncIterator[SyncBatch]:
        granted = account.credentials.scopes
        # Unknown scopes (a caller that does not pass them): the three connect requires.
        scopes = granted or ("user.info.basic", "user.info.profile", "user.info.stats")
        data = await self._call(account, "GET", "/v2/user/info/", fields=profile_fields(scopes))
        profile = profile_from_user(data.get("user") or {})
        points = [MetricPoint(metric=m, at=now, value=float(profile[m])) for m in COUNT_METRICS
                  if isinstance(profile.get(m), int | float)]
        calls = 1
        if "video.publish" in scopes:  # what the creator may post now: validation reads it
            info = await self._call(account, "POST", "/v2/post/publish/creator_info/query/", json={})
            profile["creator_info"] = {**info, "read_at": now.isoformat()}
            calls += 1
        yield SyncBatch(records=[ProfileRecord(fields=profile), *points], checkpoint={"at": now.isoformat()}, calls=calls)

    async def _videos(
        self, account: AccountRef, checkpoint: Mapping[str, Any], state: Mapping[str, Any], now: datetime,
    ) -> AsyncIterator[SyncBatch]:
        high_water = state.get("high_water_ms")
        cursor = checkpoint.get("cursor")
        newest = checkpoint.get("run_newest_ms")
        for _ in range(self._max_pages):
            body: dict[str, Any] = {"max_count": PAGE_SIZE}
            if cursor is not None:
                body["cursor"] = int(cursor)
            data = await self._call(account, "POST", "/v2/video/list/", fields=VIDEO_FIELDS, json=body)
            videos = [v for v in data.get("videos") or [] if isinstance(v, dict) and v.get("id") is not None]
            fresh = []
            reached_known = False
            for v in videos:
                created_ms = int(v.get("create_time") or 0) * 1000
                if high_water is not None and created_ms <= int(high_water):
                    reached_known = True
                    break
                fresh.append(v)
                newest = max(newest or 0, created_ms)
            more = bool(data.get("has_more")) and not reached_known and bool(videos)
            cursor = data.get("cursor")
            records = [media_record(v, now) for v in fresh]
            if more:
                yield SyncBatch(records=records, calls=1, checkpoint={"cursor": cursor, "run_newest_ms": newest})
                continue
            final_high = max(int(high_water or 0), int(newest or 0)) or None
            yield SyncBatch(records=records, calls=1, checkpoint={"cursor": None, "done": True},
                            state={"high_water_ms": final_high})
            return

    async def _counts(self, account: AccountRef, checkpoint: Mapping[str, Any], now: datetime) -> AsyncIterator[SyncBatch]:
        ids = [str(i) for i in checkpoint.get("video_ids") or []]
        start = int(checkpoint.get("done") or 0)
        for offset in range(start, len(ids), QUERY_IDS):
            chunk = ids[offset:offset + QUERY_IDS]
            data = await self._call(account, "POST", "/v2/video/query/", fields=VIDEO_FIELDS,
                                    json={"filters": {"video_ids": chunk}})
            records = [media_record(v, now) for v in data.get("videos") or [] if isinstance(v, dict) and v.get("id")]
            yield SyncBatch(records=records, calls=1,
                            checkpoint={"video_ids": ids, "done": offset + len(chunk)})
