"""TikTok's answer shapes, and the checks every v2 call shares (token, scope, rate window).

- v2 API: ``{"data": {...}, "error": {"code", "message", "log_id"}}``; ``code == "ok"`` on success
  (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §2.1), HTTP status by code.
- OAuth endpoints: flat ``{"error", "error_description", "log_id"}`` (§1.4).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from sandbox.context import note_account, sandbox_of
from sandbox.tiktok.world import AccessToken, TikTokWorld, world_of

STATUS_OF = {
    "access_token_invalid": 401,
    "scope_not_authorized": 401,
    "scope_permission_missed": 401,
    "rate_limit_exceeded": 429,
    "invalid_params": 400,
    "invalid_file_upload": 400,
    "internal_error": 500,
}


def log_id() -> str:
    return time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(10).upper()


class TikTokApiError(Exception):
    """A v2 API error: rendered as the envelope with an empty ``data``."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status if status is not None else STATUS_OF.get(code, 400)

    def response(self) -> web.Response:
        body = {"data": {}, "error": {"code": self.code, "message": self.message, "log_id": log_id()}}
        return web.json_response(body, status=self.status)


class OAuthError(Exception):
    """An error of /v2/oauth/token/ or /v2/oauth/revoke/ (flat shape)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> web.Response:
        body = {"error": self.error, "error_description": self.description, "log_id": log_id()}
        return web.json_response(body, status=self.status)


def ok(data: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(
        {"data": data, "error": {"code": "ok", "message": "", "log_id": log_id()}}, status=status
    )


@web.middleware
async def tiktok_errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except (TikTokApiError, OAuthError) as exc:
        return exc.response()


def world(request: web.Request) -> TikTokWorld:
    return world_of(sandbox_of(request))


def authenticate(request: web.Request, *, scope: str | None = None) -> AccessToken:
    """The bearer token of the call; 401 ``access_token_invalid`` / ``scope_not_authorized``."""
    w = world(request)
    header = request.headers.get("Authorization", "")
    value = header[7:].strip() if header.lower().startswith("bearer ") else ""
    token = w.access_tokens.get(value)
    if token is None or token.revoked or token.grant.revoked or token.expires_at <= w.clock.now():
        raise TikTokApiError(
            "access_token_invalid",
            "The access token is invalid or not found in the request.",
        )
    note_account(request, token.grant.open_id)
    if scope is not None and scope not in token.grant.scopes:
        raise TikTokApiError(
            "scope_not_authorized", f"The user did not authorize the scope required: {scope}"
        )
    return token


def charge_endpoint(request: web.Request, endpoint: str) -> None:
    """The Display API's per-endpoint, per-app sliding minute (600/min by default)."""
    w = world(request)
    if not w.window(f"app:{endpoint}").try_take(w.clock.now(), w.limits.per_endpoint_per_minute):
        raise TikTokApiError("rate_limit_exceeded", "API rate limit exceeded, please retry later.")


def charge_token(request: web.Request, endpoint: str, token: AccessToken, limit: int) -> None:
    """A posting limit per user access token (init 6/min, creator_info 20/min, status 30/min)."""
    w = world(request)
    if not w.window(f"token:{token.value}:{endpoint}").try_take(w.clock.now(), limit):
        raise TikTokApiError("rate_limit_exceeded", "API rate limit exceeded, please retry later.")


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except Exception:  # noqa: BLE001 - any undecodable body is the same client error
        raise TikTokApiError("invalid_params", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise TikTokApiError("invalid_params", "The request body must be a JSON object.")
    return body
