"""The client side of the TikTok sandbox for tests: the dialog, the token calls, the API.

Named uniquely (not ``conftest``) so it cannot clash with other test packages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

CLIENT_KEY = "sandbox-tt-client"
CLIENT_SECRET = "sandbox-tt-secret"
REDIRECT = "http://127.0.0.1:8080/oauth/tiktok/callback"
ALL_SCOPES = "user.info.basic,user.info.profile,user.info.stats,video.list,video.publish"
WWW = "/www.tiktok.com"
API = "/open.tiktokapis.com"
MB = 1024 * 1024
CREATOR_OPEN_ID = "afd97af1-b87b-48b9-ac98-410a9c0d5301"


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class TikTok:
    """Drives the sandbox's TikTok hosts the way socialsync (or a person) would."""

    http: httpx.AsyncClient

    async def authorize(
        self, account: str = "tt_creator", *, decision: str = "allow", scope: str = ALL_SCOPES,
        granted: str | None = None, state: str = "st-1", client_key: str = CLIENT_KEY,
    ) -> httpx.Response:
        params = {
            "client_key": client_key, "scope": scope, "redirect_uri": REDIRECT,
            "response_type": "code", "state": state, "sandbox_account": account,
            "sandbox_decision": decision,
        }
        if granted is not None:
            params["sandbox_scopes"] = granted
        return await self.http.get(f"{WWW}/v2/auth/authorize/", params=params)

    async def code(self, account: str = "tt_creator", **kwargs: Any) -> str:
        r = await self.authorize(account, **kwargs)
        assert r.status_code == 302, r.text
        return query_of(r.headers["location"])["code"]

    async def token(self, **form: str) -> httpx.Response:
        data = {"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET, **form}
        return await self.http.post(f"{API}/v2/oauth/token/", data=data)

    async def exchange(self, code: str) -> httpx.Response:
        return await self.token(code=code, grant_type="authorization_code", redirect_uri=REDIRECT)

    async def refresh(self, refresh_token: str) -> httpx.Response:
        return await self.token(grant_type="refresh_token", refresh_token=refresh_token)

    async def tokens(self, account: str = "tt_creator", scopes: list[str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"account": account}
        if scopes is not None:
            body["scopes"] = scopes
        r = await self.http.post("/_sandbox/tiktok/tokens", json=body)
        assert r.status_code == 201, r.text
        return r.json()

    async def api(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if method == "POST":
            headers["Content-Type"] = "application/json; charset=UTF-8"
            kwargs.setdefault("json", {})
        return await self.http.request(method, f"{API}{path}", headers=headers, **kwargs)

    async def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        if body is None:
            r = await self.http.get(f"/_sandbox/tiktok/{path}")
        else:
            r = await self.http.post(f"/_sandbox/tiktok/{path}", json=body)
        assert r.status_code in (200, 201), r.text
        return r.json()

    async def advance(self, seconds: float) -> None:
        r = await self.http.post("/_sandbox/clock", json={"advance_seconds": seconds})
        assert r.status_code == 200, r.text

    async def publishes(self, account: str | None = None) -> list[dict[str, Any]]:
        path = "publishes" + (f"?account={account}" if account else "")
        return (await self.control(path))["publishes"]


def error_code(response: httpx.Response) -> str:
    return response.json()["error"]["code"]
