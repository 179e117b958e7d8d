"""Content Posting API, Direct Post: creator_info, video init, photo init, status fetch.

Facts: PLATFORM_FACTS_TIKTOK_YOUTUBE.md §3. Init errors come in ``error.code`` (privacy level not
offered, unaudited app, daily cap, unverified pull URL); a FAILED publish answers 200 + ``ok``
with ``data.status == "FAILED"`` and a ``fail_reason``.
"""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

from aiohttp import web

from sandbox.tiktok.envelope import TikTokApiError, authenticate, charge_token, json_body, ok, world
from sandbox.tiktok.timeline import advance, start_processing
from sandbox.tiktok.upload_host import UPLOAD_HOST
from sandbox.tiktok.world import AccessToken, Publish, TikTokUser, TikTokWorld, random_value

routes = web.RouteTableDef()
_ids = itertools.count(1000001)
DAY = 86400
VIDEO_POST_KEYS = frozenset({
    "title", "privacy_level", "disable_duet", "disable_comment", "disable_stitch",
    "video_cover_timestamp_ms", "brand_content_toggle", "brand_organic_toggle", "is_aigc",
})
PHOTO_POST_KEYS = frozenset({
    "title", "description", "privacy_level", "disable_comment", "auto_add_music",
    "brand_content_toggle", "brand_organic_toggle",
})


def _user(request: web.Request, token: AccessToken) -> TikTokUser:
    return world(request).users[token.grant.open_id]


@routes.post("/v2/post/publish/creator_info/query/")
async def creator_info(request: web.Request) -> web.Response:
    token = authenticate(request, scope="video.publish")
    charge_token(request, "creator_info", token, world(request).limits.creator_info_per_minute)
    user = _user(request, token)
    return ok({
        "creator_avatar_url": f"https://p16-sign-va.tiktokcdn.com/avatar/{user.username}.jpeg",
        "creator_username": user.username,
        "creator_nickname": user.display_name,
        "privacy_level_options": user.privacy_options,
        "comment_disabled": False,
        "duet_disabled": False,
        "stitch_disabled": user.private,
        "max_video_post_duration_sec": user.max_video_post_duration_sec,
    })


def _check_may_post(w: TikTokWorld, user: TikTokUser, privacy_level: Any) -> str:
    if user.banned_from_posting:
        raise TikTokApiError("spam_risk_user_banned_from_posting", "The user is banned from posting.", 403)
    if privacy_level not in user.privacy_options:
        raise TikTokApiError(
            "privacy_level_option_mismatch",
            "privacy_level is not one of the creator's privacy_level_options.",
        )
    now = w.clock.now()
    if not w.limits.audited:
        if privacy_level != "SELF_ONLY" or not user.private:
            raise TikTokApiError(
                "unaudited_client_can_only_post_to_private_accounts",
                "Unaudited clients can only post to private accounts with SELF_ONLY.", 403,
            )
        recent = {o for o, at in w.posting_users.items() if at > now - DAY}
        if user.open_id not in recent and len(recent) >= w.limits.unaudited_user_cap:
            raise TikTokApiError("reached_active_user_cap", "The app reached its daily posting user cap.", 403)
    if user.daily_post_cap is not None:
        today = [p for p in w.publishes.values() if p.open_id == user.open_id and p.created_at > now - DAY]
        if len(today) >= user.daily_post_cap:
            raise TikTokApiError("spam_risk_too_many_posts", "The user has reached the daily post cap.", 403)
    w.posting_users.setdefault(user.open_id, now)
    return str(privacy_level)


def _post_info(body: dict[str, Any], allowed: frozenset[str], title_max: int) -> dict[str, Any]:
    info = body.get("post_info")
    if not isinstance(info, dict):
        raise TikTokApiError("invalid_params", "post_info is required.")
    unknown = set(info) - allowed
    if unknown:
        raise TikTokApiError("invalid_params", f"Unknown post_info fields: {','.join(sorted(unknown))}")
    title = info.get("title", "")
    if not isinstance(title, str) or len(title.encode("utf-16-le")) // 2 > title_max:
        raise TikTokApiError("invalid_params", f"title must be a string of at most {title_max} characters.")
    return info


def _chunking(w: TikTokWorld, source: dict[str, Any]) -> tuple[int, int, int]:
    lim = w.limits
    size, chunk, count = (source.get(k) for k in ("video_size", "chunk_size", "total_chunk_count"))
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (size, chunk, count)):
        raise TikTokApiError("invalid_params", "video_size, chunk_size and total_chunk_count must be positive integers.")
    assert isinstance(size, int) and isinstance(chunk, int) and isinstance(count, int)
    if size < lim.min_chunk_bytes:
        if chunk != size or count != 1:
            raise TikTokApiError("invalid_params", "A video under 5 MB goes as one chunk of chunk_size = video_size.")
        return size, chunk, count
    if not lim.min_chunk_bytes <= chunk <= lim.max_chunk_bytes:
        raise TikTokApiError("invalid_params", "chunk_size must be between 5 MB and 64 MB.")
    if count != size // chunk or not 1 <= count <= lim.max_chunks:
        raise TikTokApiError("invalid_params", "total_chunk_count must be floor(video_size / chunk_size), 1 to 1000.")
    if size - (count - 1) * chunk > lim.max_last_chunk_bytes:
        raise TikTokApiError("invalid_params", "The last chunk may not exceed 128 MB.")
    return size, chunk, count


