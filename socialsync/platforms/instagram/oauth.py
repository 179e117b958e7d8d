"""The OAuth calls of both Instagram login flows (PLATFORM_FACTS.md §1), as plain functions.

Instagram Login: www.instagram.com authorize → api.instagram.com code exchange (short-lived, 1 h)
→ graph.instagram.com ig_exchange_token (long-lived, 60 days) → ig_refresh_token.
Facebook Login: www.facebook.com dialog → graph.facebook.com code exchange → fb_exchange_token
(long-lived user token) → /me/accounts page tokens (no expiry).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, Field, field_validator

from socialsync.config import Settings
from socialsync.platforms.instagram.client import GraphClient

PROFILE_FIELDS_IG_LOGIN = (
    "user_id,username,name,account_type,profile_picture_url,followers_count,follows_count,media_count"
)
PROFILE_FIELDS_FB_LOGIN = (
    "id,username,name,biography,website,profile_picture_url,followers_count,follows_count,media_count"
)
PAGE_FIELDS = "id,name,access_token,tasks,instagram_business_account"


def _as_str_id(value: Any) -> Any:
    # Some token responses carry user_id as a JSON number: every id is a string here.
    return str(value) if isinstance(value, int) else value


class CodeGrant(BaseModel):
    """api.instagram.com's answer to the code exchange (short-lived token)."""

    access_token: str = Field(repr=False)
    user_id: str
    permissions: list[str] = Field(default_factory=list)

    _id = field_validator("user_id", mode="before")(_as_str_id)

    @field_validator("permissions", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [p.strip() for p in value.split(",") if p.strip()]
        return value or []


class LongLivedToken(BaseModel):
    access_token: str = Field(repr=False)
    token_type: str | None = None
    expires_in: int | None = None


class InstagramProfile(BaseModel):
    """The professional account, from /me (IG login) or /{ig-user-id} (FB login)."""

    id: str
    user_id: str | None = None
    username: str
    name: str | None = None
    account_type: str | None = None
    biography: str | None = None
    website: str | None = None
    profile_picture_url: str | None = None
    followers_count: int | None = None
    follows_count: int | None = None
    media_count: int | None = None

    _ids = field_validator("id", "user_id", mode="before")(_as_str_id)

    @property
    def ig_user_id(self) -> str:
        """The IG professional account id (IG login returns it as `user_id`)."""
        return self.user_id or self.id

    def figures(self) -> dict[str, Any]:
        return self.model_dump(
            include={"followers_count", "follows_count", "media_count", "biography", "website"},
            exclude_none=True,
        )


class FacebookPage(BaseModel):
    id: str
    name: str | None = None
    access_token: str = Field(repr=False)
    tasks: list[str] = Field(default_factory=list)
    instagram_business_account: dict[str, Any] | None = None

    @property
    def ig_user_id(self) -> str | None:
        account = self.instagram_business_account or {}
        return str(account["id"]) if account.get("id") is not None else None


# --- URLs ------------------------------------------------------------------------------------

def instagram_authorize_url(settings: Settings, *, state: str, redirect_uri: str) -> str:
    query = urlencode(
        {
            "client_id": settings.ig_client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": ",".join(settings.instagram_scopes),
            "state": state,
        }
    )
    return f"{settings.ig_www}/oauth/authorize?{query}"


def facebook_dialog_url(settings: Settings, *, state: str, redirect_uri: str) -> str:
    query = urlencode(
        {
            "client_id": settings.fb_client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": ",".join(settings.facebook_scopes),
            "state": state,
        }
    )
    return f"{settings.fb_www}/{settings.graph_version}/dialog/oauth?{query}"


# --- Instagram Login ---------------------------------------------------------------------------

async def exchange_instagram_code(
    graph: GraphClient, settings: Settings, *, code: str, redirect_uri: str
) -> CodeGrant:
    body = await graph.post_form(
        f"{settings.ig_api}/oauth/access_token",
        {
            "client_id": settings.ig_client_id,
            "client_secret": settings.ig_client_secret,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            "code": code,
        },
    )
    if isinstance(body, dict) and isinstance(body.get("data"), list) and body["data"]:
        body = body["data"][0]  # some answers wrap the grant in data: [...]
    return CodeGrant.model_validate(body)


async def instagram_long_lived(graph: GraphClient, settings: Settings, short_token: str) -> LongLivedToken:
    body = await graph.get(
        f"{settings.ig_graph}/access_token",
        token=short_token,
        grant_type="ig_exchange_token",
        client_secret=settings.ig_client_secret,
    )
    return LongLivedToken.model_validate(body)


async def refresh_instagram_token(
    graph: GraphClient, settings: Settings, token: str, *, account_id: str | None = None
) -> LongLivedToken:
    body = await graph.get(
        f"{settings.ig_graph}/refresh_access_token", token=token, grant_type="ig_refresh_token",
        account_id=account_id,
    )
    return LongLivedToken.model_validate(body)


async def instagram_login_profile(graph: GraphClient, settings: Settings, token: str) -> InstagramProfile:
    body = await graph.get(
        f"{settings.ig_graph}/{settings.graph_version}/me", token=token, fields=PROFILE_FIELDS_IG_LOGIN
    )
    return InstagramProfile.model_validate(body)


# --- Facebook Login ----------------------------------------------------------------------------

async def exchange_facebook_code(
    graph: GraphClient, settings: Settings, *, code: str, redirect_uri: str
) -> LongLivedToken:
    body = await graph.get(
        f"{settings.fb_graph}/{settings.graph_version}/oauth/access_token",
        client_id=settings.fb_client_id,
        client_secret=settings.fb_client_secret,
        redirect_uri=redirect_uri,
        code=code,
    )
    return LongLivedToken.model_validate(body)


async def facebook_long_lived(graph: GraphClient, settings: Settings, short_token: str) -> LongLivedToken:
    body = await graph.get(
        f"{settings.fb_graph}/{settings.graph_version}/oauth/access_token",
        grant_type="fb_exchange_token",
        client_id=settings.fb_client_id,
        client_secret=settings.fb_client_secret,
        fb_exchange_token=short_token,
    )
    return LongLivedToken.model_validate(body)


async def facebook_granted_scopes(graph: GraphClient, settings: Settings, user_token: str) -> list[str]:
    body = await graph.get(f"{settings.fb_graph}/{settings.graph_version}/me/permissions", token=user_token)
    return [p["permission"] for p in body.get("data", []) if p.get("status") == "granted"]


async def facebook_pages(
    graph: GraphClient, settings: Settings, user_token: str, *, max_pages: int = 10
) -> list[FacebookPage]:
    """Every page the user administers (following paging, bounded, cursor-loop guarded)."""
    pages: list[FacebookPage] = []
    params: dict[str, Any] = {"fields": PAGE_FIELDS, "limit": 100}
    seen_cursors: set[str] = set()
    for _ in range(max_pages):
        body = await graph.get(
            f"{settings.fb_graph}/{settings.graph_version}/me/accounts", token=user_token, **params
        )
        pages.extend(FacebookPage.model_validate(p) for p in body.get("data", []))
        paging = body.get("paging") or {}
        after = (paging.get("cursors") or {}).get("after")
        if not paging.get("next") or not after or after in seen_cursors:
            break
        seen_cursors.add(after)
        params["after"] = after
    return pages


async def facebook_ig_profile(
    graph: GraphClient, settings: Settings, ig_user_id: str, page_token: str
) -> InstagramProfile:
    body = await graph.get(
        f"{settings.fb_graph}/{settings.graph_version}/{ig_user_id}",
        token=page_token,
        fields=PROFILE_FIELDS_FB_LOGIN,
    )
    return InstagramProfile.model_validate(body)


async def check_page_token(
    graph: GraphClient, settings: Settings, page_token: str, *, account_id: str | None = None
) -> None:
    """A cheap call that fails with 190 when the page token died."""
    await graph.get(
        f"{settings.fb_graph}/{settings.graph_version}/me", token=page_token, fields="id",
        account_id=account_id,
    )
