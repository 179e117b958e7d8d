"""The YouTube plugin's parts, assembled on the plugin: connect, tokens, sync, moderate,
inbound, privacy, publish. Each Data API call goes through the quota governor first."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from socialsync.platforms.base import (
    AccountRef,
    Call,
    Change,
    ConnectFailed,
    Credentials,
    ErasureRequest,
    ErrorKind,
    HandshakeAnswer,
    InboundRequest,
    ModerationAction,
    NewAccount,
    PlatformContext,
    PlatformError,
    RejectedChange,
    TokenCheck,
)
from socialsync.platforms.youtube import oauth, reads, websub
from socialsync.platforms.youtube.client import Endpoints, YouTubeClient
from socialsync.platforms.youtube.errors import InvalidGrant, NoChannel, Transient, YouTubeError

if TYPE_CHECKING:
    from socialsync.platforms.youtube.plugin import YouTubePlatform

REFRESH_MARGIN = timedelta(minutes=10)
CREDENTIALS_KIND = "google_oauth2"


def _fail(error: YouTubeError) -> PlatformError:
    from socialsync.platforms.youtube.plugin import to_platform_error  # noqa: PLC0415

    return to_platform_error(error)


class Parts:
    """What every part shares: endpoints, the governor, the HTTP client, the WebSub key."""

    def __init__(self, plugin: YouTubePlatform, context: PlatformContext) -> None:
        self.plugin = plugin
        self.settings = context.settings
        self.block = plugin.block
        self.http = context.http
        self.endpoints = Endpoints.for_settings(context.settings)
        clock = getattr(context, "clock", None)
        self.now = clock if callable(clock) else (getattr(clock, "time", None) or time.time)
        # The core's governor (Services.governor); a bare context (plugin tests) gets its own
        # over the same Redis. The budgets are the plugin's `DailyUnitsPolicy` (plugin.rates).
        self.governor = getattr(context, "governor", None)
        redis = getattr(context, "redis", None)
        if self.governor is None and redis is not None:
            from socialsync.ratelimit import Governor  # noqa: PLC0415

            self.governor = Governor(redis, context.settings, now=self.now)
        # The WebSub key: from the app secret and the first token key (never stored, never logged).
        keys = getattr(context.settings, "token_keys", None) or []
        first_key = keys[0].get_secret_value() if keys and hasattr(keys[0], "get_secret_value") else ""
        key_material = (self.block.client_secret.get_secret_value() if self.block.client_secret else "") + \
            "|" + first_key
        self.websub_key = hashlib.sha256(b"socialsync-youtube-websub|" + key_material.encode()).digest()

    def client(self, token: str, *, account_id: str | None, active_accounts: int = 1) -> YouTubeClient:
        if self.governor is None:
            raise RuntimeError("the YouTube plugin needs the core governor (context.governor or context.redis)")
        return YouTubeClient(self.http, self.endpoints, self.governor, self.plugin.rates, token,
                             account_id=account_id, active_accounts=active_accounts)

    async def charge(self, operation: str, account_id: str | None) -> None:
        """Spend an operation's budgets on the core governor outside the client (the resumable
        upload's session start); raises `RateLimited`."""
        if self.governor is not None:
            await self.governor.acquire(self.plugin.rates.budgets(Call(operation=operation, account_key=account_id)))

    @property
    def client_secret(self) -> str:
        return self.block.resolved_client_secret(self.plugin.sandbox_mode)


