"""End-to-end TikTok flows through the receiver, the worker and the sandbox (real HTTP)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Env
from tests.flows import Outcome, follow_callback

RETURN_URL = "https://crm.example.com/connected"


async def connect_link(env: Env, key: str, **body: object) -> str:
    payload = {"platform": "tiktok", "return_url": RETURN_URL, **body}
    r = await env.http.post("/v1/connect", json=payload, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 201, r.text
    return r.json()["authorize_url"]


async def connect(env: Env, key: str, account: str = "tt_creator", decision: str = "allow",
                  scopes: str | None = None) -> Outcome:
    link = await connect_link(env, key)
    params = {"sandbox_account": account, "sandbox_decision": decision}
    if scopes is not None:
        params["sandbox_scopes"] = scopes
    r = await env.sandbox.get(str(httpx.URL(link).copy_merge_params(params)))
    assert r.status_code == 302, r.text
    return await follow_callback(env, r.headers["location"])


async def account_doc(env: Env, account_id: str) -> dict[str, Any]:
    doc = await env.services.store.accounts.find_one({"_id": account_id})
    assert doc is not None
    return doc


async def stats_total(env: Env) -> int:
    return (await env.sandbox.get("/_sandbox/stats")).json()["total"]
