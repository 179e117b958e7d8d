"""Validation of a TikTok post request before anything is queued (issue 9 §3).

Body of ``POST /v1/accounts/{id}/posts`` for a TikTok account::

    {"type": "video", "caption": "...", "media": [{"url": "https://…/v.mp4", "kind": "video"}],
     "options": {"privacy_level": "SELF_ONLY", "disable_comment": false, "disable_duet": false,
                 "disable_stitch": false, "cover_timestamp_ms": 1000, "brand_content_toggle": false,
                 "brand_organic_toggle": false, "is_aigc": false, "duration_sec": 42}}
    {"type": "photo", "caption": "...", "media": [{"url": "https://…/1.jpg", "kind": "image"}, …],
     "options": {"privacy_level": "...", "title": "≤ 90 chars", "photo_cover_index": 0, …}}

Rules, each with its own code: ``privacy_level`` is required (no default, the audit demands it)
and must be one ``creator_info`` offers this creator right now; an unaudited app may only post
``SELF_ONLY``; a video's declared ``duration_sec`` may not exceed the creator's
``max_video_post_duration_sec``; one https video; 1-35 https JPEG/WEBP images; caption ≤ 2200
(video) / title ≤ 90 (photo); the account must have granted ``video.publish``. ``publish_at`` is the core's (checked and
removed before this sees the body: webhooks/routes/post_create.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from socialsync.platforms.base import PublishRejected

PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".webp")
CAPTION_MAX = 2200
TITLE_MAX = 90


class TikTokMedia(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048)
    kind: Literal["video", "image"] | None = None


class TikTokOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    privacy_level: Literal["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"] | None = None
    disable_comment: bool = False
    disable_duet: bool = False
    disable_stitch: bool = False
    cover_timestamp_ms: int | None = Field(default=None, ge=0, le=24 * 3600 * 1000)
    brand_content_toggle: bool = False
    brand_organic_toggle: bool = False
    is_aigc: bool = False
    duration_sec: int | None = Field(default=None, ge=1, le=24 * 3600)
    title: str | None = Field(default=None, max_length=TITLE_MAX)
    photo_cover_index: int = Field(default=0, ge=0, le=34)
    auto_add_music: bool = True


class TikTokPostRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["video", "photo"]
    caption: str = ""
    media: list[TikTokMedia] = Field(min_length=1, max_length=35)
    options: TikTokOptions = Field(default_factory=TikTokOptions)


def _https(url: str, sandbox_base: str | None) -> bool:
    if sandbox_base and url.startswith(sandbox_base.rstrip("/") + "/"):
        return True  # the sandbox's own file host, in sandbox mode only
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def validate_request(
    raw: Mapping[str, Any], *, scopes: tuple[str, ...], creator_info: Mapping[str, Any] | None,
    app_audited: bool, sandbox_base: str | None = None,
) -> dict[str, Any]:
    """The normalized request to store, or `PublishRejected` (nothing queued)."""
    try:
        req = TikTokPostRequest.model_validate(dict(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise PublishRejected(400, "invalid_post", f"{where}: {first['msg']}") from None
    if "video.publish" not in scopes:
        raise PublishRejected(409, "account_read_only",
                              "The account did not grant video.publish: reconnect it with publishing allowed.")
    opts = req.options
    if opts.privacy_level is None:
        raise PublishRejected(400, "privacy_level_required",
                              "options.privacy_level is required (TikTok allows no default).")
    if not app_audited and opts.privacy_level != "SELF_ONLY":
        raise PublishRejected(400, "unaudited_app_self_only",
                              "This TikTok app is not audited yet: it may only post with privacy_level SELF_ONLY.")
    if creator_info is not None:
        offered = list(creator_info.get("privacy_level_options") or [])
        if opts.privacy_level not in offered:
            raise PublishRejected(400, "privacy_level_not_offered",
                                  f"privacy_level {opts.privacy_level} is not offered for this creator now; "
                                  f"choose one of: {', '.join(offered) or 'none'}.")
    for i, item in enumerate(req.media):
        if not _https(item.url, sandbox_base):
            raise PublishRejected(400, "media_url_not_https", f"media[{i}].url must be a public https URL.")
    if req.type == "video":
        if len(req.media) != 1:
            raise PublishRejected(400, "invalid_media_count", "A TikTok video post takes exactly one video.")
        if _utf16_len(req.caption) > CAPTION_MAX:
            raise PublishRejected(400, "caption_too_long", f"caption is limited to {CAPTION_MAX} characters.")
        limit = (creator_info or {}).get("max_video_post_duration_sec")
        if opts.duration_sec is not None and isinstance(limit, int) and opts.duration_sec > limit:
            raise PublishRejected(400, "video_too_long",
                                  f"The video lasts {opts.duration_sec} s; this creator may post at most {limit} s.")
    else:
        for i, item in enumerate(req.media):
            if not urlsplit(item.url).path.lower().endswith(PHOTO_EXTENSIONS):
                raise PublishRejected(400, "unsupported_image_format",
                                      f"media[{i}]: TikTok takes JPEG or WEBP images only (no PNG).")
        if opts.photo_cover_index >= len(req.media):
            raise PublishRejected(400, "invalid_cover_index", "options.photo_cover_index is past the last image.")
        if _utf16_len(req.caption) > 4000:
            raise PublishRejected(400, "caption_too_long", "A photo description is limited to 4000 characters.")
        for name in ("disable_duet", "disable_stitch", "is_aigc"):
            if getattr(opts, name):
                raise PublishRejected(400, "option_not_for_photos", f"options.{name} does not exist for photo posts.")
    return req.model_dump(mode="json")
