"""TikTok as a platform plugin (socialsync.platforms.base): Login Kit v2, Display API v2 reads,
Direct Post, signed webhooks. No comments: TikTok gives creators no comments API
(PLATFORM_FACTS_TIKTOK_YOUTUBE.md §2.6), so COMMENTS and MODERATION are absent from the spec and
the API answers them ``capability_unavailable``.
"""

from __future__ import annotations

from socialsync.platforms.base import (
    AccountRef,
    Capability,
    LoginSpec,
    Platform,
    PlatformContext,
    PlatformSpec,
)
from socialsync.platforms.tiktok.client import TikTokClient
from socialsync.platforms.tiktok.connect import TikTokConnector
from socialsync.platforms.tiktok.errors import TikTokErrors
from socialsync.platforms.tiktok.inbound import TikTokInbound
from socialsync.platforms.tiktok.publish import TikTokPublisher
from socialsync.platforms.tiktok.rates import TikTokRates
from socialsync.platforms.tiktok.settings import API, WWW, TikTokSettings
from socialsync.platforms.tiktok.sync import SYNC_KINDS, TikTokSync
from socialsync.platforms.tiktok.tokens import TikTokTokens
from socialsync.ratelimit_windows import WindowGovernor

SPEC = PlatformSpec(
    name="tiktok",
    display_name="TikTok",
    credentials_hint="SOCIALSYNC_TIKTOK__CLIENT_KEY + SOCIALSYNC_TIKTOK__CLIENT_SECRET",
    post_product_types=("TIKTOK",),
    hosts=("www.tiktok.com", "open.tiktokapis.com", "open-upload.tiktokapis.com"),
    logins=(LoginSpec(
        name="tiktok",
        authorize_url=f"{WWW}/v2/auth/authorize/",
        token_url=f"{API}/v2/oauth/token/",
        scopes=("user.info.basic", "user.info.profile", "user.info.stats", "video.list", "video.publish"),
        required_scopes=("user.info.basic", "user.info.profile", "user.info.stats", "video.list"),
        scope_separator=",",
    ),),
    capabilities=frozenset({Capability.SYNC, Capability.ANALYTICS, Capability.PUBLISH, Capability.WEBHOOKS}),
    sync_kinds=SYNC_KINDS,
    webhook_source="tiktok",
)


class TikTokPrivacy:
    def __init__(self, tokens: TikTokTokens) -> None:
        self._tokens = tokens

    def parse_callback(self, kind, form):  # noqa: ANN001, ANN201 - TikTok has no privacy callbacks
        raise ValueError("TikTok sends deauthorization as the authorization.removed webhook")

    async def revoke(self, account: AccountRef) -> None:
        """On disconnect: /v2/oauth/revoke/ with the access token (best effort; the core drops it)."""
        await self._tokens.revoke(account.credentials.access_token)


class TikTokPlatform(Platform):
    spec = SPEC

    def __init__(self, context: PlatformContext, governor: WindowGovernor | None = None) -> None:
        super().__init__(context)
        settings = context.settings
        block: TikTokSettings = settings.tiktok  # type: ignore[attr-defined]
        self.settings = block
        redis = getattr(context, "redis", None)
        if governor is None and redis is not None:
            governor = WindowGovernor(redis, default_block_seconds=block.throttle_block_seconds)
        self.rates = TikTokRates(block)
        self.errors = TikTokErrors()
        self.client = TikTokClient(context.http, block.api(settings), self.rates, governor)
        key, secret = block.key(settings), block.secret(settings)
        self.connect = TikTokConnector(self.client, www_base=block.www(settings), client_key=key,
                                       client_secret=secret, scopes=block.scopes,
                                       required_scopes=block.required_scopes)
        self.tokens = TikTokTokens(self.client, client_key=key, client_secret=secret,
                                   refresh_ahead_seconds=block.refresh_ahead_seconds)
        self.sync = TikTokSync(self.client, max_pages=block.max_pages)
        self.publish = TikTokPublisher(self.client, context.http, block)  # type: ignore[assignment]
        self.inbound = TikTokInbound(secret, block.webhook_tolerance_seconds)
        self.privacy = TikTokPrivacy(self.tokens)  # type: ignore[assignment]
