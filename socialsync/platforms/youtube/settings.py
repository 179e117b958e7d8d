"""The YouTube settings block (``Settings.youtube``; env ``SOCIALSYNC_YOUTUBE__<FIELD>``).

Without a client id and secret this platform talks to the sandbox, with the literals the sandbox
accepts (``PlatformSettings.uses_sandbox``).
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from socialsync.platforms.base import PlatformSettings

SCOPE = "https://www.googleapis.com/auth/"
READONLY = SCOPE + "youtube.readonly"
ANALYTICS = SCOPE + "yt-analytics.readonly"
FORCE_SSL = SCOPE + "youtube.force-ssl"
UPLOAD = SCOPE + "youtube.upload"
FULL = SCOPE + "youtube"

SANDBOX_CLIENT_ID = "sandbox-google-app.apps.googleusercontent.com"
SANDBOX_CLIENT_SECRET = "sandbox-google-secret"  # noqa: S105 - the sandbox's public literal

ACCOUNTS_URL = "https://accounts.google.com"
OAUTH2_URL = "https://oauth2.googleapis.com"
API_URL = "https://www.googleapis.com"
ANALYTICS_URL = "https://youtubeanalytics.googleapis.com"
HUB_URL = "https://pubsubhubbub.appspot.com"


class YouTubeSettings(PlatformSettings):
    client_id: str | None = None
    client_secret: SecretStr | None = None
    scopes: list[str] = Field(default_factory=lambda: [READONLY, ANALYTICS, FORCE_SSL, UPLOAD])
    required_scopes: list[str] = Field(default_factory=lambda: [READONLY, ANALYTICS])
    accounts_url: str = ACCOUNTS_URL
    oauth2_url: str = OAUTH2_URL
    api_url: str = API_URL
    analytics_url: str = ANALYTICS_URL
    hub_url: str = HUB_URL
    # Quota (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §7.1): units per Google project per Pacific day.
    daily_units: int = Field(default=10_000, ge=1)
    reserve_units: int = Field(default=1_000, ge=0, description="Kept for publishing and moderation.")
    lookback_days: int = Field(default=14, ge=0, description="Videos whose statistics are refreshed.")
    analytics_days: int = Field(default=28, ge=1)
    upload_chunk_bytes: int = Field(default=8 * 1024 * 1024, ge=256 * 1024)
    upload_retry_seconds: float = Field(default=30.0, ge=0, description="Resume after a dropped upload.")
    websub_lease_seconds: int = Field(default=432_000, ge=3600)
    project_audited: bool = Field(default=False, description="Uploads stay private until Google's audit.")

    @property
    def has_credentials(self) -> bool:
        return bool(self.client_id and self.client_secret)

    def resolved_client_id(self, sandbox_mode: bool) -> str:
        return self.client_id or (SANDBOX_CLIENT_ID if sandbox_mode else "")

    def resolved_client_secret(self, sandbox_mode: bool) -> str:
        if self.client_secret:
            return self.client_secret.get_secret_value()
        return SANDBOX_CLIENT_SECRET if sandbox_mode else ""
