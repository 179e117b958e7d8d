"""What every YouTube handler shares: the state, the caller's grant, quota charging, faults."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.typedefs import Handler

from sandbox.context import SANDBOX_KEY, Sandbox, note_account
from sandbox.youtube.errors import (
    GoogleError,
    bad_request,
    insufficient_scope,
    quota_exceeded,
    unauthorized,
)
from sandbox.youtube.model import GoogleAccount, Grant
from sandbox.youtube.state import YOUTUBE, YouTubeState

PLATFORM = "youtube"


def sandbox_of(request: web.Request) -> Sandbox:
    return request.config_dict[SANDBOX_KEY]


def yt_of(request: web.Request) -> YouTubeState:
    return sandbox_of(request).platforms[PLATFORM]


def rfc3339(ts: float, *, fractional: bool = False) -> str:
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (".000Z" if fractional else "Z")


def bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip()
    return request.query.get("access_token")


def authorize(request: web.Request, *scopes: str) -> tuple[Grant, GoogleAccount]:
    """The caller's live access token and its Google account; 401 / 403 like Google."""
    yt = yt_of(request)
    grant = yt.grants.get(bearer(request) or "")
    if grant is None or grant.kind != "access" or not grant.alive(yt.clock.now()):
        raise unauthorized()
    account = yt.find_account(grant.username)
    if account is None:
        raise unauthorized()
    note_account(request, account.channel_id or account.google_id)
    if scopes and YOUTUBE not in grant.scopes and not set(scopes) & set(grant.scopes):
        raise insufficient_scope()
    return grant, account


def charge(request: web.Request, grant: Grant, method: str, name: str) -> None:
    """Charge the call to the project before doing anything (invalid calls cost too)."""
    yt = yt_of(request)
    if not yt.quota.charge(grant.client_id, yt.clock.now(), method, name):
        raise quota_exceeded()


def channel_of(account: GoogleAccount) -> str:
    if account.channel_id is None:
        raise GoogleError(401, "youtubeSignupRequired",
                          "Unauthorized: the authenticated user has no YouTube channel.")
    return account.channel_id


def require(request: web.Request, name: str) -> str:
    value = request.query.get(name)
    if not value:
        raise bad_request("required", f"Required parameter: {name}")
    return value


def int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request("invalidParameter", f"Invalid value for {name}") from None
    if not low <= value <= high:
        raise bad_request("invalidParameter", f"Invalid value '{raw}'. Values must be within the range: [{low}, {high}]")
    return value


def page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"off:{offset}".encode()).decode().rstrip("=")


def page_offset(request: web.Request) -> int:
    raw = request.query.get("pageToken")
    if not raw:
        return 0
    try:
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        prefix, _, number = decoded.partition(":")
        if prefix != "off":
            raise ValueError(raw)
        return int(number)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("invalidPageToken", "The request specifies an invalid page token.") from None


@web.middleware
async def api_faults_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Google-shaped injected errors (``POST /_sandbox/youtube/faults``)."""
    fault = yt_of(request).take_fault(request.method, request.path)
    if fault is None:
        return await handler(request)
    response = GoogleError(fault.status, fault.reason, f"Sandbox injected {fault.reason}").response()
    response.headers["X-Sandbox-Fault"] = fault.id
    if fault.retry_after is not None:
        response.headers["Retry-After"] = str(fault.retry_after)
    return response
