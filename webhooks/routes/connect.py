"""POST /v1/connect: a connect link for a person to authorize an account (every platform).

The platform's connector builds the authorize URL (``plugin.connect.authorize_url``); the
browser comes back to ``/oauth/{flow}/callback`` (webhooks/routes/oauth.py).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, Field

from socialsync import connect_flows
from socialsync.oauth_state import OAuthState, issue_state, now
from socialsync.platforms.registry import UnknownPlatform
from socialsync.return_urls import is_allowed_return_url
from webhooks.auth import tenant_of
from webhooks.errors import ApiError, parse_body
from webhooks.openapi import ERRORS, json_body, request_body
from webhooks.keys import SERVICES, SETTINGS

routes = web.RouteTableDef()


class ConnectIn(BaseModel):
    platform: str = Field(description="`instagram`, `tiktok` or `youtube`.")
    login: str | None = Field(
        default=None, max_length=40,
        description="The login flow, for a platform that has several (default: its first). Instagram: "
        "`instagram` = Instagram Login (no Page needed), `facebook` = Facebook Login (account linked to "
        "a Facebook Page). Ignored by platforms with one login.",
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


def redirect_uri(public_base: str, flow: str) -> str:
    return f"{public_base}/oauth/{flow}/callback"


@routes.post("/v1/connect")
async def create_connect_link(request: web.Request) -> web.Response:
    body = await parse_body(request, ConnectIn)
    settings, services = request.app[SETTINGS], request.app[SERVICES]
    registry = services.platforms
    try:
        plugin = registry.get(body.platform)
    except UnknownPlatform:
        plugin = None
    if plugin is None or plugin.connect is None:
        names = ", ".join(p.name for p in registry if p.connect is not None)
        raise ApiError(400, "unsupported_platform", f"Platform {body.platform!r} is not supported; use {names}.")
    try:
        flow = connect_flows.choose(plugin, body.login)
    except ValueError as exc:
        raise ApiError(400, "invalid_body", f"Invalid request body: login: {exc}",
                       problems=[{"field": "login", "problem": str(exc)}]) from None
    if not is_allowed_return_url(body.return_url, settings.return_url_allowlist):
        raise ApiError(
            400, "invalid_return_url",
            "return_url must be an http(s) URL under SOCIALSYNC_RETURN_URL_ALLOWLIST.",
        )
    verifier = challenge = None
    if flow.login.pkce:
        verifier, challenge = pkce_pair()
    data = OAuthState(
        tenant_id=tenant_of(request), platform=plugin.name, login=flow.name, return_url=body.return_url,
        user_ref=body.user_ref, created_at=now(), code_verifier=verifier,
    )
    state, expires_at = await issue_state(services.redis, data, settings.oauth_state_ttl_seconds)
    url = plugin.connect.authorize_url(
        flow.connector_login, state=state, redirect_uri=redirect_uri(settings.public_base, flow.name),
        code_challenge=challenge,
    )
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