class GoogleConnector:
    def __init__(self, parts: Parts) -> None:
        self.p = parts

    def authorize_url(self, login: str, *, state: str, redirect_uri: str, code_challenge: str | None = None) -> str:
        return oauth.authorize_url(self.p.endpoints, client_id=self.p.plugin.client_id, redirect_uri=redirect_uri,
                                   scopes=list(self.p.block.scopes), state=state, code_challenge=code_challenge)

    async def callback(self, login: str, *, params: Mapping[str, str], redirect_uri: str,
                       code_verifier: str | None = None) -> Sequence[NewAccount]:
        if params.get("error"):
            raise ConnectFailed("access_denied" if params["error"] == "access_denied" else "authorization_failed",
                                "The person did not allow access on Google's consent screen.")
        code = params.get("code")
        if not code:
            raise ConnectFailed("invalid_callback", "Google sent no authorization code.")
        try:
            grant = await oauth.exchange_code(
                self.p.http, self.p.endpoints, client_id=self.p.plugin.client_id,
                client_secret=self.p.client_secret, code=code, redirect_uri=redirect_uri,
                code_verifier=code_verifier or "")
        except (InvalidGrant, YouTubeError) as exc:
            raise ConnectFailed("token_exchange_failed", f"Exchanging the code failed: {exc}") from exc
        missing = [s for s in self.p.block.required_scopes if s not in grant.scopes]
        if missing:
            raise ConnectFailed("missing_scopes", "Permissions not granted: " + ", ".join(missing))
        try:
            channel = await reads.my_channel(self.p.client(grant.access_token, account_id=None))
        except NoChannel as exc:
            raise ConnectFailed("no_youtube_channel", "This Google account has no YouTube channel.") from exc
        except YouTubeError as exc:
            raise ConnectFailed("profile_fetch_failed", f"Reading the channel failed: {exc.reason}") from exc
        now = datetime.fromtimestamp(self.p.now(), UTC)
        credentials = Credentials(
            access_token=grant.access_token, kind=CREDENTIALS_KIND,
            access_expires_at=now + timedelta(seconds=grant.expires_in),
            refresh_token=grant.refresh_token,
            refresh_expires_at=(now + timedelta(seconds=grant.refresh_token_expires_in)
                                if grant.refresh_token_expires_in else None),
            scopes=tuple(grant.scopes),
        )
        profile = {
            "followers_count": channel.subscriber_count, "subscriber_count": channel.subscriber_count,
            "hidden_subscriber_count": channel.hidden_subscriber_count, "view_count": channel.view_count,
            "media_count": channel.video_count, "custom_url": channel.custom_url, "country": channel.country,
        }
        return [NewAccount(
            login="google", external_id=channel.channel_id,
            username=(channel.custom_url or channel.title).lstrip("@"), credentials=credentials,
            scopes=tuple(grant.scopes), name=channel.title, account_type="CHANNEL",
            profile_picture_url=channel.thumbnail_url,
            profile={k: v for k, v in profile.items() if v is not None},
            extra={"uploads_playlist_id": channel.uploads_playlist_id,
                   "capabilities": oauth.capabilities(grant.scopes)},
        )]

    async def choose(self, login: str, pending: Mapping[str, Any], option_id: str) -> NewAccount:
        raise ConnectFailed("no_choice", "YouTube connects one channel per grant.")


class GoogleTokens:
    def __init__(self, parts: Parts) -> None:
        self.p = parts

    def next_check_at(self, credentials: Credentials, now: datetime) -> datetime:
        if credentials.access_expires_at is None:
            return now + timedelta(hours=1)
        return max(now, credentials.access_expires_at - REFRESH_MARGIN)

    async def refresh(self, account: AccountRef, now: datetime) -> TokenCheck:
        creds = account.credentials
        if creds.access_expires_at is not None and creds.access_expires_at - REFRESH_MARGIN > now:
            return TokenCheck(None, self.next_check_at(creds, now))
        if not creds.refresh_token:
            raise PlatformError("no refresh token stored: reconnect", kind=ErrorKind.TOKEN_INVALID,
                                code="no_refresh_token")
        try:
            grant = await oauth.refresh(self.p.http, self.p.endpoints, client_id=self.p.plugin.client_id,
                                        client_secret=self.p.client_secret, refresh_token=creds.refresh_token)
        except InvalidGrant as exc:
            testing = creds.refresh_expires_at is not None and now >= creds.refresh_expires_at - timedelta(hours=1)
            raise PlatformError(oauth.reconnect_reason(exc.description, testing_expiry=testing),
                                kind=ErrorKind.TOKEN_INVALID, code="invalid_grant") from exc
        except Transient as exc:  # only invalid_grant means reconnect
            raise PlatformError("Google's token endpoint did not answer", kind=ErrorKind.TRANSIENT,
                                status=exc.status, code="transient") from exc
        except YouTubeError as exc:
            raise PlatformError(f"refresh refused: {exc.reason}", kind=ErrorKind.UNKNOWN, status=exc.status,
                                code=exc.reason) from exc
        fresh = Credentials(
            access_token=grant.access_token, kind=CREDENTIALS_KIND,
            access_expires_at=now + timedelta(seconds=grant.expires_in),
            refresh_token=grant.refresh_token,  # None: not re-sent, the core keeps the stored one
            refresh_expires_at=creds.refresh_expires_at, scopes=tuple(grant.scopes) or creds.scopes,
        )
        return TokenCheck(fresh, self.next_check_at(fresh, now))


MODERATION_CALLS = {"reply": "comments.insert", "hide": "comments.setModerationStatus",
                    "unhide": "comments.setModerationStatus", "delete": "comments.delete"}


class CommentModerator:
    """Reply (comments.insert to the thread), hide = ``heldForReview`` (reversible: unhide sets
    ``published``; ``rejected`` would be final), delete. 50 units each, from the reserve."""

    def __init__(self, parts: Parts) -> None:
        self.p = parts

    async def moderate(self, account: AccountRef, action: ModerationAction) -> str | None:
        yt = self.p.client(account.credentials.access_token, account_id=account.id)
        api = self.p.endpoints.api + "/youtube/v3"
        try:
            if action.kind == "reply":
                response = await yt.call("comments.insert", "POST", api + "/comments", params={"part": "snippet"},
                                         json={"snippet": {"parentId": action.parent_id or action.comment_id,
                                                           "textOriginal": action.text or ""}})
                return str(response.json()["id"])
            if action.kind in ("hide", "unhide"):
                status = "heldForReview" if action.kind == "hide" else "published"
                await yt.call("comments.setModerationStatus", "POST", api + "/comments/setModerationStatus",
                              params={"id": action.comment_id, "moderationStatus": status})
                return None
            await yt.call("comments.delete", "DELETE", api + "/comments", params={"id": action.comment_id})
            return None
        except YouTubeError as exc:
            raise _fail(exc) from exc


