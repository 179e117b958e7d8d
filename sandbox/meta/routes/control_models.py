"""Bodies of the control API, validated at the boundary (a bad body is a 400, never a 500)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from sandbox.meta.accounts import AccountType, TokenResponseStyle

USERNAME = Annotated[str, Field(pattern=r"^[A-Za-z0-9._]{1,30}$")]
DEFAULT_IG_SCOPES = (
    "instagram_business_basic",
    "instagram_business_content_publish",
    "instagram_business_manage_comments",
    "instagram_business_manage_insights",
    "instagram_business_manage_messages",
)
DEFAULT_FB_SCOPES = (
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_insights",
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_metadata",
    "business_management",
)


# --- bodies -----------------------------------------------------------------------------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewInstagramAccount(_Body):
    login: Literal["instagram"]
    username: USERNAME
    name: str | None = None
    account_type: AccountType = "BUSINESS"
    followers_count: int = Field(default=0, ge=0)
    follows_count: int = Field(default=0, ge=0)
    media_count: int = Field(default=0, ge=0)
    biography: str = ""
    website: str = ""
    token_response_style: TokenResponseStyle = "plain"
    buc_calls_per_window: int | None = Field(default=None, ge=0)
    buc_window_seconds: int | None = Field(default=None, ge=1)


class NewPageBody(_Body):
    name: str = Field(min_length=1)
    ig_username: USERNAME | None = None
    ig_name: str | None = None
    ig_followers_count: int = Field(default=1000, ge=0)
    ig_follows_count: int = Field(default=100, ge=0)
    ig_media_count: int = Field(default=0, ge=0)


class NewFacebookUser(_Body):
    login: Literal["facebook"]
    username: USERNAME
    name: str | None = None
    pages: list[NewPageBody] = Field(default_factory=list)


NEW_ACCOUNT = TypeAdapter(
    Annotated[NewInstagramAccount | NewFacebookUser, Field(discriminator="login")]
)


class Revoke(_Body):
    username: str | None = None
    access_token: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Revoke:
        if (self.username is None) == (self.access_token is None):
            raise ValueError("give exactly one of username, access_token")
        return self


class MintToken(_Body):
    username: str
    kind: Literal["ig_short", "ig_long", "fb_user_short", "fb_user_long"] = "ig_long"
    scopes: list[str] | None = None


class UsageSettings(_Body):
    app_calls_per_hour: int | None = Field(default=None, ge=0)
    account: str | None = Field(default=None, description="IG user id or username")
    buc_calls_per_window: int | None = Field(default=None, ge=0)
    buc_window_seconds: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _account_given(self) -> UsageSettings:
        per_account = self.buc_calls_per_window is not None or self.buc_window_seconds is not None
        if per_account and self.account is None:
            raise ValueError("buc_* settings need an account")
        return self
