"""Sync stages of a YouTube channel (``spec.sync_kinds``), yielding records + checkpoints.

The cross-run ``state`` (kept by the core per account and stage) carries what the next run
needs: ``recent`` = the newest uploads as ``[video id, published at]`` (the incremental listing
stops at the first of them; those inside the look-back get their statistics refreshed),
``newest_comment_at`` and the last analytics day stored (``through``). The ``checkpoint`` is
this run's progress (the playlist page token of a full listing). Units: ``channel`` 1; ``videos_all`` 2 per 50 videos; ``videos_new`` 2
when fewer than 50 videos are new or recent; ``comments`` 1 per 100 threads (+1 per long
thread); analytics are not Data API units.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from socialsync.platforms.base import (
    AccountRef,
    AudienceRecord,
    CommentRecord,
    ErrorKind,
    ItemProblem,
    MediaRecord,
    MetricPoint,
    PlatformError,
    ProfileRecord,
    StoredView,
    SyncBatch,
)
from socialsync.platforms.youtube import analytics, reads
from socialsync.platforms.youtube.errors import YouTubeError
from socialsync.platforms.youtube.records import VideoRecord, parse_time

if TYPE_CHECKING:
    from socialsync.platforms.youtube.parts import Parts

RECENT_KEEP = 50
NOT_YET = "not yet available (YouTube Analytics lags 48-72 h)"


def media_record(video: VideoRecord) -> MediaRecord:
    fields = video.model_dump(exclude={"id", "insights"})
    fields["platform"] = "youtube"
    return MediaRecord(platform_id=video.id, fields=fields, insights=video.insights)


def _recent(videos: list[VideoRecord], before: list[list[str]]) -> list[list[str]]:
    merged = {v.id: (v.timestamp.isoformat() if v.timestamp else "") for v in videos}
    for video_id, at in before:
        merged.setdefault(video_id, at)
    ordered = sorted(merged.items(), key=lambda kv: kv[1], reverse=True)
    return [[k, v] for k, v in ordered[:RECENT_KEEP]]


class ChannelSyncer:
    def __init__(self, parts: Parts) -> None:
        self.p = parts

    def stage(self, account: AccountRef, name: str, *, checkpoint: Mapping[str, Any],
              state: Mapping[str, Any] | None = None, now: datetime,
              view: StoredView | None = None) -> AsyncIterator[SyncBatch]:  # nothing stored to ask
        runner = {
            "channel": self._channel, "videos": self._videos,
            "videos_all": self._videos_all, "videos_new": self._videos_new,
            "analytics": self._analytics, "audience": self._audience, "comments": self._comments,
        }[name]
        # one dict per stage: this run's progress over the state kept across runs
        return self._guard(runner(account, {**(state or {}), **checkpoint}, now))

    async def _guard(self, batches: AsyncIterator[SyncBatch]) -> AsyncIterator[SyncBatch]:
        from socialsync.platforms.youtube.plugin import to_platform_error  # noqa: PLC0415

        try:
            async for batch in batches:
                yield batch
        except YouTubeError as exc:
            raise to_platform_error(exc) from exc

    def _client(self, account: AccountRef):  # type: ignore[no-untyped-def]
        return self.p.client(account.credentials.access_token, account_id=account.id,
                             active_accounts=int(account.extra.get("active_accounts", 1) or 1))

    async def _channel(self, account: AccountRef, cp: dict[str, Any], now: datetime) -> AsyncIterator[SyncBatch]:
        yt = self._client(account)
        channel = await reads.my_channel(yt)
        fields = {"followers_count": channel.subscriber_count, "subscriber_count": channel.subscriber_count,
                  "hidden_subscriber_count": channel.hidden_subscriber_count, "view_count": channel.view_count,
                  "media_count": channel.video_count, "name": channel.title, "custom_url": channel.custom_url,
                  "uploads_playlist_id": channel.uploads_playlist_id}
        records: list[Any] = [ProfileRecord(fields=fields)]
        if channel.subscriber_count is not None:  # hidden: no point, never a 0
            records.append(MetricPoint("followers_count", now, float(channel.subscriber_count)))
        if channel.view_count is not None:
            records.append(MetricPoint("channel_views", now, float(channel.view_count)))
        yield SyncBatch(records, {"uploads_playlist_id": channel.uploads_playlist_id}, calls=yt.calls)

    def _playlist(self, account: AccountRef, cp: Mapping[str, Any]) -> str:
        playlist = cp.get("uploads_playlist_id") or account.extra.get("uploads_playlist_id") \
            or account.profile.get("uploads_playlist_id")
        if not playlist:
            raise PlatformError("no uploads playlist known for this channel", kind=ErrorKind.INVALID_PARAMETER)
        return str(playlist)

    def _videos(self, account: AccountRef, cp: dict[str, Any], now: datetime) -> AsyncIterator[SyncBatch]:
        """The one videos stage every kind uses, so its cross-run state (``recent``) is shared:
        the whole uploads playlist while nothing is known yet (or a listing is under way),
        afterwards only what is newer than the newest stored upload."""
        if cp.get("recent") and not cp.get("page_token"):
            return self._videos_new(account, cp, now)
        return self._videos_all(account, cp, now)

    async def _videos_all(self, account: AccountRef, cp: dict[str, Any], now: datetime) -> AsyncIterator[SyncBatch]:
        yt = self._client(account)
        playlist = self._playlist(account, cp)
        token = cp.get("page_token")
        recent: list[list[str]] = cp.get("recent") or []
        counted = 0  # each batch reports the calls made for it (the run adds them up)
        while True:
            params = {"part": "contentDetails", "playlistId": playlist, "maxResults": "50"}
            if token:
                params["pageToken"] = token
            body = await yt.get("playlistItems.list", "/youtube/v3/playlistItems", params)
            ids = [str((i.get("contentDetails") or {}).get("videoId")) for i in body.get("items") or []]
            videos = await reads.videos(yt, [i for i in ids if i and i != "None"])
            recent = _recent(videos, recent)
            token = body.get("nextPageToken")
            yield SyncBatch([media_record(v) for v in videos],
                            {"page_token": token, "recent": recent, "uploads_playlist_id": playlist,
                             "complete": not token}, calls=yt.calls - counted,
                            state={"recent": recent, "uploads_playlist_id": playlist})
            counted = yt.calls
            if not token:
                return

    async def _videos_new(self, account: AccountRef, cp: dict[str, Any], now: datetime) -> AsyncIterator[SyncBatch]:
        yt = self._client(account)
        playlist = self._playlist(account, cp)
        recent: list[list[str]] = cp.get("recent") or []
        known = {video_id for video_id, _ in recent}

        async def is_known(batch: list[str]) -> set[str]:
            return known & set(batch)

        listing = await reads.new_uploads(yt, playlist, is_known, max_pages=20)
        horizon = now - timedelta(days=self.p.block.lookback_days)
        lookback = [vid for vid, at in recent if (parse_time(at) or horizon) >= horizon]
        room = max(0, reads.PAGE - len(listing.ids) % reads.PAGE) if listing.ids else reads.PAGE
        videos = await reads.videos(yt, listing.ids + lookback[:room])
        seen = {v.id for v in videos}
        gone = [vid for vid in lookback[:room] if vid not in seen]  # deleted or made private
        records: list[Any] = [media_record(v) for v in videos]
        records += [MediaRecord(platform_id=vid, fields={"deleted": True, "platform": "youtube"}) for vid in gone]
        recent = [r for r in _recent(videos, recent) if r[0] not in set(gone)]
        yield SyncBatch(records, {"recent": recent, "uploads_playlist_id": playlist,
                                  "new": len(listing.ids), "stopped_at": listing.stopped_at_known}, calls=yt.calls,
                        state={"recent": recent, "uploads_playlist_id": playlist})

    async def _analytics(self, account: AccountRef, cp: dict[str, Any], now: datetime) -> AsyncIterator[SyncBatch]:
        yt = self._client(account)
        end = now.date()
        through = cp.get("through")
        start = (datetime.fromisoformat(through).date() - timedelta(days=3)) if through else \
            end - timedelta(days=self.p.block.analytics_days)
        table = await analytics.daily(yt, start, end)
        if not table.available:
            yield SyncBatch([ItemProblem("analytics", NOT_YET)], {"through": through}, calls=yt.calls,
                            state={"through": through})
            return
        points: list[Any] = []
        last = through
        for row in table.rows:
            day = datetime.fromisoformat(str(row["day"])).replace(tzinfo=now.tzinfo)
            last = max(last or "", str(row["day"]))
            for metric, value in row.items():
                if metric != "day" and value is not None:
                    points.append(MetricPoint(metric, day, float(value)))
        # per-video totals for the newest uploads: one playlist page (1 unit) names them
        playlist = self._playlist(account, cp)
        page = await yt.get("playlistItems.list", "/youtube/v3/playlistItems",
                            {"part": "contentDetails", "playlistId": playlist, "maxResults": "50"})
        recent_ids = [str((i.get("contentDetails") or {}).get("videoId")) for i in page.get("items") or []]
        per_video = await analytics.per_video(yt, start, end, recent_ids)
        for row in per_video.rows:
            for metric, value in row.items():
                if metric != "video":
                    points.append(MetricPoint(f"period_{metric}", now, float(value), subject="media",
                                              subject_id=str(row["video"])))
        yield SyncBatch(points, {"through": last}, calls=yt.calls,
                        state={"through": last})

    async def _audience(self, account: AccountRef, cp: dict[str, Any], now: datetime) -> AsyncIterator[SyncBatch]:
        yt = self._client(account)
        end = now.date()
        start = end - timedelta(days=self.p.block.analytics_days)
        records: list[Any] = []
        demo = await analytics.demographics(yt, start, end)
        if demo.available:
            records.append(AudienceRecord("age_gender", {f"{r['ageGroup']}.{r['gender']}": r["viewerPercentage"]
                                                         for r in demo.rows}, now))
        else:
            records.append(ItemProblem("audience", "age_gender " + NOT_YET))
        geo = await analytics.countries(yt, start, end)
        if geo.available:
            records.append(AudienceRecord("country", {str(r["country"]): r["views"] for r in geo.rows}, now))
        else:
            records.append(ItemProblem("audience", "country " + NOT_YET))
        yield SyncBatch(records, {}, calls=yt.calls)

    async def _comments(self, account: AccountRef, cp: dict[str, Any], now: datetime) -> AsyncIterator[SyncBatch]:
        yt = self._client(account)
        listing = await reads.new_comments(yt, account.external_id, newest_stored=cp.get("newest_comment_at"))
        newest = cp.get("newest_comment_at")
        records = []
        for c in listing.comments:
            if c.parent_id is None and c.timestamp is not None:
                newest = max(newest or "", c.timestamp.isoformat())
            records.append(CommentRecord(platform_id=c.comment_id, media_id=c.video_id, text=c.text,
                                         timestamp=c.timestamp, parent_id=c.parent_id,
                                         from_id=c.author_channel_id, from_username=c.author_name,
                                         extra={"like_count": c.like_count}))
        yield SyncBatch(records, {"newest_comment_at": newest}, calls=yt.calls,
                        state={"newest_comment_at": newest})
