"""The TikTok part of a sandbox's state: users, codes, tokens, videos, publishes, limits.

One ``TikTokWorld`` per ``SandboxState`` (``world_of``): the shared ``Sandbox.reset`` builds a
fresh state, so the TikTok world is reset with it. Every lifetime and window is measured on the
shared sandbox clock, so a test ages a token by two hours with one ``POST /_sandbox/clock``.
"""

from __future__ import annotations

import secrets
import string
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from sandbox.clock import Clock

_ALPHABET = string.ascii_letters + string.digits
MB = 1024 * 1024

# The only app credentials the TikTok hosts accept (socialsync falls back to them in sandbox mode).
CLIENT_KEY = "sandbox-tt-client"
CLIENT_SECRET = "sandbox-tt-secret"

PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
PUBLISH_STATUSES = ("PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD", "PUBLISH_COMPLETE", "FAILED")
FAIL_REASONS = (
    "file_format_check_failed", "duration_check_failed", "frame_rate_check_failed",
    "picture_size_check_failed", "video_pull_failed", "photo_pull_failed", "internal",
    "auth_removed", "publish_cancelled", "spam_risk_too_many_posts",
    "spam_risk_user_banned_from_posting", "spam_risk_text", "spam_risk",
)


def random_value(prefix: str, length: int = 40) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass(slots=True)
class Limits:
    """Rate limits and the posting rules; tests change them through the control API."""

    per_endpoint_per_minute: int = 600  # Display API, per app, per endpoint
    init_per_minute: int = 6  # per user token: video/init and content/init
    creator_info_per_minute: int = 20
    status_per_minute: int = 30
    access_ttl_seconds: int = 7200  # current docs: 2 h (the responses say so too)
    refresh_ttl_seconds: int = 180 * 86400
    code_ttl_seconds: int = 300
    min_chunk_bytes: int = 5 * MB
    max_chunk_bytes: int = 64 * MB
    max_last_chunk_bytes: int = 128 * MB
    max_chunks: int = 1000
    audited: bool = True  # unaudited apps: SELF_ONLY only, private accounts, 5 posting users/24 h
    unaudited_user_cap: int = 5
    # Processing after the upload / pull, and moderation after that (sandbox seconds): uniform
    # in [min, max] plus a part proportional to the size (TikTok: ~0.5 min per 512 MB).
    processing_min_seconds: float = 1.0
    processing_max_seconds: float = 3.0
    processing_seconds_per_gb: float = 60.0
    moderation_min_seconds: float = 2.0
    moderation_max_seconds: float = 8.0
    # Where PULL_FROM_URL may fetch from (verified URL prefixes of the app).
    verified_url_prefixes: list[str] = field(
        default_factory=lambda: ["https://cdn.crm.example.com/", "https://media.crm.example.com/"]
    )
    webhooks_on_publish: bool = True


@dataclass(slots=True)
class TikTokUser:
    open_id: str
    union_id: str
    username: str
    display_name: str
    bio: str = ""
    is_verified: bool = False
    follower_count: int = 0
    following_count: int = 0
    likes_count: int = 0
    private: bool = False
    daily_post_cap: int | None = None  # spam_risk_too_many_posts past it
    max_video_post_duration_sec: int = 600
    banned_from_posting: bool = False

    @property
    def privacy_options(self) -> list[str]:
        if self.private:
            return ["MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]
        return ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]


@dataclass(slots=True)
class AuthCode:
    value: str
    open_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    issued_at: float
    used: bool = False


@dataclass(slots=True)
class Grant:
    """One authorization of the app by a user: its current tokens rotate, the grant stays."""

    open_id: str
    scopes: tuple[str, ...]
    revoked: bool = False


@dataclass(slots=True)
class AccessToken:
    value: str
    grant: Grant
    expires_at: float
    revoked: bool = False


@dataclass(slots=True)
class RefreshToken:
    value: str
    grant: Grant
    expires_at: float
    spent: bool = False  # a newer refresh token was issued in its place


@dataclass(slots=True)
class Video:
    id: str
    open_id: str
    create_time: int
    title: str
    description: str
    duration: int
    view_count: int
    like_count: int
    comment_count: int
    share_count: int
    public: bool = True


PublishKind = Literal["video", "photo"]


