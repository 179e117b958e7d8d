"""The client side of the sandbox flows for tests: credentials, a driver, a server starter.

Named uniquely (not imported from ``conftest``) so it cannot clash with other test packages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from aiohttp import web

from sandbox import SandboxConfig, build_sandbox_app

IG_APP = "sandbox-ig-app"
IG_SECRET = "sandbox-ig-secret"
META_APP = "sandbox-meta-app"
META_SECRET = "sandbox-meta-secret"
REDIRECT = "http://127.0.0.1:8080/oauth/callback"
IG_SCOPES = (
    "instagram_business_basic,instagram_business_content_publish,instagram_business_manage_insights"
)
FB_SCOPES = "instagram_basic,instagram_manage_insights,pages_show_list,pages_read_engagement"


@asynccontextmanager
async def running_sandbox(config: SandboxConfig | None = None) -> AsyncIterator[str]:
    """Serve a fresh sandbox on 127.0.0.1:<free port>; yields its base URL."""
    runner = web.AppRunner(build_sandbox_app(config), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@dataclass
class Driver:
    """The client side of the flows, written out once so tests read as behaviour."""

    http: httpx.AsyncClient

    # --- Instagram Login -----------------------------------------------------------------
    async def ig_authorize(
        self,
        account: str = "sandbox_creator",
        *,
        decision: str = "allow",
        scope: str = IG_SCOPES,
        granted: str | None = None,
        state: str = "st-1",
        redirect_uri: str = REDIRECT,
    ) -> httpx.Response:
        params = {
            "client_id": IG_APP,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": scope,
            "state": state,
            "sandbox_account": account,
            "sandbox_decision": decision,
        }
        if granted is not None:
            params["sandbox_scopes"] = granted
        return await self.http.get("/www.instagram.com/oauth/authorize", params=params)

    async def ig_code(self, account: str = "sandbox_creator", **kwargs: Any) -> str:
        response = await self.ig_authorize(account, **kwargs)
        assert response.status_code == 302, response.text
        return redirect_params(response)["code"]

    async def ig_exchange(
        self, code: str, *, secret: str = IG_SECRET, redirect_uri: str = REDIRECT
    ) -> httpx.Response:
        return await self.http.post(
            "/api.instagram.com/oauth/access_token",
            data={
                "client_id": IG_APP,
                "client_secret": secret,
                "grant_type": "authorization_code",
                "redirect_uri": redirect_uri,
                "code": code,
            },
        )

    async def ig_short_token(self, account: str = "sandbox_creator", **kwargs: Any) -> str:
        response = await self.ig_exchange(await self.ig_code(account, **kwargs))
        assert response.status_code == 200, response.text
        body = response.json()
        return (body["data"][0] if "data" in body else body)["access_token"]

    async def ig_long_exchange(self, short: str, *, secret: str = IG_SECRET) -> httpx.Response:
        return await self.http.get(
            "/graph.instagram.com/access_token",
            params={
                "grant_type": "ig_exchange_token",
                "client_secret": secret,
                "access_token": short,
            },
        )

    async def ig_long_token(self, account: str = "sandbox_creator") -> str:
        response = await self.ig_long_exchange(await self.ig_short_token(account))
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    async def ig_refresh(self, token: str) -> httpx.Response:
        return await self.http.get(
            "/graph.instagram.com/refresh_access_token",
            params={"grant_type": "ig_refresh_token", "access_token": token},
        )

    async def ig_me(self, token: str, fields: str = "user_id,username") -> httpx.Response:
        return await self.http.get(
            "/graph.instagram.com/v24.0/me", params={"fields": fields, "access_token": token}
        )

    # --- Facebook Login ------------------------------------------------------------------
    async def fb_dialog(
        self,
        account: str = "fb_multi",
        *,
        decision: str = "allow",
        scope: str = FB_SCOPES,
        granted: str | None = None,
        state: str = "st-2",
    ) -> httpx.Response:
        params = {
            "client_id": META_APP,
            "redirect_uri": REDIRECT,
            "state": state,
            "scope": scope,
            "sandbox_account": account,
            "sandbox_decision": decision,
        }
        if granted is not None:
            params["sandbox_scopes"] = granted
        return await self.http.get("/www.facebook.com/v24.0/dialog/oauth", params=params)

    async def fb_code(self, account: str = "fb_multi", **kwargs: Any) -> str:
        response = await self.fb_dialog(account, **kwargs)
        assert response.status_code == 302, response.text
        return redirect_params(response)["code"]

    async def fb_exchange(
        self, code: str, *, secret: str = META_SECRET, redirect_uri: str = REDIRECT
    ) -> httpx.Response:
        return await self.http.get(
            "/graph.facebook.com/v24.0/oauth/access_token",
            params={
                "client_id": META_APP,
                "redirect_uri": redirect_uri,
                "client_secret": secret,
                "code": code,
            },
        )

    async def fb_user_token(self, account: str = "fb_multi", **kwargs: Any) -> str:
        response = await self.fb_exchange(await self.fb_code(account, **kwargs))
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    async def fb_long_exchange(self, short: str) -> httpx.Response:
        return await self.http.get(
            "/graph.facebook.com/v24.0/oauth/access_token",
            params={
                "grant_type": "fb_exchange_token",
                "client_id": META_APP,
                "client_secret": META_SECRET,
                "fb_exchange_token": short,
            },
        )

    async def fb_long_user_token(self, account: str = "fb_multi", **kwargs: Any) -> str:
        response = await self.fb_long_exchange(await self.fb_user_token(account, **kwargs))
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    async def fb_pages(self, user_token: str) -> list[dict[str, Any]]:
        response = await self.http.get(
            "/graph.facebook.com/v24.0/me/accounts",
            params={
                "fields": "id,name,access_token,tasks,instagram_business_account",
                "access_token": user_token,
            },
        )
        assert response.status_code == 200, response.text
        return response.json()["data"]

    async def fb_get(self, path: str, token: str, **params: str) -> httpx.Response:
        return await self.http.get(
            f"/graph.facebook.com/v24.0/{path.lstrip('/')}",
            params={**params, "access_token": token},
        )

    # --- control -------------------------------------------------------------------------
    async def advance(self, seconds: float) -> None:
        response = await self.http.post("/_sandbox/clock", json={"advance_seconds": seconds})
        assert response.status_code == 200, response.text

    async def fault(self, **spec: Any) -> str:
        response = await self.http.post("/_sandbox/faults", json=spec)
        assert response.status_code == 201, response.text
        return response.json()["id"]


def redirect_params(response: httpx.Response) -> dict[str, str]:
    """Query of a 302 Location (the fragment Meta appends is dropped)."""
    location = httpx.URL(response.headers["location"])
    return dict(location.params)


def graph_error(response: httpx.Response) -> dict[str, Any]:
    """The ``error`` object of a Graph error answer (asserting the shape)."""
    assert response.status_code >= 400, response.text
    error = response.json()["error"]
    assert error["type"]
    assert error["fbtrace_id"]
    return error
