"""The YouTube side of one sandbox: Google accounts, channels, videos, comments, tokens, upload
sessions, hub subscriptions, quota and the publish log. Rebuilt from the seed on reset."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from sandbox.clock import Clock
from sandbox.youtube.model import (
    AuthCode,
    Channel,
    Comment,
    GoogleAccount,
    Grant,
    HubSubscription,
    UploadSession,
    Video,
    random_value,
)
from sandbox.youtube.quota import QuotaMeter

CLIENT_ID = "sandbox-google-app.apps.googleusercontent.com"
CLIENT_SECRET = "sandbox-google-secret"
ACCESS_TTL = 3599
CODE_TTL = 600
TESTING_REFRESH_TTL = 7 * 24 * 3600
UPLOAD_SESSION_TTL = 7 * 24 * 3600  # Google keeps a resumable session about a week
SCOPE_PREFIX = "https://www.googleapis.com/auth/"
READONLY = SCOPE_PREFIX + "youtube.readonly"
ANALYTICS = SCOPE_PREFIX + "yt-analytics.readonly"
FORCE_SSL = SCOPE_PREFIX + "youtube.force-ssl"
UPLOAD = SCOPE_PREFIX + "youtube.upload"
YOUTUBE = SCOPE_PREFIX + "youtube"
KNOWN_SCOPES = (READONLY, ANALYTICS, FORCE_SSL, UPLOAD, YOUTUBE,
                SCOPE_PREFIX + "yt-analytics-monetary.readonly", "openid", "email", "profile")


@dataclass(slots=True)
class AppSettings:
    """The Google Cloud project as configured in its console."""

    publishing_status: str = "production"  # "testing": refresh tokens die after 7 days
    audited: bool = False  # unaudited projects: every API upload is locked private
    analytics_lag_days: int = 3  # 48-72 h processing delay: the last days are left out


@dataclass(slots=True)
class ApiFault:
    """A Google-shaped error for the next ``remaining`` calls matching method and path glob."""

    id: str
    method: str
    path: str
    status: int
    reason: str
    remaining: int
    retry_after: int | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and fnmatchcase(path, self.path)


@dataclass(slots=True)
class PublishRecord:
    video_id: str
    channel_id: str
    title: str
    privacy_requested: str
    privacy: str
    bytes: int
    sha256: str
    at: float
    upload_id: str


@dataclass(slots=True)
class HubDelivery:
    callback: str
    kind: str
    video_id: str
    status: int | str
    at: float


class YouTubeState:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.app = AppSettings()
        self.accounts: dict[str, GoogleAccount] = {}
        self.channels: dict[str, Channel] = {}
        self.videos: dict[str, Video] = {}
        self.comments: dict[str, Comment] = {}
        self.codes: dict[str, AuthCode] = {}
        # Scopes a user granted the client before (include_granted_scopes=true adds them back).
        self.prior_grants: dict[tuple[str, str], tuple[str, ...]] = {}
        self.grants: dict[str, Grant] = {}
        self.uploads: dict[str, UploadSession] = {}
        self.subscriptions: dict[tuple[str, str], HubSubscription] = {}
        self.hub_failures: list[int] = []  # retry-after seconds of the next 503s
        self.hub_deliveries: list[HubDelivery] = []
        self.quota = QuotaMeter()
        self.faults: list[ApiFault] = []
        self.published: list[PublishRecord] = []
        self.upload_drop_after: int | None = None  # drop the connection once a session holds this
        self._ids = itertools.count(1)
        self._fault_ids = itertools.count(1)

    # --- ids ----------------------------------------------------------------------------------
    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def new_video_id(self) -> str:
        return "v" + f"{next(self._ids):010d}"

    # --- lookups ------------------------------------------------------------------------------
    def find_account(self, key: str) -> GoogleAccount | None:
        for account in self.accounts.values():
            if key.lower() == account.username.lower() or key == account.google_id:
                return account
        return None

    def videos_of(self, channel_id: str) -> list[Video]:
        """Newest first, the order the uploads playlist comes out in."""
        return sorted(
            (v for v in self.videos.values() if v.channel_id == channel_id),
            key=lambda v: (v.published_at, v.video_id), reverse=True,
        )

    def threads_of(self, channel_id: str) -> list[Comment]:
        return sorted(
            (c for c in self.comments.values() if c.channel_id == channel_id and c.parent_id is None),
            key=lambda c: (c.published_at, c.comment_id), reverse=True,
        )

    def replies_of(self, thread_id: str) -> list[Comment]:
        return sorted(
            (c for c in self.comments.values() if c.parent_id == thread_id),
            key=lambda c: (c.published_at, c.comment_id),
        )

    def subscriptions_for(self, channel_id: str) -> Iterator[HubSubscription]:
        now = self.clock.now()
        for sub in list(self.subscriptions.values()):
            if sub.channel_id == channel_id and sub.verified and sub.expires_at > now:
                yield sub

    # --- tokens -------------------------------------------------------------------------------
    def issue_code(self, **kwargs: object) -> AuthCode:
        code = AuthCode(value=random_value("4/0A", 60), issued_at=self.clock.now(), **kwargs)  # type: ignore[arg-type]
        self.codes[code.value] = code
        return code

    def issue_access(self, client_id: str, username: str, scopes: tuple[str, ...],
                     refresh_token: str | None) -> Grant:
        now = self.clock.now()
        grant = Grant(random_value("ya29.a0", 80), "access", client_id, username, scopes, now,
                      now + ACCESS_TTL, refresh_token=refresh_token)
        self.grants[grant.value] = grant
        return grant

    def issue_refresh(self, client_id: str, username: str, scopes: tuple[str, ...]) -> Grant:
        now = self.clock.now()
        ttl = TESTING_REFRESH_TTL if self.app.publishing_status == "testing" else None
        grant = Grant(random_value("1//0g", 90), "refresh", client_id, username, scopes, now,
                      None if ttl is None else now + ttl)
        self.grants[grant.value] = grant
        return grant

    def revoke(self, value: str) -> bool:
        """Revoking either token kills the whole grant (its refresh token and access tokens)."""
        grant = self.grants.get(value)
        if grant is None:
            return False
        root = grant.value if grant.kind == "refresh" else grant.refresh_token
        self.prior_grants.pop((grant.client_id, grant.username), None)
        for other in self.grants.values():
            if other is grant or (root is not None and root in (other.value, other.refresh_token)):
                other.revoked = True
        return True

    def revoke_user(self, username: str) -> int:
        count = 0
        for grant in self.grants.values():
            if grant.username.lower() == username.lower() and not grant.revoked:
                grant.revoked = True
                count += 1
        return count

    # --- faults -------------------------------------------------------------------------------
    def add_fault(self, method: str, path: str, status: int, reason: str, count: int,
                  retry_after: int | None) -> ApiFault:
        fault = ApiFault(f"ytfault-{next(self._fault_ids)}", method.upper(), path, status,
                         reason, count, retry_after)
        self.faults.append(fault)
        return fault

    def take_fault(self, method: str, path: str) -> ApiFault | None:
        for fault in self.faults:
            if fault.matches(method, path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                return fault
        return None


@dataclass(slots=True)
class NewVideo:
    """A video to add to a channel from the control API (as if uploaded on youtube.com)."""

    title: str
    duration_seconds: int = 60
    width: int = 1920
    height: int = 1080
    privacy: str = "public"
    view_count: int = 0
    like_count: int | None = 0
    comment_count: int | None = 0
    tags: list[str] = field(default_factory=list)
