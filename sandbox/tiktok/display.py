"""The Display API v2: user info, video list, video query (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §2).

Every field needs a scope; asking for a field whose scope was not granted fails the whole call
(``scope_not_authorized``), as TikTok does. Each endpoint has its own per-app sliding minute.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.tiktok.envelope import (
    TikTokApiError,
    authenticate,
    charge_endpoint,
    json_body,
    ok,
    world,
)
from sandbox.tiktok.world import TikTokUser, TikTokWorld, Video

routes = web.RouteTableDef()

COVER_TTL_SECONDS = 6 * 3600
USER_FIELD_SCOPES = {
    **dict.fromkeys(
        ("open_id", "union_id", "avatar_url", "avatar_url_100", "avatar_large_url", "display_name"),
        "user.info.basic",
    ),
    **dict.fromkeys(("bio_description", "profile_deep_link", "is_verified", "username"), "user.info.profile"),
    **dict.fromkeys(("follower_count", "following_count", "likes_count", "video_count"), "user.info.stats"),
}
VIDEO_FIELDS = frozenset({
    "id", "create_time", "cover_image_url", "share_url", "video_description", "duration", "height",
    "width", "title", "embed_html", "embed_link", "like_count", "comment_count", "share_count",
    "view_count",
})


def _fields(request: web.Request, allowed: frozenset[str] | dict[str, str]) -> list[str]:
    raw = request.query.get("fields", "")
    fields = list(dict.fromkeys(f.strip() for f in raw.split(",") if f.strip()))
    if not fields:
        raise TikTokApiError("invalid_params", "fields is required.")
    unknown = [f for f in fields if f not in allowed]
    if unknown:
        raise TikTokApiError("invalid_params", f"Invalid fields: {','.join(unknown)}")
    return fields


def user_object(w: TikTokWorld, user: TikTokUser) -> dict[str, Any]:
    return {
        "open_id": user.open_id, "union_id": user.union_id,
        "avatar_url": f"https://p16-sign-va.tiktokcdn.com/avatar/{user.username}.jpeg",
        "avatar_url_100": f"https://p16-sign-va.tiktokcdn.com/avatar/{user.username}~100.jpeg",
        "avatar_large_url": f"https://p16-sign-va.tiktokcdn.com/avatar/{user.username}~720.jpeg",
        "display_name": user.display_name, "bio_description": user.bio,
        "profile_deep_link": f"https://vm.tiktok.com/sandbox-{user.username}/",
        "is_verified": user.is_verified, "username": user.username,
        "follower_count": user.follower_count, "following_count": user.following_count,
        "likes_count": user.likes_count, "video_count": len(w.videos_of(user.open_id)),
    }


def video_object(w: TikTokWorld, user: TikTokUser, video: Video) -> dict[str, Any]:
    expires = int(w.clock.now()) + COVER_TTL_SECONDS
    return {
        "id": video.id, "create_time": video.create_time,
        "cover_image_url": f"https://p16-sign.tiktokcdn-us.com/obj/{video.id}~c5_300x400.jpeg?x-expires={expires}&x-signature=sandbox",
        "share_url": f"https://www.tiktok.com/@{user.username}/video/{video.id}?utm_campaign=tt4d_open_api",
        "video_description": video.description, "duration": video.duration, "height": 1920, "width": 1080,
        "title": video.title,
        "embed_html": f'<blockquote class="tiktok-embed" data-video-id="{video.id}"></blockquote>',
        "embed_link": f"https://www.tiktok.com/player/v1/{video.id}",
        "like_count": video.like_count, "comment_count": video.comment_count,
        "share_count": video.share_count, "view_count": video.view_count,
    }


def _pick(obj: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    return {f: obj[f] for f in fields}


@routes.get("/v2/user/info/")
async def user_info(request: web.Request) -> web.Response:
    charge_endpoint(request, "user.info")
    token = authenticate(request)
    fields = _fields(request, USER_FIELD_SCOPES)
    for f in fields:
        if USER_FIELD_SCOPES[f] not in token.grant.scopes:
            raise TikTokApiError(
                "scope_not_authorized", f"The user did not authorize the scope required for field {f}."
            )
    w = world(request)
    return ok({"user": _pick(user_object(w, w.users[token.grant.open_id]), fields)})


def _int(value: Any, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise TikTokApiError("invalid_params", f"{name} must be an integer in [{lo}, {hi}].")
    return value


@routes.post("/v2/video/list/")
async def video_list(request: web.Request) -> web.Response:
    charge_endpoint(request, "video.list")
    token = authenticate(request, scope="video.list")
    fields = _fields(request, VIDEO_FIELDS)
    body = await json_body(request)
    w = world(request)
    max_count = _int(body.get("max_count", 10), "max_count", 1, 20)
    cursor_ms = _int(body.get("cursor", int(w.clock.now() * 1000) + 1), "cursor", 0, 2**63 - 1)
    user = w.users[token.grant.open_id]
    older = [v for v in w.videos_of(user.open_id) if v.create_time * 1000 < cursor_ms]
    page = older[:max_count]
    next_cursor = page[-1].create_time * 1000 if page else cursor_ms
    return ok({
        "videos": [_pick(video_object(w, user, v), fields) for v in page],
        "cursor": next_cursor,
        "has_more": len(older) > len(page),
    })


@routes.post("/v2/video/query/")
async def video_query(request: web.Request) -> web.Response:
    charge_endpoint(request, "video.query")
    token = authenticate(request, scope="video.list")
    fields = _fields(request, VIDEO_FIELDS)
    body = await json_body(request)
    filters = body.get("filters")
    ids = filters.get("video_ids") if isinstance(filters, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise TikTokApiError("invalid_params", "filters.video_ids must be a non-empty list of strings.")
    if len(ids) > 20:
        raise TikTokApiError("invalid_params", "At most 20 video_ids per call.")
    w = world(request)
    user = w.users[token.grant.open_id]
    found = [w.videos[i] for i in dict.fromkeys(ids) if i in w.videos and w.videos[i].open_id == user.open_id]
    return ok({"videos": [_pick(video_object(w, user, v), fields) for v in found if v.public]})
