"""TikTok's settings block: ``SOCIALSYNC_TIKTOK__<FIELD>`` (e.g. ``SOCIALSYNC_TIKTOK__CLIENT_KEY``).

Without ``client_key``/``client_secret`` the platform talks to its sandbox with the sandbox's
app (``sandbox-tt-client``); with them it goes to the real hosts. Limits are TikTok's documented
defaults (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §2.5); raise them only when TikTok raised yours.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, SecretStr

from socialsync.platforms.base import PlatformSettings

if TYPE_CHECKING:
    from socialsync.config import Settings

WWW = "https://www.tiktok.com"
API = "https://open.tiktokapis.com"
SANDBOX_CLIENT_KEY = "sandbox-tt-client"
SANDBOX_CLIENT_SECRET = "sandbox-tt-secret"
MIB = 1024 * 1024


class TikTokSettings(PlatformSettings):
    client_key: str | None = None
    client_secret: SecretStr | None = None
    scopes: list[str] = Field(default_factory=lambda: [
        "user.info.basic", "user.info.profile", "user.info.stats", "video.list", "video.publish",
    ])
    required_scopes: list[str] = Field(
        default_factory=lambda: ["user.info.basic", "user.info.profile", "user.info.stats", "video.list"],
        description="Without these a connect fails with missing_scopes; video.publish is optional "
        "(without it the account is read-only).",
    )
    www_url: str = WWW
    api_url: str = API
    app_audited: bool = Field(
        default=False,
        description="Whether TikTok audited the app. Unaudited apps may only post SELF_ONLY "
        "(to private accounts, at most 5 posting users per 24 h).",
    )
    # Rate limits (per sliding minute).
    endpoint_per_minute: int = 600
    init_per_minute: int = 6
    creator_info_per_minute: int = 20
    status_per_minute: int = 30
    throttle_block_seconds: float = 60.0
    # Tokens: refresh this long before the access token expires (it lives ~2 h).
    refresh_ahead_seconds: int = 900
    # Sync.
    lookback_days: int = Field(default=30, description="Videos this young get their counts refreshed.")
    max_pages: int = 500
    # Publishing.
    upload_chunk_bytes: int = Field(
        default=32 * MIB, ge=5 * MIB, le=64 * MIB,
        description="Chunks are streamed (never held), so size costs no memory; 32 MiB matched a plain "
        "streamed PUT in bench/tiktok_upload.py where 10 MiB reached 0.75-0.89x.")
    upload_chunk_tries: int = 4
    upload_step_seconds: float = Field(
        default=10.0, gt=0, le=20,
        description="One upload step sends chunks for at most this long (plus the chunk in flight), then "
        "records its offset: a step stays well inside PUBLISH_STUCK_AFTER_SECONDS (30 s, when the sweep "
        "would take it for dead) and the publishing job's timeout.")
    poll_first_seconds: float = 3.0
    poll_growth: float = 1.5
    poll_cap_seconds: float = 60.0
    publish_deadline_seconds: float = Field(
        default=6 * 3600.0, description="Moderation can take hours; a post still not final then fails."
    )
    # Webhooks.
    webhook_tolerance_seconds: int = Field(default=300, description="Older TikTok-Signature t= are refused.")

    @property
    def has_credentials(self) -> bool:
        return bool(self.client_key and self.client_secret)

    def key(self, settings: Settings) -> str:
        if self.client_key:
            return self.client_key
        return SANDBOX_CLIENT_KEY if self.uses_sandbox(settings) else ""

    def secret(self, settings: Settings) -> str:
        if self.client_secret:
            return self.client_secret.get_secret_value()
        return SANDBOX_CLIENT_SECRET if self.uses_sandbox(settings) else ""

    def www(self, settings: Settings) -> str:
        return self.url(self.www_url, settings)

    def api(self, settings: Settings) -> str:
        return self.url(self.api_url, settings)
