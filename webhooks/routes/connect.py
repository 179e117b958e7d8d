"""POST /v1/connect: a connect link for a person to authorize an account."""

from __future__ import annotations

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
    platform: str = Field(description="`instagram` or `tiktok`.")
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


def redirect_uri(public_base: str, login: str) -> str:
    return f"{public_base}/oauth/{login}/callback"


@routes.post("/v1/connect")
async def create_connect_link(request: web.Request) -> web.Response:
    body = await parse_body(request, ConnectIn)
    settings = request.app[SETTINGS]
    if body.platform != "instagram" and not is_interface_platform(body.platform):
        raise ApiError(
            400, "unsupported_platform", f"Platform {body.platform!r} is not supported; use instagram or tiktok."
        )
    login = body.login if body.platform == "instagram" else body.platform
    if not is_allowed_return_url(body.return_url, settings.return_url_allowlist):
        raise ApiError(
            400, "invalid_return_url",
            "return_url must be an http(s) URL under SOCIALSYNC_RETURN_URL_ALLOWLIST.",
        )
    data = OAuthState(
        tenant_id=tenant_of(request), login=login, return_url=body.return_url,
        user_ref=body.user_ref, created_at=now(),
    )
    state, expires_at = await issue_state(
        request.app[SERVICES].redis, data, settings.oauth_state_ttl_seconds
    )
    uri = redirect_uri(settings.public_base, login)
    if body.platform != "instagram":
        connector = plugin_for(request.app[SERVICES], body.platform).connect
        assert connector is not None
        url = connector.authorize_url(login, state=state, redirect_uri=uri)
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
