"""A post whose access token TikTok refuses (access_token_invalid): the core refreshes it once
and the step runs again; a refresh TikTok refuses too → the post fails needs_reconnect and the
account needs reconnecting."""

from __future__ import annotations

from test_tiktok_publish import MB, post, publishes, quick_tiktok, ready_account, video  # noqa: F401 - fixture
from tiktok_flows import account_doc

from socialsync.store import platform_accounts
from tests.conftest import Env


async def token_calls(env: Env) -> int:
    log = (await env.sandbox.get("/_sandbox/requests?limit=500")).json()["requests"]
    return sum(1 for r in log if r["endpoint"] == "/open.tiktokapis.com/v2/oauth/token/")


async def test_a_token_dead_at_tiktok_is_refreshed_once_and_the_post_goes_out(env: Env) -> None:
    tenant, account_id = await ready_account(env)
    before = platform_accounts.credentials_of(await account_doc(env, account_id), env.services.cipher)
    calls = await token_calls(env)
    # Three hours pass at TikTok: the stored token still looks valid to us, TikTok refuses it.
    await env.sandbox.post("/_sandbox/clock", json={"advance_seconds": 3 * 3600})
    r = await post(env, tenant, account_id, video(env, 6 * MB))
    await env.run_worker()

    got = (await env.http.get(f"/v1/posts/{r.json()['id']}", headers=env.auth(tenant))).json()
    assert got["state"] == "published", got
    assert await token_calls(env) == calls + 1  # one refresh, then the step ran again
    after = platform_accounts.credentials_of(await account_doc(env, account_id), env.services.cipher)
    assert after.access_token != before.access_token and after.refresh_token != before.refresh_token
    assert len(await publishes(env)) == 1


async def test_a_revoked_grant_fails_the_post_needs_reconnect(env: Env) -> None:
    tenant, account_id = await ready_account(env)
    r = await post(env, tenant, account_id, video(env, MB))
    await env.sandbox.post("/_sandbox/tiktok/deauthorize", json={"account": "tt_creator", "deliver": False})
    await env.run_worker()

    got = (await env.http.get(f"/v1/posts/{r.json()['id']}", headers=env.auth(tenant))).json()
    assert got["state"] == "failed" and got["error"]["code"] == "needs_reconnect", got
    assert got["error"]["caller_can_fix"] is True
    assert (await account_doc(env, account_id))["status"] == "needs_reconnect"
    kinds = [e["type"] async for e in env.services.store["crm_events"].find({})]
    assert kinds.count("post.failed") == 1 and "account.needs_reconnect" in kinds
    assert await publishes(env) == []
