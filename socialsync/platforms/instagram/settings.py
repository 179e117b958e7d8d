"""Instagram's settings: the Meta apps (Instagram Login and Facebook Login), their scopes, and
the Graph hosts. Env names stay flat (``SOCIALSYNC_INSTAGRAM_APP_ID``, ``SOCIALSYNC_META_APP_ID``,
``SOCIALSYNC_GRAPH_VERSION``, ...): `socialsync.config.Settings` inherits these fields, so
everything written before the platform blocks existed keeps working.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import NoDecode

# Real hosts. In sandbox mode each becomes f"{sandbox_url}/{host}".
INSTAGRAM_WWW = "https://www.instagram.com"
INSTAGRAM_API = "https://api.instagram.com"
INSTAGRAM_GRAPH = "https://graph.instagram.com"
FACEBOOK_WWW = "https://www.facebook.com"
FACEBOOK_GRAPH = "https://graph.facebook.com"


# The scopes each login asks for by default, and those without which a connect fails.
INSTAGRAM_LOGIN_SCOPES = ("instagram_business_basic", "instagram_business_content_publish",
                          "instagram_business_manage_comments", "instagram_business_manage_insights")
INSTAGRAM_LOGIN_REQUIRED = ("instagram_business_basic",)
FACEBOOK_LOGIN_SCOPES = ("instagram_basic", "instagram_content_publish", "instagram_manage_comments",
                         "instagram_manage_insights", "pages_show_list", "pages_read_engagement",
                         "pages_manage_metadata")  # pages_manage_metadata: to subscribe the Page to webhooks
FACEBOOK_LOGIN_REQUIRED = ("instagram_basic", "pages_show_list", "pages_read_engagement")


def split_csv(value: object) -> object:
    """A comma-separated env value as a list (lists pass through)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class MetaAppSettings(BaseModel):
    """Mixed into `Settings` (flat env names); ``platform_url`` and ``sandbox_mode`` come from it."""

    instagram_app_id: str | None = None
    instagram_app_secret: SecretStr | None = None
    meta_app_id: str | None = None
    meta_app_secret: SecretStr | None = None
    graph_version: str = "v24.0"
    instagram_scopes: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(INSTAGRAM_LOGIN_SCOPES))
    facebook_scopes: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(FACEBOOK_LOGIN_SCOPES))
    instagram_required_scopes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(INSTAGRAM_LOGIN_REQUIRED),
        description="Scopes without which an Instagram-Login connect fails with missing_scopes.",
    )
    facebook_required_scopes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(FACEBOOK_LOGIN_REQUIRED),
        description="Scopes without which a Facebook-Login connect fails with missing_scopes.",
    )
    instagram_www_url: str = INSTAGRAM_WWW
    instagram_api_url: str = INSTAGRAM_API
    instagram_graph_url: str = INSTAGRAM_GRAPH
    facebook_www_url: str = FACEBOOK_WWW
    facebook_graph_url: str = FACEBOOK_GRAPH

    _split_meta = field_validator(
        "instagram_scopes", "facebook_scopes", "instagram_required_scopes", "facebook_required_scopes",
        mode="before",
    )(split_csv)

    @property
    def meta_credentials_set(self) -> bool:
        """An Instagram-Login or a Facebook-Login app is configured (Instagram goes real)."""
        has_ig = bool(self.instagram_app_id and self.instagram_app_secret)
        has_fb = bool(self.meta_app_id and self.meta_app_secret)
        return has_ig or has_fb

    @property
    def ig_www(self) -> str:
        return self.platform_url(self.instagram_www_url)

    @property
    def ig_api(self) -> str:
        return self.platform_url(self.instagram_api_url)

    @property
    def ig_graph(self) -> str:
        return self.platform_url(self.instagram_graph_url)

    @property
    def fb_www(self) -> str:
        return self.platform_url(self.facebook_www_url)

    @property
    def fb_graph(self) -> str:
        return self.platform_url(self.facebook_graph_url)

    # Sandbox credentials: the emulator accepts exactly these.
    @property
    def ig_client_id(self) -> str:
        return self.instagram_app_id or self._sandbox_only("sandbox-ig-app")

    @property
    def ig_client_secret(self) -> str:
        return _secret(self.instagram_app_secret) or self._sandbox_only("sandbox-ig-secret")

    @property
    def fb_client_id(self) -> str:
        return self.meta_app_id or self._sandbox_only("sandbox-meta-app")

    @property
    def fb_client_secret(self) -> str:
        return _secret(self.meta_app_secret) or self._sandbox_only("sandbox-meta-secret")

    def _sandbox_only(self, value: str) -> str:
        return value if self.sandbox_mode else ""


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value else ""
