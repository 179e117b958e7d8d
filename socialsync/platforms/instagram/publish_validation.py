"""What a post request must satisfy before anything is queued (PLATFORM_FACTS.md §3).

Each rule has its own error code, so the CRM can tell its user exactly what to change. The
request model is the API boundary; ``check_post`` applies the rules that need the account and
the clock.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

PostType = Literal["image", "reel", "carousel", "story"]
MediaKind = Literal["image", "video", "reel"]

CAPTION_MAX = 2200
HASHTAGS_MAX = 30
MENTIONS_MAX = 20
CAROUSEL_MIN, CAROUSEL_MAX = 2, 10
COLLABORATORS_MAX = 3
USER_TAGS_MAX = 20
HASHTAG = re.compile(r"(?<![\w#])#\w+")
MENTION = re.compile(r"(?<![\w@])@[\w.]+")

PUBLISH_SCOPES = {
    "instagram": "instagram_business_content_publish",
    "facebook": "instagram_content_publish",
}
# Media kinds each post type takes ("reel" is accepted as a kind only to say clearly that a
# carousel cannot hold one).
KINDS_FOR_TYPE: dict[str, tuple[str, ...]] = {
    "image": ("image",),
    "reel": ("video", "reel"),
    "story": ("image", "video"),
    "carousel": ("image", "video"),
}
OPTIONS_FOR_TYPE: dict[str, tuple[str, ...]] = {
    "image": ("location_id", "user_tags", "collaborators"),
    "reel": ("share_to_feed", "cover_url", "thumb_offset_ms", "location_id", "user_tags", "collaborators"),
    "carousel": ("location_id", "collaborators"),
    "story": (),
}


class MediaItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048, description="A public https URL Meta can fetch.")
    kind: MediaKind
    alt_text: str | None = Field(default=None, max_length=1000, description="Images only.")


class UserTag(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=30)
    x: float = Field(default=0.5, ge=0, le=1)
    y: float = Field(default=0.5, ge=0, le=1)


class PostOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    share_to_feed: bool | None = None
    cover_url: str | None = None
    thumb_offset_ms: int | None = Field(default=None, ge=0)
    location_id: str | None = Field(default=None, pattern=r"^\d+$")
    user_tags: list[UserTag] | None = None
    collaborators: list[str] | None = None


class PostRequest(BaseModel):
    """Body of ``POST /v1/accounts/{id}/posts``."""

    model_config = ConfigDict(extra="forbid")

    type: PostType
    caption: str = ""
    media: list[MediaItem] = Field(min_length=1)
    publish_at: AwareDatetime | None = Field(default=None, description="ISO 8601 with offset; omit to publish now.")
    options: PostOptions = Field(default_factory=PostOptions)


class PostRejected(Exception):
    """A request that breaks a rule: HTTP status, a specific code, a message a person can act on."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _https(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname)


def check_post(
    post: PostRequest, *, account: dict[str, Any], now: datetime, horizon: timedelta
) -> None:
    """Raise PostRejected for the first rule the request breaks."""
    if account.get("status") != "active":
        raise PostRejected(
            409, "account_not_active",
            f"The account is {account.get('status')}: {account.get('status_reason') or 'connect it again'}.",
        )
    scope = PUBLISH_SCOPES[account["login"]]
    if scope not in (account.get("scopes") or []):
        raise PostRejected(
            403, "missing_publish_scope",
            f"The account did not grant {scope}; connect it again and allow publishing.",
        )
    _check_media(post)
    _check_caption(post.caption)
    _check_options(post, account["login"])
    if post.publish_at is not None:
        if post.publish_at <= now:
            raise PostRejected(400, "publish_at_in_past", "publish_at must be in the future.")
        if post.publish_at > now + horizon:
            raise PostRejected(
                400, "publish_at_too_far",
                f"publish_at may be at most {horizon.days} days ahead.",
            )


def _check_media(post: PostRequest) -> None:
    count = len(post.media)
    if post.type == "carousel":
        if not CAROUSEL_MIN <= count <= CAROUSEL_MAX:
            raise PostRejected(
                400, "carousel_item_count", f"A carousel has 2 to 10 items; this one has {count}."
            )
        if any(item.kind == "reel" for item in post.media):
            raise PostRejected(400, "reel_in_carousel", "Reels cannot be carousel items; use kind video.")
    elif count != 1:
        raise PostRejected(400, "media_count", f"A {post.type} post takes exactly one media item.")
    for index, item in enumerate(post.media):
        if not _https(item.url):
            raise PostRejected(400, "media_url_not_https", f"media[{index}].url must be a public https URL.")
        if item.kind not in KINDS_FOR_TYPE[post.type]:
            allowed = " or ".join(KINDS_FOR_TYPE[post.type])
            raise PostRejected(
                400, "media_kind_not_allowed", f"media[{index}] is {item.kind}; a {post.type} takes {allowed}."
            )
        if item.alt_text is not None and item.kind != "image":
            raise PostRejected(400, "alt_text_not_allowed", f"media[{index}]: alt_text is for images only.")


def _check_caption(caption: str) -> None:
    if len(caption) > CAPTION_MAX:
        raise PostRejected(
            400, "caption_too_long", f"The caption has {len(caption)} characters; the limit is {CAPTION_MAX}."
        )
    hashtags = len(HASHTAG.findall(caption))
    if hashtags > HASHTAGS_MAX:
        raise PostRejected(400, "too_many_hashtags", f"The caption has {hashtags} hashtags; the limit is 30.")
    mentions = len(MENTION.findall(caption))
    if mentions > MENTIONS_MAX:
        raise PostRejected(400, "too_many_mentions", f"The caption has {mentions} @-mentions; the limit is 20.")


def _check_options(post: PostRequest, login: str) -> None:
    given = [name for name, value in post.options if value is not None]
    allowed = OPTIONS_FOR_TYPE[post.type]
    for name in given:
        if name not in allowed:
            raise PostRejected(400, "option_not_allowed", f"options.{name} does not apply to a {post.type}.")
    options = post.options
    if options.collaborators is not None:
        if login != "facebook":
            raise PostRejected(
                400, "option_requires_facebook_login",
                "options.collaborators needs an account connected with Facebook Login.",
            )
        if len(options.collaborators) > COLLABORATORS_MAX:
            raise PostRejected(400, "too_many_collaborators", "At most 3 collaborators.")
    if options.user_tags is not None and len(options.user_tags) > USER_TAGS_MAX:
        raise PostRejected(400, "too_many_user_tags", "At most 20 user tags.")
    if options.cover_url is not None and not _https(options.cover_url):
        raise PostRejected(400, "media_url_not_https", "options.cover_url must be a public https URL.")
