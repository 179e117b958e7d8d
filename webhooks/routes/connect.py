"""POST /v1/connect: a connect link for a person to authorize an account."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from socialsync.oauth_state import OAuthState, issue_state, now
from socialsync.platforms.instagram.oauth import facebook_dialog_url, instagram_authorize_url
from socialsync.plugins import is_interface_platform, plugin_for
from socialsync.return_urls import is_allowed_return_url
from webhooks.auth import tenant_of
from webhooks.errors import ApiError, parse_body
from webhooks.openapi import ERRORS, json_body, request_body
from webhooks.keys import SERVICES, SETTINGS

routes = web.RouteTableDef()


class ConnectIn(BaseModel):
    platform: str = Field(description="`instagram`, `tiktok` or `youtube`.")
    login: Literal["instagram", "facebook"] = Field(
        default="instagram",
        description="`instagram`: Instagram Login (no Page needed). `facebook`: Facebook Login "
        "(account linked to a Facebook Page).",
    )
    return_url: str = Field(description="Where the browser returns; must be on the allow-list.")
    user_ref: str | None = Field(default=None, max_length=200, description="The CRM's user id.")


class ConnectOut(BaseModel):
    authorize_url: str
    expires_at: datetime


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier (86 URL-safe characters, RFC 7636 allows 43-128) and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)[:86]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def redirect_uri(public_base: str, login: str) -> str:
    return f"{public_base}/oauth/{login}/callback"


@routes.post("/v1/connect")
async def create_connect_link(request: web.Request) -> web.Response:
    body = await parse_body(request, ConnectIn)
    settings = request.app[SETTINGS]
    if body.platform != "instagram" and not is_interface_platform(body.platform):
        raise ApiError(
            400, "unsupported_platform",
            f"Platform {body.platform!r} is not supported; use instagram, tiktok or youtube."
        )
    login = body.login if body.platform == "instagram" else body.platform
    if not is_allowed_return_url(body.return_url, settings.return_url_allowlist):
        raise ApiError(
            400, "invalid_return_url",
            "return_url must be an http(s) URL under SOCIALSYNC_RETURN_URL_ALLOWLIST.",
        )
    plugin = plugin_for(request.app[SERVICES], body.platform) if body.platform != "instagram" else None
    verifier = challenge = None
    if plugin is not None and any(spec.pkce for spec in plugin.spec.logins):
        verifier, challenge = pkce_pair()
    data = OAuthState(
        tenant_id=tenant_of(request), login=login, return_url=body.return_url,
        user_ref=body.user_ref, created_at=now(), code_verifier=verifier,
    )
    state, expires_at = await issue_state(
        request.app[SERVICES].redis, data, settings.oauth_state_ttl_seconds
    )
    uri = redirect_uri(settings.public_base, login)
    if plugin is not None:
        connector = plugin.connect
        assert connector is not None
        url = connector.authorize_url(login, state=state, redirect_uri=uri, code_challenge=challenge)
    else:
        build = instagram_authorize_url if body.login == "instagram" else facebook_dialog_url
        url = build(settings, state=state, redirect_uri=uri)
    return web.json_response(
        ConnectOut(authorize_url=url, expires_at=expires_at).model_dump(mode="json"), status=201
    )


OPENAPI_MODELS = (ConnectIn, ConnectOut)
OPENAPI_PATHS = {
    "/v1/connect": {
        "post": {
            "summary": "Create a connect link (OAuth authorize URL, valid 10 minutes, single use)",
            "requestBody": request_body(ConnectIn),
            "responses": {"201": json_body(ConnectOut, "The link"), **ERRORS},
        }
    }
}
