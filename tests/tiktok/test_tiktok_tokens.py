"""Token upkeep through the worker: rotation stored before use, one refresh for racing workers,
invalid_grant → needs_reconnect, disconnect revokes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tiktok_flows import account_doc, connect

from socialsync import tokens as token_keeper
from socialsync.store import platform_accounts
from tests.conftest import Env
from worker.jobs.tokens import refresh_due


async def make_due(env: Env, account_id: str) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=5)
    await env.services.store.accounts.update_one(
        {"_id": account_id}, {"$set": {"token.expires_at": soon, "next_check_at": datetime.now(UTC)}})


async def test_due_token_is_refreshed_by_the_cron_and_the_old_refresh_token_is_dead(env: Env) -> None:
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    await env.run_worker()
    before = platform_accounts.credentials_of(await account_doc(env, out.account_id), env.services.cipher)
    await make_due(env, out.account_id)
    assert await refresh_due({"services": env.services}) == 1  # the core's keeper, the plugin's refresh
    await env.run_worker()
    doc = await account_doc(env, out.account_id)
    after = platform_accounts.credentials_of(doc, env.services.cipher)
    assert after.refresh_token != before.refresh_token and after.access_token != before.access_token
    assert doc["next_check_at"].replace(tzinfo=UTC) > datetime.now(UTC) + timedelta(minutes=90)
    old = await env.sandbox.post("/open.tiktokapis.com/v2/oauth/token/", data={
        "client_key": "sandbox-tt-client", "client_secret": "sandbox-tt-secret",
        "grant_type": "refresh_token", "refresh_token": before.refresh_token})
    assert old.json()["error"] == "invalid_grant"


async def test_two_workers_racing_refresh_the_token_once(env: Env) -> None:
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    await make_due(env, out.account_id)
    results = await asyncio.gather(*(
        token_keeper.refresh_account(env.services, out.account_id, wait_seconds=10) for _ in range(4)))
    assert sorted(results) == ["refreshed", "valid", "valid", "valid"]
    token_calls = [r for r in (await env.sandbox.get("/_sandbox/requests?limit=200")).json()["requests"]
                   if r["endpoint"] == "/open.tiktokapis.com/v2/oauth/token/"]
    assert len(token_calls) == 2  # the connect's exchange and one refresh
    assert (await account_doc(env, out.account_id))["status"] == "active"


async def test_invalid_grant_marks_needs_reconnect(env: Env) -> None:
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    await env.sandbox.post("/_sandbox/tiktok/deauthorize", json={"account": "tt_creator", "deliver": False})
    await make_due(env, out.account_id)
    assert await token_keeper.refresh_account(env.services, out.account_id) == "needs_reconnect"
    doc = await account_doc(env, out.account_id)
    assert doc["status"] == "needs_reconnect" and "reconnect" in doc["status_reason"]


async def test_disconnect_revokes_the_token_at_tiktok_and_drops_it(env: Env) -> None:
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    await env.run_worker()
    creds = platform_accounts.credentials_of(await account_doc(env, out.account_id), env.services.cipher)
    r = await env.http.delete(f"/v1/accounts/{out.account_id}", headers=env.auth(tenant))
    assert r.status_code == 200 and r.json()["status"] == "disconnected"
    await env.run_worker()
    probe = await env.sandbox.get("/open.tiktokapis.com/v2/user/info/", params={"fields": "open_id"},
                                  headers={"Authorization": f"Bearer {creds.access_token}"})
    assert probe.status_code == 401  # revoked at TikTok
    doc = await account_doc(env, out.account_id)
    assert "token" not in doc
