"""``www.googleapis.com/youtube/v3``: channels, playlistItems, videos, commentThreads and
comments (reads, reply, moderation, delete). Each call is charged before it is checked."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from sandbox.youtube.access import (
    authorize,
    channel_of,
    charge,
    int_param,
    page_offset,
    page_token,
    require,
    yt_of,
)
from sandbox.youtube.errors import GoogleError, bad_request, not_found
from sandbox.youtube.model import Comment
from sandbox.youtube.render import (
    channel_resource,
    comment_resource,
    etag,
    playlist_item,
    thread_resource,
    video_resource,
)
from sandbox.youtube.state import FORCE_SSL, READONLY

routes = web.RouteTableDef()
V3 = "/youtube/v3"
READ = (READONLY, FORCE_SSL)
CHANNEL_PARTS = {"snippet", "statistics", "contentDetails", "status", "id", "brandingSettings"}
VIDEO_PARTS = {"snippet", "statistics", "contentDetails", "status", "id", "fileDetails", "player"}


def _parts(request: web.Request, allowed: set[str]) -> set[str]:
    parts = set(require(request, "part").split(","))
    bad = parts - allowed
    if bad:
        raise bad_request("unknownPart", f"'{','.join(sorted(bad))}'")
    return parts


def _list(kind: str, items: list[dict[str, Any]], total: int, per_page: int,
          next_offset: int | None) -> web.Response:
    body: dict[str, Any] = {"kind": kind, "pageInfo": {"totalResults": total, "resultsPerPage": per_page}}
    if next_offset is not None:
        body["nextPageToken"] = page_token(next_offset)
    body["items"] = items
    body["etag"] = etag(body)
    return web.json_response(body)


@routes.get(V3 + "/channels")
async def channels(request: web.Request) -> web.Response:
    grant, account = authorize(request, *READ)
    charge(request, grant, "GET", "channels")
    yt = yt_of(request)
    parts = _parts(request, CHANNEL_PARTS)
    if request.query.get("mine") == "true":
        found = [yt.channels[account.channel_id]] if account.channel_id else []
    elif "id" in request.query:
        found = [yt.channels[c] for c in request.query["id"].split(",") if c in yt.channels]
    else:
        raise bad_request("missingRequiredParameter", "No filter selected. Expected one of: mine, id, forHandle")
    items = [channel_resource(c, parts) for c in found]
    body: dict[str, Any] = {"kind": "youtube#channelListResponse",
                            "pageInfo": {"totalResults": len(items), "resultsPerPage": 5}}
    if items:  # with no channel Google leaves "items" out
        body["items"] = items
    body["etag"] = etag(body)
    return web.json_response(body)


@routes.get(V3 + "/playlistItems")
async def playlist_items(request: web.Request) -> web.Response:
    grant, account = authorize(request, *READ)
    charge(request, grant, "GET", "playlistItems")
    yt = yt_of(request)
    parts = _parts(request, {"snippet", "contentDetails", "status", "id"})
    playlist_id = require(request, "playlistId")
    limit = int_param(request, "maxResults", 5, 0, 50)
    offset = page_offset(request)
    channel = next((c for c in yt.channels.values() if c.uploads_playlist_id == playlist_id), None)
    if channel is None:
        raise not_found("playlistNotFound", "The playlist identified with the request's playlistId parameter cannot be found.")
    owner = account.channel_id == channel.channel_id
    videos = [v for v in yt.videos_of(channel.channel_id) if owner or v.privacy == "public"]
    page = videos[offset:offset + limit]
    items = [playlist_item(v, playlist_id, offset + i, parts) for i, v in enumerate(page)]
    more = offset + limit < len(videos)
    return _list("youtube#playlistItemListResponse", items, len(videos), limit,
                 offset + limit if more and limit else None)


@routes.get(V3 + "/videos")
async def videos(request: web.Request) -> web.Response:
    grant, account = authorize(request, *READ)
    charge(request, grant, "GET", "videos")
    yt = yt_of(request)
    parts = _parts(request, VIDEO_PARTS)
    ids = [i for i in require(request, "id").split(",") if i]
    if len(ids) > 50:
        raise bad_request("invalidParameter", "The request specifies more than 50 video ids.")
    found = [yt.videos[i] for i in ids if i in yt.videos]
    visible = [v for v in found if v.privacy != "private" or v.channel_id == account.channel_id]
    items = []
    for video in visible:
        owner_parts = parts if video.channel_id == account.channel_id else parts - {"fileDetails"}
        items.append(video_resource(video, owner_parts))
    return _list("youtube#videoListResponse", items, len(items), len(items), None)


def _visible_comment(comment: Comment, wanted: str) -> bool:
    return comment.moderation_status == wanted


@routes.get(V3 + "/commentThreads")
async def comment_threads(request: web.Request) -> web.Response:
    grant, account = authorize(request, *READ)
    charge(request, grant, "GET", "commentThreads")
    yt = yt_of(request)
    parts = _parts(request, {"snippet", "replies", "id"})
    limit = int_param(request, "maxResults", 20, 1, 100)
    offset = page_offset(request)
    text_format = request.query.get("textFormat", "html")
    if text_format not in ("html", "plainText"):
        raise bad_request("invalidParameter", "Invalid textFormat")
    wanted = request.query.get("moderationStatus", "published")
    if wanted not in ("published", "heldForReview", "likelySpam"):
        raise bad_request("invalidParameter", "Invalid moderationStatus")
    if "allThreadsRelatedToChannelId" in request.query:
        channel_id = request.query["allThreadsRelatedToChannelId"]
        if channel_id not in yt.channels:
            raise not_found("channelNotFound", "The channel could not be found.")
        threads = yt.threads_of(channel_id)
    elif "videoId" in request.query:
        video_id = request.query["videoId"]
        if video_id not in yt.videos:
            raise not_found("videoNotFound", "The video could not be found.")
        threads = [t for t in yt.threads_of(yt.videos[video_id].channel_id) if t.video_id == video_id]
    else:
        raise bad_request("missingRequiredParameter", "No filter selected.")
    if wanted != "published" and account.channel_id not in {t.channel_id for t in threads} | {None}:
        raise GoogleError(403, "forbidden", "Only the channel owner may list held comments.")
    threads = [t for t in threads if _visible_comment(t, wanted)]
    if request.query.get("order", "time") == "relevance":
        threads.sort(key=lambda t: t.like_count, reverse=True)
    page = threads[offset:offset + limit]
    items = [
        thread_resource(t, [r for r in yt.replies_of(t.comment_id) if r.moderation_status == "published"],
                        text_format, parts)
        for t in page
    ]
    more = offset + limit < len(threads)
    return _list("youtube#commentThreadListResponse", items, len(threads), limit,
                 offset + limit if more else None)


@routes.get(V3 + "/comments")
async def comments(request: web.Request) -> web.Response:
    grant, _account = authorize(request, *READ)
    charge(request, grant, "GET", "comments")
    yt = yt_of(request)
    _parts(request, {"snippet", "id"})
    limit = int_param(request, "maxResults", 20, 1, 100)
    offset = page_offset(request)
    text_format = request.query.get("textFormat", "html")
    if "parentId" in request.query:
        found = [r for r in yt.replies_of(request.query["parentId"]) if r.moderation_status == "published"]
    elif "id" in request.query:
        found = [yt.comments[i] for i in request.query["id"].split(",") if i in yt.comments]
    else:
        raise bad_request("missingRequiredParameter", "No filter selected.")
    page = found[offset:offset + limit]
    more = offset + limit < len(found)
    return _list("youtube#commentListResponse", [comment_resource(c, text_format) for c in page],
                 len(found), limit, offset + limit if more else None)


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read() or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise bad_request("parseError", "Parse Error") from None
    if not isinstance(body, dict):
        raise bad_request("parseError", "Parse Error")
    return body


@routes.post(V3 + "/comments")
async def insert_comment(request: web.Request) -> web.Response:
    """A reply: ``{"snippet": {"parentId", "textOriginal"}}``."""
    grant, account = authorize(request, FORCE_SSL)
    charge(request, grant, "POST", "comments")
    yt = yt_of(request)
    channel_id = channel_of(account)
    snippet = (await _json_body(request)).get("snippet")
    if not isinstance(snippet, dict):
        raise bad_request("required", "snippet is required")
    parent = yt.comments.get(str(snippet.get("parentId", "")))
    text = snippet.get("textOriginal")
    if parent is None or parent.parent_id is not None:
        raise not_found("parentCommentNotFound", "The parent comment could not be found.")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("commentTextRequired", "The comment text is required.")
    if len(text) > 10000:
        raise bad_request("commentTextTooLong", "The comment text is too long.")
    channel = yt.channels[channel_id]
    reply = Comment(f"{parent.comment_id}.{yt.next_id('r')}", parent.video_id, parent.channel_id,
                    channel.title, channel_id, text, yt.clock.now(), parent_id=parent.comment_id)
    yt.comments[reply.comment_id] = reply
    return web.json_response(comment_resource(reply, "html"))


def _owned_comments(request: web.Request, channel_id: str) -> list[Comment]:
    yt = yt_of(request)
    ids = [i for i in require(request, "id").split(",") if i]
    found = []
    for comment_id in ids:
        comment = yt.comments.get(comment_id)
        if comment is None:
            raise not_found("commentNotFound", "The comment could not be found.")
        if comment.channel_id != channel_id:
            raise GoogleError(403, "forbidden", "The comment is not on a video of your channel.")
        found.append(comment)
    return found


@routes.post(V3 + "/comments/setModerationStatus")
async def set_moderation_status(request: web.Request) -> web.Response:
    grant, account = authorize(request, FORCE_SSL)
    charge(request, grant, "POST", "comments/setModerationStatus")
    status = require(request, "moderationStatus")
    if status not in ("published", "heldForReview", "rejected"):
        raise bad_request("invalidModerationStatus", "Invalid moderationStatus")
    for comment in _owned_comments(request, channel_of(account)):
        comment.moderation_status = status  # type: ignore[assignment]
    return web.Response(status=204)


@routes.delete(V3 + "/comments")
async def delete_comment(request: web.Request) -> web.Response:
    grant, account = authorize(request, FORCE_SSL)
    charge(request, grant, "DELETE", "comments")
    yt = yt_of(request)
    for comment in _owned_comments(request, channel_of(account)):
        yt.comments.pop(comment.comment_id, None)
        for reply in yt.replies_of(comment.comment_id):
            yt.comments.pop(reply.comment_id, None)
    return web.Response(status=204)
