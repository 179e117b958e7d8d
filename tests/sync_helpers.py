"""Helpers for the sync tests: seed the sandbox, connect, run the worker, read what was stored."""

from __future__ import annotations

from typing import Any

from tests.conftest import Env
from tests.flows import connect

CREATOR_IG = "17841400000000101"
SINGLE_BRAND_IG = "17841400000000111"


async def seed_media(env: Env, account: str = "sandbox_creator", **mix: Any) -> list[str]:
    r = await env.sandbox.post("/_sandbox/media/seed", json={"account": account, **mix})
    assert r.status_code == 201, r.text
    return r.json()["media"]


async def sandbox_media(env: Env, account: str = "sandbox_creator") -> list[dict[str, Any]]:
    r = await env.sandbox.get("/_sandbox/media", params={"account": account})
    return r.json()["media"]


async def read_settings(env: Env, **values: Any) -> None:
    r = await env.sandbox.post("/_sandbox/media/settings", json=values)
    assert r.status_code == 200, r.text


async def connected(env: Env, username: str = "sandbox_creator", login: str = "instagram") -> tuple[Any, str]:
    """A tenant with this account connected (its first full sync is queued, not run)."""
    tenant = await env.tenant()
    outcome = await connect(env, tenant.api_key, username, login=login)
    return tenant, outcome.account_id


async def requests_log(env: Env, limit: int = 2000) -> list[dict[str, Any]]:
    return (await env.sandbox.get("/_sandbox/requests", params={"limit": limit})).json()["requests"]


async def graph_calls(env: Env) -> list[dict[str, Any]]:
    return [r for r in await requests_log(env) if "graph." in r["path"] and "oauth" not in r["path"]]


async def runs(env: Env, account_id: str) -> list[dict[str, Any]]:
    return [d async for d in env.services.store["sync_runs"].find({"account_id": account_id}).sort("_id", 1)]


async def stored_media(env: Env, account_id: str) -> dict[str, dict[str, Any]]:
    return {d["external_id"]: d async for d in env.services.store["media"].find({"account_id": account_id})}