def _verified(w: TikTokWorld, url: Any) -> bool:
    return isinstance(url, str) and any(url.startswith(p) for p in w.limits.verified_url_prefixes)


@routes.post("/v2/post/publish/video/init/")
async def video_init(request: web.Request) -> web.Response:
    w = world(request)
    token = authenticate(request, scope="video.publish")
    charge_token(request, "video.init", token, w.limits.init_per_minute)
    body = await json_body(request)
    info = _post_info(body, VIDEO_POST_KEYS, 2200)
    source = body.get("source_info")
    if not isinstance(source, dict) or source.get("source") not in ("FILE_UPLOAD", "PULL_FROM_URL"):
        raise TikTokApiError("invalid_params", "source_info.source must be FILE_UPLOAD or PULL_FROM_URL.")
    user = _user(request, token)
    if source["source"] == "PULL_FROM_URL" and not _verified(w, source.get("video_url")):
        raise TikTokApiError("url_ownership_unverified", "The video_url domain or prefix is not verified.", 403)
    sizes = _chunking(w, source) if source["source"] == "FILE_UPLOAD" else (0, 0, 0)
    privacy = _check_may_post(w, user, info.get("privacy_level"))
    kind = "file" if source["source"] == "FILE_UPLOAD" else "url"
    publish = Publish(
        publish_id=f"v_pub_{kind}~v2-1.{next(_ids)}", open_id=user.open_id, kind="video",
        source=source["source"], privacy_level=privacy, title=info.get("title", ""),
        created_at=w.clock.now(), post_info=info, video_size=sizes[0], chunk_size=sizes[1],
        total_chunks=sizes[2], upload_token=random_value("", 24), sha256=hashlib.sha256(),
    )
    w.publishes[publish.publish_id] = publish
    data: dict[str, Any] = {"publish_id": publish.publish_id}
    if publish.source == "FILE_UPLOAD":
        origin = str(request.url.origin())
        data["upload_url"] = (
            f"{origin}/{UPLOAD_HOST}/video/?upload_id={publish.publish_id.rsplit('.', 1)[1]}"
            f"&upload_token={publish.upload_token}"
        )
    else:
        start_processing(w, publish)
    return ok(data)


@routes.post("/v2/post/publish/content/init/")
async def content_init(request: web.Request) -> web.Response:
    w = world(request)
    token = authenticate(request, scope="video.publish")
    charge_token(request, "content.init", token, w.limits.init_per_minute)
    body = await json_body(request)
    if body.get("media_type") != "PHOTO" or body.get("post_mode") not in ("DIRECT_POST", "MEDIA_UPLOAD"):
        raise TikTokApiError("invalid_params", "media_type must be PHOTO and post_mode DIRECT_POST or MEDIA_UPLOAD.")
    info = _post_info(body, PHOTO_POST_KEYS, 90)
    source = body.get("source_info")
    if not isinstance(source, dict) or source.get("source") != "PULL_FROM_URL":
        raise TikTokApiError("invalid_params", "Photo posts support only PULL_FROM_URL.")
    images = source.get("photo_images")
    if not isinstance(images, list) or not 1 <= len(images) <= 35:
        raise TikTokApiError("invalid_params", "photo_images must hold 1 to 35 URLs.")
    cover = source.get("photo_cover_index", 0)
    if not isinstance(cover, int) or not 0 <= cover < len(images):
        raise TikTokApiError("invalid_params", "photo_cover_index is out of range.")
    if not all(_verified(w, u) for u in images):
        raise TikTokApiError("url_ownership_unverified", "A photo URL domain or prefix is not verified.", 403)
    user = _user(request, token)
    privacy = _check_may_post(w, user, info.get("privacy_level"))
    publish = Publish(
        publish_id=f"p_pub_url~v2.{next(_ids)}", open_id=user.open_id, kind="photo",
        source="PULL_FROM_URL", privacy_level=privacy,
        title=info.get("title", "") or info.get("description", ""), created_at=w.clock.now(),
        post_info=info, photo_urls=list(images),
    )
    w.publishes[publish.publish_id] = publish
    start_processing(w, publish)
    if any(not u.lower().split("?")[0].endswith((".jpg", ".jpeg", ".webp")) for u in images):
        publish.forced_fail_reason = "photo_pull_failed"  # PNG and the like are refused
    return ok({"publish_id": publish.publish_id})


@routes.post("/v2/post/publish/status/fetch/")
async def status_fetch(request: web.Request) -> web.Response:
    w = world(request)
    token = authenticate(request, scope="video.publish")
    charge_token(request, "status.fetch", token, w.limits.status_per_minute)
    body = await json_body(request)
    publish = w.publishes.get(str(body.get("publish_id", "")))
    if publish is None or publish.open_id != token.grant.open_id:
        raise TikTokApiError("invalid_params", "publish_id is invalid.")
    advance(w, publish)
    return ok({
        "status": publish.status,
        "fail_reason": publish.fail_reason,
        "publicaly_available_post_id": list(publish.post_ids),  # numbers, as TikTok sends them
        "uploaded_bytes": publish.uploaded_bytes,
        "downloaded_bytes": publish.video_size if publish.status != "PROCESSING_DOWNLOAD" and publish.source == "PULL_FROM_URL" else 0,
    })
