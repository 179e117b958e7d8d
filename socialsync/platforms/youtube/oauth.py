"""Google OAuth 2.0, web-server flow (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §6).

``access_type=offline`` + ``prompt=consent`` so a refresh token comes back, ``include_granted_
scopes=true``, PKCE S256. A refresh answer normally has no refresh token: `refresh` returns
``refresh_token=None`` and the caller keeps the stored one. Only ``invalid_grant`` means the
grant is dead (`InvalidGrant`); anything else is transient.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from socialsync.platforms.youtube.client import Endpoints
from socialsync.platforms.youtube.errors import InvalidGrant, Transient, YouTubeError
from socialsync.platforms.youtube.settings import FORCE_SSL, FULL, UPLOAD

AUTHORIZE_PATH = "/o/oauth2/v2/auth"


@dataclass(frozen=True, slots=True)
class GoogleGrant:
    access_token: str
    expires_in: int
    refresh_token: str | None
    scopes: list[str]
    refresh_token_expires_in: int | None = None


def new_verifier() -> str:
    return secrets.token_urlsafe(64)[:86]


def challenge_of(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def authorize_url(endpoints: Endpoints, *, client_id: str, redirect_uri: str, scopes: list[str],
                  state: str, code_challenge: str | None) -> str:
    params = {
        "client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code",
        "scope": " ".join(scopes), "state": state, "access_type": "offline",
        "include_granted_scopes": "true", "prompt": "consent",
    }
    if code_challenge:
        params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
    return f"{endpoints.accounts}{AUTHORIZE_PATH}?{urlencode(params)}"


def capabilities(scopes: list[str]) -> dict[str, bool]:
    """What the granted scopes allow (users may untick some on the consent screen)."""
    granted = set(scopes)
    full = FULL in granted
    return {
        "moderate_comments": full or FORCE_SSL in granted,
        "publish": full or UPLOAD in granted or FORCE_SSL in granted,
    }


async def _token_call(http: httpx.AsyncClient, endpoints: Endpoints, form: dict[str, str]) -> dict[str, object]:
    try:
        response = await http.post(endpoints.oauth2 + "/token", data=form)
    except httpx.TransportError as exc:
        raise Transient(0, "transport", str(exc) or type(exc).__name__) from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 400 and isinstance(body, dict) and body.get("error") == "invalid_grant":
        raise InvalidGrant(str(body.get("error_description") or "invalid_grant"))
    if response.status_code >= 500:
        raise Transient(response.status_code, "backendError", "Google's token endpoint failed")
    if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
        error = body.get("error", "unknown") if isinstance(body, dict) else "unknown"
        raise YouTubeError(response.status_code, str(error), "token request refused")
    return body


def _grant(body: dict[str, object]) -> GoogleGrant:
    refresh = body.get("refresh_token")
    rte = body.get("refresh_token_expires_in")
    return GoogleGrant(
        access_token=str(body["access_token"]),
        expires_in=int(body.get("expires_in") or 3599),  # type: ignore[arg-type]
        refresh_token=str(refresh) if refresh else None,
        scopes=str(body.get("scope", "")).split(),
        refresh_token_expires_in=int(rte) if isinstance(rte, int | str) and str(rte).isdigit() else None,
    )


async def exchange_code(http: httpx.AsyncClient, endpoints: Endpoints, *, client_id: str,
                        client_secret: str, code: str, redirect_uri: str, code_verifier: str) -> GoogleGrant:
    return _grant(await _token_call(http, endpoints, {
        "code": code, "client_id": client_id, "client_secret": client_secret,
        "redirect_uri": redirect_uri, "grant_type": "authorization_code", "code_verifier": code_verifier,
    }))


async def refresh(http: httpx.AsyncClient, endpoints: Endpoints, *, client_id: str,
                  client_secret: str, refresh_token: str) -> GoogleGrant:
    return _grant(await _token_call(http, endpoints, {
        "refresh_token": refresh_token, "client_id": client_id, "client_secret": client_secret,
        "grant_type": "refresh_token",
    }))


async def revoke(http: httpx.AsyncClient, endpoints: Endpoints, token: str) -> bool:
    """True when Google revoked it (or it was already dead); transport errors are swallowed by
    the caller's policy: tokens are dropped locally either way."""
    response = await http.post(endpoints.oauth2 + "/revoke", params={"token": token},
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    return response.status_code in (200, 400)


def reconnect_reason(description: str, *, testing_expiry: bool) -> str:
    """The ``needs_reconnect`` reason for a dead refresh token."""
    base = f"Google refused the refresh token ({description})"
    if testing_expiry:
        return (base + ": the Google Cloud project is in 'Testing' publishing status, so refresh "
                "tokens die 7 days after consent; publish the app (README: YouTube) or reconnect weekly.")
    return base + ": the user revoked access, the token was unused for 6 months, or it was replaced; reconnect."