class WebSubInbound:
    """``/webhooks/youtube/{token}``: the token is the callback's path parameter."""

    def __init__(self, parts: Parts) -> None:
        self.p = parts

    def _channel(self, request: InboundRequest) -> str | None:
        token = request.path_params.get("key") or request.path_params.get("token") or ""
        return websub.channel_of_token(self.p.websub_key, token)

    def handshake(self, request: InboundRequest) -> HandshakeAnswer:
        channel_id = self._channel(request)
        mode = request.query.get("hub.mode")
        wanted = mode if mode in ("subscribe", "unsubscribe") else None
        challenge = websub.verify_intent(dict(request.query), channel_id=channel_id or "", wanted_mode=wanted) \
            if channel_id else None
        if challenge is None:
            return HandshakeAnswer(404, "unknown subscription")
        return HandshakeAnswer(200, challenge)

    def verify(self, request: InboundRequest, now: datetime) -> bool:
        channel_id = self._channel(request)
        if channel_id is None:
            return False
        header = {k.lower(): v for k, v in request.headers.items()}.get("x-hub-signature")
        return websub.signature_ok(websub.secret_for(self.p.websub_key, channel_id), request.body, header)

    def normalize(self, body: bytes) -> Sequence[Change | RejectedChange]:
        try:
            feed = websub.parse_feed(body)
        except websub.BadFeed as exc:
            return [RejectedChange(index=0, reason=f"unreadable feed: {exc}")]
        channel = next(iter(feed.channel_ids), "")
        out: list[Change | RejectedChange] = []
        if not channel:
            return [RejectedChange(index=0, reason="no channel id in the feed")]
        for video_id in feed.videos:
            out.append(Change(kind="media", account_key=channel, data={"media_id": video_id, "deleted": False},
                              field="video"))
        for video_id in feed.deleted:
            out.append(Change(kind="media", account_key=channel, data={"media_id": video_id, "deleted": True},
                              field="deleted"))
        return out

    @property
    def lease_seconds(self) -> int:
        """The lease asked of the hub; the core renews the subscription before it ends."""
        return self.p.block.websub_lease_seconds

    def callback_path(self, channel_id: str) -> str:
        return f"/webhooks/youtube/{websub.callback_token(self.p.websub_key, channel_id)}"

    async def subscribe(self, channel_id: str, public_base: str) -> int:
        return await websub.subscribe(
            self.p.http, self.p.endpoints, channel_id=channel_id,
            callback=public_base.rstrip("/") + self.callback_path(channel_id),
            secret=websub.secret_for(self.p.websub_key, channel_id),
            lease_seconds=self.p.block.websub_lease_seconds)


class GooglePrivacy:
    def __init__(self, parts: Parts) -> None:
        self.p = parts

    def parse_callback(self, kind: str, form: Mapping[str, str]) -> ErasureRequest:
        raise ValueError("Google sends no deauthorize or data-deletion callbacks")

    async def revoke(self, account: AccountRef) -> None:
        token = account.credentials.refresh_token or account.credentials.access_token
        try:
            await oauth.revoke(self.p.http, self.p.endpoints, token)
        except Exception:  # noqa: BLE001 - best effort: tokens are dropped locally either way
            pass
        try:
            await websub.unsubscribe(self.p.http, self.p.endpoints, channel_id=account.external_id,
                                     callback=str(getattr(self.p.settings, "public_base", "")).rstrip("/")
                                     + WebSubInbound(self.p).callback_path(account.external_id))
        except websub.HubUnavailable:
            pass


def build_parts(plugin: YouTubePlatform, context: PlatformContext) -> None:
    from socialsync.platforms.youtube.publisher import VideoPublisher  # noqa: PLC0415
    from socialsync.platforms.youtube.quota_report import QuotaReport  # noqa: PLC0415
    from socialsync.platforms.youtube.syncer import ChannelSyncer  # noqa: PLC0415

    parts = Parts(plugin, context)
    plugin.parts = parts  # type: ignore[attr-defined]
    plugin.connect = GoogleConnector(parts)
    plugin.tokens = GoogleTokens(parts)
    plugin.sync = ChannelSyncer(parts)
    plugin.moderate = CommentModerator(parts)
    plugin.publish = VideoPublisher(parts)
    plugin.inbound = WebSubInbound(parts)
    plugin.privacy = GooglePrivacy(parts)  # type: ignore[assignment]
    plugin.quota = QuotaReport(plugin)
