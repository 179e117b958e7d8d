"""Connect a TikTok account from the CRM: POST /v1/connect → TikTok's dialog → our callback."""

from __future__ import annotations

import httpx
from tiktok_flows import RETURN_URL, account_doc, connect, connect_link

from tests.conftest import Env
from tests.flows import follow_callback


async def test_allow_connects_with_open_id_exactly_and_encrypted_tokens(env: Env) -> None:
    tenant = await env.tenant()
    link = await connect_link(env, tenant.api_key)
    assert "client_key=sandbox-tt-client" in link and "scope=user.info.basic,user.info.profile" in link
    out = await connect(env, tenant.api_key)
    assert out.location.startswith(RETURN_URL) and out.query["status"] == "connected"
    doc = await account_doc(env, out.account_id)
    assert doc["platform"] == "tiktok" and doc["external_id"] == "afd97af1-b87b-48b9-ac98-410a9c0d5301"
    assert doc["username"] == "tt_creator" and doc["profile"]["followers_count"] == 15234
    assert doc["token"]["ciphertext"] and doc["token"]["refresh_ciphertext"]
    assert "act." not in str(doc) and "rft." not in str(doc)  # never in clear
    api = await env.http.get(f"/v1/accounts/{out.account_id}", headers=env.auth(tenant))
    assert api.status_code == 200 and api.json()["platform"] == "tiktok" and "token" not in api.json()
    assert "act." not in api.text


async def test_deny_returns_access_denied(env: Env) -> None:
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key, decision="deny")
    assert out.query == {"status": "error", "error": "access_denied"}


async def test_missing_scopes_return_missing_scopes_and_store_nothing(env: Env) -> None:
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key, scopes="user.info.basic,video.list")
    assert out.query == {"status": "error", "error": "missing_scopes"}
    assert await env.services.store.accounts.count_documents({}) == 0


async def test_without_video_publish_the_account_connects_read_only(env: Env) -> None:
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key, scopes="user.info.basic,user.info.profile,user.info.stats,video.list")
    assert out.query["status"] == "connected" and out.query["read_only"] == "true"
    doc = await account_doc(env, out.account_id)
    assert doc["extra"]["read_only"] is True


async def test_forged_and_reused_state_get_the_invalid_link_page(env: Env) -> None:
    forged = await env.http.get("/oauth/tiktok/callback", params={"code": "x", "state": "forged"})
    assert forged.status_code == 400 and "no longer valid" in forged.text
    tenant = await env.tenant()
    link = await connect_link(env, tenant.api_key)
    r = await env.sandbox.get(str(httpx.URL(link).copy_merge_params({"sandbox_account": "tt_creator", "sandbox_decision": "allow"})))
    first = await follow_callback(env, r.headers["location"])
    assert first.query["status"] == "connected"
    again = await follow_callback(env, r.headers["location"])
    assert again.status_code == 400


async def test_comments_of_a_tiktok_account_are_capability_unavailable(env: Env) -> None:
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    r = await env.http.get(f"/v1/accounts/{out.account_id}/comments", headers=env.auth(tenant))
    assert r.status_code == 422 and r.json()["error"]["code"] == "capability_unavailable"
