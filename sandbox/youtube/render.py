"""Resources as the Data API renders them: counts as strings, RFC 3339 ``Z`` timestamps,
optional counts left out, ETags."""

from __future__ import annotations

import hashlib
import html
import json
from typing import Any

from sandbox.youtube.access import rfc3339
from sandbox.youtube.model import Channel, Comment, Video


def etag(payload: Any) -> str:
    return hashlib.sha1(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:27]


def iso_duration(seconds: int) -> str:
    if seconds <= 0:
        return "P0D"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    out = "PT"
    if hours:
        out += f"{hours}H"
    if minutes:
        out += f"{minutes}M"
    if secs:
        out += f"{secs}S"
    return out


def channel_resource(channel: Channel, parts: set[str]) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "youtube#channel", "id": channel.channel_id}
    if "snippet" in parts:
        body["snippet"] = {
            "title": channel.title, "description": channel.description,
            "customUrl": channel.custom_url, "publishedAt": rfc3339(channel.published_at),
            "thumbnails": {"default": {"url": f"https://yt3.ggpht.com/{channel.channel_id}=s88",
                                       "width": 88, "height": 88}},
            "country": channel.country,
        }
    if "contentDetails" in parts:
        body["contentDetails"] = {"relatedPlaylists": {"likes": "", "uploads": channel.uploads_playlist_id}}
    if "statistics" in parts:
        stats: dict[str, Any] = {"viewCount": str(channel.view_count)}
        if not channel.hidden_subscriber_count:
            stats["subscriberCount"] = str(_three_figures(channel.subscriber_count))
        stats["hiddenSubscriberCount"] = channel.hidden_subscriber_count
        stats["videoCount"] = "0"
        body["statistics"] = stats
    if "status" in parts:
        body["status"] = {"privacyStatus": "public", "isLinked": True, "longUploadsStatus": "allowed"}
    body["etag"] = etag(body)
    return body


def _three_figures(n: int) -> int:
    """YouTube rounds public subscriber counts down to three significant figures."""
    if n < 1000:
        return n
    digits = len(str(n)) - 3
    return n // 10**digits * 10**digits


def video_resource(video: Video, parts: set[str]) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "youtube#video", "id": video.video_id}
    if "snippet" in parts:
        body["snippet"] = {
            "publishedAt": rfc3339(video.published_at, fractional=video.fractional_timestamp),
            "channelId": video.channel_id, "title": video.title, "description": video.description,
            "thumbnails": {"high": {"url": f"https://i.ytimg.com/vi/{video.video_id}/hqdefault.jpg",
                                    "width": 480, "height": 360}},
            "tags": list(video.tags), "categoryId": video.category_id,
            "liveBroadcastContent": "none",
        }
    if "contentDetails" in parts:
        body["contentDetails"] = {
            "duration": iso_duration(video.duration_seconds), "dimension": "2d",
            "definition": "hd", "caption": "false", "licensedContent": False,
        }
    if "statistics" in parts:
        stats: dict[str, Any] = {"viewCount": str(video.view_count), "favoriteCount": "0"}
        if video.like_count is not None:
            stats["likeCount"] = str(video.like_count)
        if video.comment_count is not None:
            stats["commentCount"] = str(video.comment_count)
        body["statistics"] = stats
    if "status" in parts:
        status: dict[str, Any] = {
            "uploadStatus": "processed", "privacyStatus": video.privacy, "license": "youtube",
            "embeddable": True, "publicStatsViewable": True, "madeForKids": video.made_for_kids,
        }
        if video.publish_at is not None:
            status["publishAt"] = rfc3339(video.publish_at)
        body["status"] = status
    if "fileDetails" in parts:  # owner only; gives the frame size (the Shorts rule needs it)
        body["fileDetails"] = {"videoStreams": [{"widthPixels": video.width, "heightPixels": video.height}]}
    body["etag"] = etag(body)
    return body


def playlist_item(video: Video, playlist_id: str, position: int, parts: set[str]) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "youtube#playlistItem", "id": f"{playlist_id}.{video.video_id}"}
    if "snippet" in parts:
        body["snippet"] = {
            "publishedAt": rfc3339(video.published_at, fractional=video.fractional_timestamp),
            "channelId": video.channel_id, "title": video.title, "description": video.description,
            "playlistId": playlist_id, "position": position,
            "resourceId": {"kind": "youtube#video", "videoId": video.video_id},
            "videoOwnerChannelId": video.channel_id,
        }
    if "contentDetails" in parts:
        body["contentDetails"] = {
            "videoId": video.video_id,
            "videoPublishedAt": rfc3339(video.published_at, fractional=video.fractional_timestamp),
        }
    if "status" in parts:
        body["status"] = {"privacyStatus": video.privacy}
    body["etag"] = etag(body)
    return body


def comment_resource(comment: Comment, text_format: str) -> dict[str, Any]:
    display = comment.text if text_format == "plainText" else html.escape(comment.text)
    snippet: dict[str, Any] = {
        "channelId": comment.channel_id, "videoId": comment.video_id,
        "textDisplay": display, "textOriginal": comment.text,
        "authorDisplayName": comment.author,
        "authorChannelId": {"value": comment.author_channel_id},
        "canRate": True, "viewerRating": "none", "likeCount": comment.like_count,
        "publishedAt": rfc3339(comment.published_at), "updatedAt": rfc3339(comment.published_at),
        "moderationStatus": comment.moderation_status,
    }
    if comment.parent_id is not None:
        snippet["parentId"] = comment.parent_id
    body = {"kind": "youtube#comment", "id": comment.comment_id, "snippet": snippet}
    body["etag"] = etag(body)
    return body


INLINE_REPLIES = 5


def thread_resource(thread: Comment, replies: list[Comment], text_format: str, parts: set[str]) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "youtube#commentThread", "id": thread.comment_id}
    if "snippet" in parts:
        body["snippet"] = {
            "channelId": thread.channel_id, "videoId": thread.video_id,
            "topLevelComment": comment_resource(thread, text_format),
            "canReply": True, "totalReplyCount": len(replies), "isPublic": True,
        }
    if "replies" in parts and replies:
        body["replies"] = {"comments": [comment_resource(r, text_format) for r in replies[:INLINE_REPLIES]]}
    body["etag"] = etag(body)
    return body