@dataclass(slots=True)
class Publish:
    """One init: the publish log entry tests read, and the status/fetch timeline."""

    publish_id: str
    open_id: str
    kind: PublishKind
    source: str
    privacy_level: str
    title: str
    created_at: float
    post_info: dict[str, Any]
    video_size: int = 0
    chunk_size: int = 0
    total_chunks: int = 0
    upload_token: str = ""
    uploaded_bytes: int = 0
    chunks_received: int = 0
    sha256: Any = None  # hashlib object while uploading
    digest: str = ""
    photo_urls: list[str] = field(default_factory=list)
    status: str = "PROCESSING_UPLOAD"
    fail_reason: str = ""
    processing_done_at: float | None = None  # set when the bytes are all there
    moderation_done_at: float | None = None
    forced_fail_reason: str | None = None
    post_ids: list[int] = field(default_factory=list)
    events_sent: list[str] = field(default_factory=list)
    receiving: bool = False  # a chunk is being received (a second PUT meanwhile is refused)
    pending_events: list[str] = field(default_factory=list)  # for the webhook ticker

    def public(self) -> dict[str, Any]:
        return {
            "publish_id": self.publish_id, "open_id": self.open_id, "kind": self.kind,
            "source": self.source, "privacy_level": self.privacy_level, "title": self.title,
            "created_at": self.created_at, "video_size": self.video_size,
            "chunk_size": self.chunk_size, "total_chunk_count": self.total_chunks,
            "uploaded_bytes": self.uploaded_bytes, "chunks_received": self.chunks_received,
            "sha256": self.digest, "photo_urls": self.photo_urls, "status": self.status,
            "fail_reason": self.fail_reason, "post_ids": [str(i) for i in self.post_ids],
            "post_info": self.post_info, "events_sent": self.events_sent,
        }


class Window:
    """Call times inside a sliding window on the sandbox clock."""

    def __init__(self) -> None:
        self.calls: deque[float] = deque()

    def try_take(self, now: float, limit: int, seconds: float = 60.0) -> bool:
        while self.calls and self.calls[0] <= now - seconds:
            self.calls.popleft()
        if len(self.calls) >= limit:
            return False
        self.calls.append(now)
        return True


class TikTokWorld:
    """Everything the TikTok hosts know."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.limits = Limits()
        self.users: dict[str, TikTokUser] = {}
        self.codes: dict[str, AuthCode] = {}
        self.grants: list[Grant] = []
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.videos: dict[str, Video] = {}
        self.publishes: dict[str, Publish] = {}
        self.windows: dict[str, Window] = {}
        self.posting_users: dict[str, float] = {}  # open_id -> first post time (unaudited cap)
        self.forced_failures: dict[str, deque[str]] = {}  # open_id -> next fail_reasons
        self.receiver_url: str | None = None
        self.deliveries: list[dict[str, Any]] = []
        self._next_video = 7380080137682000000
        self._next_post = 7390000000000000000

    # --- users ------------------------------------------------------------------------------
    def find_user(self, key: str) -> TikTokUser | None:
        if key in self.users:
            return self.users[key]
        lowered = key.lower()
        return next((u for u in self.users.values() if u.username.lower() == lowered), None)

    def add_user(self, user: TikTokUser) -> TikTokUser:
        self.users[user.open_id] = user
        return user

    def videos_of(self, open_id: str, *, public_only: bool = True) -> list[Video]:
        """Newest first, as video/list returns them."""
        found = [v for v in self.videos.values() if v.open_id == open_id and (v.public or not public_only)]
        return sorted(found, key=lambda v: (v.create_time, v.id), reverse=True)

    def new_video_id(self) -> str:
        self._next_video += 1
        return str(self._next_video)

    def new_post_id(self) -> int:
        self._next_post += 1
        return self._next_post

    # --- codes and tokens --------------------------------------------------------------------
    def issue_code(self, open_id: str, redirect_uri: str, scopes: tuple[str, ...]) -> AuthCode:
        # Real codes hold characters that must be URL-decoded before the exchange ("*", "!").
        code = AuthCode(random_value("", 30) + "*0!6410", open_id, redirect_uri, scopes, self.clock.now())
        self.codes[code.value] = code
        return code

    def issue_pair(self, grant: Grant) -> tuple[AccessToken, RefreshToken]:
        now = self.clock.now()
        access = AccessToken(random_value("act."), grant, now + self.limits.access_ttl_seconds)
        refresh = RefreshToken(random_value("rft."), grant, now + self.limits.refresh_ttl_seconds)
        self.access_tokens[access.value] = access
        self.refresh_tokens[refresh.value] = refresh
        return access, refresh

    def revoke_grant(self, grant: Grant) -> None:
        grant.revoked = True
        for token in self.access_tokens.values():
            if token.grant is grant:
                token.revoked = True

    def grants_of(self, open_id: str) -> list[Grant]:
        return [g for g in self.grants if g.open_id == open_id and not g.revoked]

    def window(self, key: str) -> Window:
        return self.windows.setdefault(key, Window())


def fresh_world(sandbox: Any) -> TikTokWorld:
    """A seeded TikTok world on the sandbox clock (registered as ``tiktok``; rebuilt on reset)."""
    from sandbox.tiktok.seed import seed_world  # noqa: PLC0415 - seed imports this module

    world = TikTokWorld(sandbox.clock)
    seed_world(world)
    return world


def world_of(sandbox: Any) -> TikTokWorld:
    """The TikTok part of the shared sandbox (``Sandbox.register("tiktok", fresh_world)``)."""
    return sandbox.platform("tiktok")
