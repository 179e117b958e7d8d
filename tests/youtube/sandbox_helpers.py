"""Talk to the YouTube side of the sandbox over HTTP the way Google's clients do."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx

from sandbox.youtube.state import ANALYTICS, CLIENT_ID, CLIENT_SECRET, FORCE_SSL, READONLY, UPLOAD

ALL_SCOPES = (READONLY, ANALYTICS, FORCE_SSL, UPLOAD)
REDIRECT = "https://app.example.com/oauth/youtube/callback"
AUTH = "/accounts.google.com/o/oauth2/v2/auth"
TOKEN = "/oauth2.googleapis.com/token"
V3 = "/www.googleapis.com/youtube/v3"
UPLOAD_URL = "/www.googleapis.com/upload/youtube/v3/videos"
REPORTS = "/youtubeanalytics.googleapis.com/v2/reports"


@dataclass
class Tokens:
    access_token: str
    refresh_token: str | None
    scope: str
    raw: dict[str, object]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


async def consent(client: httpx.AsyncClient, account: str, *, scopes: tuple[str, ...] = ALL_SCOPES,
                  granted: str | None = None, decision: str = "allow", challenge: str | None = None,
                  **extra: str) -> dict[str, str]:
    params = {
        "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
        "scope": " ".join(scopes), "state": "st-1", "access_type": "offline",
        "include_granted_scopes": "true", "prompt": "consent",
        "sandbox_account": account, "sandbox_decision": decision, **extra,
    }
    if challenge:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    if granted is not None:
        params["sandbox_scopes"] = granted
    r = await client.get(AUTH, params=params)
    assert r.status_code == 302, r.text
    return {k: v[0] for k, v in parse_qs(urlsplit(r.headers["location"]).query).items()}


async def exchange(client: httpx.AsyncClient, code: str, verifier: str | None = None) -> httpx.Response:
    form = {"code": code, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "redirect_uri": REDIRECT, "grant_type": "authorization_code"}
    if verifier:
        form["code_verifier"] = verifier
    return await client.post(TOKEN, data=form)


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(TOKEN, data={"refresh_token": refresh_token, "client_id": CLIENT_ID,
                                          "client_secret": CLIENT_SECRET, "grant_type": "refresh_token"})


async def login(client: httpx.AsyncClient, account: str = "yt_creator",
                scopes: tuple[str, ...] = ALL_SCOPES, granted: str | None = None) -> Tokens:
    verifier, challenge = pkce()
    query = await consent(client, account, scopes=scopes, granted=granted, challenge=challenge)
    r = await exchange(client, query["code"], verifier)
    assert r.status_code == 200, r.text
    body = r.json()
    return Tokens(body["access_token"], body.get("refresh_token"), body["scope"], body)


async def units_used(client: httpx.AsyncClient) -> int:
    return (await client.get("/_sandbox/youtube/quota")).json()["units_used"]
