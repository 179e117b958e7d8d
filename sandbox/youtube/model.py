"""What the emulated Google/YouTube side holds: accounts, channels, videos, comments, grants.

Plain dataclasses, mutated only by the YouTube routes and control calls. Times are UNIX
timestamps on the shared sandbox clock; rendering (RFC 3339 ``Z``, strings for counts) happens
in the routes, the way Google sends them (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §7).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Literal

Privacy = Literal["public", "unlisted", "private"]
ModerationStatus = Literal["published", "heldForReview", "likelySpam", "rejected"]


def random_value(prefix: str, length: int = 40) -> str:
    return prefix + secrets.token_urlsafe(length)[:length]


@dataclass(slots=True)
class GoogleAccount:
    """A Google account that can log in; ``channel_id`` None = no YouTube channel."""

    username: str
    google_id: str
    name: str
    channel_id: str | None = None


@dataclass(slots=True)
class Channel:
    channel_id: str
    title: str
    published_at: float
    subscriber_count: int
    view_count: int = 0
    hidden_subscriber_count: bool = False
    description: str = ""
    custom_url: str = ""
    country: str = "US"
    verified: bool = True  # phone-verified: thumbnails.set allowed

    @property
    def uploads_playlist_id(self) -> str:
        # Google's rule (read it from the API, never derive it, says the client side).
        return "UU" + self.channel_id[2:]


@dataclass(slots=True)
class Video:
    video_id: str
    channel_id: str
    title: str
    published_at: float
    duration_seconds: int
    width: int = 1920
    height: int = 1080
    description: str = ""
    tags: list[str] = field(default_factory=list)
    category_id: str = "22"
    privacy: Privacy = "public"
    made_for_kids: bool = False
    publish_at: float | None = None
    view_count: int = 0
    like_count: int | None = 0  # None: likes hidden
    comment_count: int | None = 0  # None: comments off
    thumbnail_set: bool = False
    fractional_timestamp: bool = False  # render publishedAt with ".000Z"


@dataclass(slots=True)
class Comment:
    comment_id: str
    video_id: str
    channel_id: str
    author: str
    author_channel_id: str
    text: str
    published_at: float
    parent_id: str | None = None  # the thread (= top-level comment) id for replies
    like_count: int = 0
    moderation_status: ModerationStatus = "published"


@dataclass(slots=True)
class AuthCode:
    value: str
    client_id: str
    redirect_uri: str
    username: str
    scopes: tuple[str, ...]
    issued_at: float
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    offline: bool = False
    force_consent: bool = False
    used: bool = False


@dataclass(slots=True)
class Grant:
    """An access or refresh token."""

    value: str
    kind: Literal["access", "refresh"]
    client_id: str
    username: str
    scopes: tuple[str, ...]
    issued_at: float
    expires_at: float | None
    revoked: bool = False
    refresh_token: str | None = None  # for access tokens: the refresh token they came from

    def alive(self, now: float) -> bool:
        return not self.revoked and (self.expires_at is None or now < self.expires_at)


@dataclass(slots=True)
class UploadSession:
    """A resumable ``videos.insert`` session; bytes are hashed, never kept."""

    upload_id: str
    client_id: str
    channel_id: str
    total: int
    content_type: str
    resource: dict[str, object]
    created_at: float
    expires_at: float
    notify_subscribers: bool = True
    received: int = 0
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)  # type: ignore[name-defined]
    video_id: str | None = None
    puts: int = 0
    bytes_sent: int = 0  # every byte that arrived, kept or not (resumes re-send some)


@dataclass(slots=True)
class HubSubscription:
    callback: str
    topic: str
    channel_id: str
    secret: str | None
    lease_seconds: int
    expires_at: float
    verified: bool = False
