"""End-to-end YouTube flows through the receiver, the worker and the sandbox (real HTTP)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.conftest import Env
from tests.flows import Outcome, follow_callback

RETURN_URL = "https://crm.example.com/connected"


async def connect_link(env: Env, key: str, **body: object) -> str:
    payload = {"platform": "youtube", "return_url": RETURN_URL, **body}
    r = await env.http.post("/v1/connect", json=payload, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 201, r.text
    return r.json()["authorize_url"]


async def consent(env: Env, link: str, account: str = "yt_creator", decision: str = "allow",
                  scopes: str | None = None) -> str:
    """Google's consent page (the sandbox's), automated: the callback URL it redirects to."""
    params = {"sandbox_account": account, "sandbox_decision": decision}
    if scopes is not None:
        params["sandbox_scopes"] = scopes
    r = await env.sandbox.get(str(httpx.URL(link).copy_merge_params(params)))
    assert r.status_code == 302, r.text
    return r.headers["location"]


async def connect(env: Env, key: str, account: str = "yt_creator", decision: str = "allow",
                  scopes: str | None = None) -> Outcome:
    link = await connect_link(env, key)
    return await follow_callback(env, await consent(env, link, account, decision, scopes))


async def account_doc(env: Env, account_id: str) -> dict[str, Any]:
    doc = await env.services.store.accounts.find_one({"_id": account_id})
    assert doc is not None
    return doc


async def units_used(env: Env) -> int:
    """Data API units the sandbox (Google) counted today for the project."""
    return int((await env.sandbox.get("/_sandbox/youtube/quota")).json()["units_used"])


async def youtube_requests(env: Env) -> int:
    """Requests the sandbox saw on the YouTube hosts."""
    log = (await env.sandbox.get("/_sandbox/requests", params={"limit": 5000})).json()["requests"]
    return sum(1 for r in log if "googleapis.com" in r.get("path", "") or "google.com" in r.get("path", ""))


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out waiting")


async def get(env: Env, tenant_key: str, path: str) -> Any:
    r = await env.http.get(path, headers={"Authorization": f"Bearer {tenant_key}"})
    assert r.status_code == 200, r.text
    return r.json()
