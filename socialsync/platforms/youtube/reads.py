"""Reading a channel within the unit budget (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §7.3-§7.5).

A full sync of N videos costs ``1 + 2 * ceil(N / 50)`` units: channels.list, the uploads
playlist 50 per page, videos.list 50 ids per call. An incremental sync stops paging at the first
known video and refreshes the look-back videos in the same videos.list call: 3 units when fewer
than 50 videos are new or recent. Never ``search.list``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from socialsync.platforms.youtube.client import YouTubeClient
from socialsync.platforms.youtube.errors import NoChannel
from socialsync.platforms.youtube.records import ChannelRecord, CommentRecord, VideoRecord, parse_time

PAGE = 50
CHANNEL_PARTS = "snippet,statistics,contentDetails,status"
VIDEO_PARTS = "snippet,contentDetails,statistics,status,fileDetails"

KnownIds = Callable[[list[str]], Awaitable[set[str]]]


async def my_channel(client: YouTubeClient) -> ChannelRecord:
    body = await client.get("channels.list", "/youtube/v3/channels", {"part": CHANNEL_PARTS, "mine": "true"})
    items = body.get("items") or []
    if not items:
        raise NoChannel(200, "noChannel", "the Google account has no YouTube channel")
    return ChannelRecord.parse(items[0])


@dataclass
class UploadsListing:
    ids: list[str] = field(default_factory=list)  # new video ids, newest first
    complete: bool = False  # paged to the end (a full listing)
    stopped_at_known: str | None = None
    pages: int = 0


async def new_uploads(client: YouTubeClient, playlist_id: str, known: KnownIds, *,
                      max_pages: int = 10_000) -> UploadsListing:
    """Page the uploads playlist newest first, stopping at the first video already stored."""
    listing = UploadsListing()
    token: str | None = None
    while listing.pages < max_pages:
        params = {"part": "contentDetails", "playlistId": playlist_id, "maxResults": str(PAGE)}
        if token:
            params["pageToken"] = token
        body = await client.get("playlistItems.list", "/youtube/v3/playlistItems", params)
        listing.pages += 1
        ids = [str((i.get("contentDetails") or {}).get("videoId") or "") for i in body.get("items") or []]
        ids = [i for i in ids if i]
        stored = await known(ids) if ids else set()
        for video_id in ids:
            if video_id in stored:
                listing.stopped_at_known = video_id
                return listing
            listing.ids.append(video_id)
        token = body.get("nextPageToken")
        if not token:
            listing.complete = True
            return listing
    return listing


async def videos(client: YouTubeClient, ids: Sequence[str]) -> list[VideoRecord]:
    """Details and statistics, 50 ids per videos.list call."""
    out: list[VideoRecord] = []
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), PAGE):
        batch = unique[start:start + PAGE]
        body = await client.get("videos.list", "/youtube/v3/videos", {"part": VIDEO_PARTS, "id": ",".join(batch)})
        out += [VideoRecord.parse(item) for item in body.get("items") or []]
    return out


@dataclass
class CommentsListing:
    comments: list[CommentRecord] = field(default_factory=list)
    pages: int = 0
    reply_calls: int = 0


async def new_comments(client: YouTubeClient, channel_id: str, *, newest_stored: str | None,
                       max_pages: int = 50) -> CommentsListing:
    """Threads on the channel's videos, newest first, until the newest stored thread's time;
    replies beyond those inline via comments.list?parentId."""
    listing = CommentsListing()
    since = parse_time(newest_stored) if newest_stored else None
    token: str | None = None
    while listing.pages < max_pages:
        params = {"part": "snippet,replies", "allThreadsRelatedToChannelId": channel_id,
                  "order": "time", "textFormat": "plainText", "maxResults": "100"}
        if token:
            params["pageToken"] = token
        body = await client.get("commentThreads.list", "/youtube/v3/commentThreads", params)
        listing.pages += 1
        for thread in body.get("items") or []:
            snippet = thread.get("snippet") or {}
            top = snippet.get("topLevelComment") or {}
            record = CommentRecord.parse({**top, "id": thread["id"]}, video_id=snippet.get("videoId"))
            if since is not None and record.timestamp is not None and record.timestamp <= since:
                return listing
            listing.comments.append(record)
            inline = (thread.get("replies") or {}).get("comments") or []
            if int(snippet.get("totalReplyCount") or 0) > len(inline):
                listing.comments += await _all_replies(client, thread["id"], record.video_id, listing)
            else:
                listing.comments += [CommentRecord.parse(r, video_id=record.video_id, parent_id=thread["id"]) for r in inline]
        token = body.get("nextPageToken")
        if not token:
            return listing
    return listing


async def _all_replies(client: YouTubeClient, thread_id: str, video_id: str | None,
                       listing: CommentsListing) -> list[CommentRecord]:
    out: list[CommentRecord] = []
    token: str | None = None
    while True:
        params = {"part": "snippet", "parentId": thread_id, "maxResults": "100", "textFormat": "plainText"}
        if token:
            params["pageToken"] = token
        body = await client.get("comments.list", "/youtube/v3/comments", params)
        listing.reply_calls += 1
        out += [CommentRecord.parse(c, video_id=video_id, parent_id=thread_id) for c in body.get("items") or []]
        token = body.get("nextPageToken")
        if not token:
            return out
