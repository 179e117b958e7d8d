"""Instagram Login connect, end to end through real HTTP redirects."""

from __future__ import annotations

from tests.conftest import RETURN_URL, Env
from tests.flows import authorize, connect, connect_link, follow_callback


async def test_instagram_login_connects_account_with_long_lived_token(env: Env) -> None:
    tenant = await env.tenant()
    outcome = await connect(env, tenant.api_key, "sandbox_creator", user_ref="crm-user-7")

    assert outcome.status_code == 303
    assert outcome.location.startswith(RETURN_URL + "?")
    account_id = outcome.account_id
    r = await env.http.get(f"/v1/accounts/{account_id}", headers=env.auth(tenant))
    assert r.status_code == 200
    acc = r.json()
    assert acc["status"] == "active"
    assert acc["login"] == "instagram"
    assert acc["username"] == "sandbox_creator"
    assert acc["external_id"] == "17841400000000101"
    assert acc["user_ref"] == "crm-user-7"
    assert acc["profile"]["followers_count"] == 12500
    assert "instagram_business_basic" in acc["scopes"]
    # long-lived: about 60 days, not the 1-hour short-lived token
    doc = await env.services.store.accounts.find_one({"_id": account_id})
    lifetime = doc["token"]["expires_at"] - doc["token"]["issued_at"]
    assert 59 <= lifetime.days <= 60
    stats = (await env.sandbox.get("/_sandbox/stats")).json()["by_endpoint"]
    assert any("ig_exchange_token" in k or k.endswith("/access_token") for k in stats), stats


async def test_wrapped_token_response_is_accepted(env: Env) -> None:
    """sandbox_newbie's code exchange answers {data: [...]} with a numeric user_id."""
    tenant = await env.tenant()
    outcome = await connect(env, tenant.api_key, "sandbox_newbie")
    doc = await env.services.store.accounts.find_one({"_id": outcome.account_id})
    assert doc["external_id"] == "17841400000000102"
    assert isinstance(doc["platform_user_id"], str)


async def test_denied_consent_returns_access_denied_and_stores_nothing(env: Env) -> None:
    tenant = await env.tenant()
    outcome = await connect(env, tenant.api_key, "sandbox_creator", decision="deny")
    assert outcome.status_code == 303
    assert outcome.query == {"status": "error", "error": "access_denied"}
    assert await env.services.store.accounts.count_documents({}) == 0


async def test_missing_required_scope_is_reported(env: Env) -> None:
    tenant = await env.tenant()
    outcome = await connect(
        env, tenant.api_key, "sandbox_creator", scopes="instagram_business_content_publish"
    )
    assert outcome.query == {"status": "error", "error": "missing_scopes"}
    assert await env.services.store.accounts.count_documents({}) == 0


async def test_optional_scope_declined_still_connects_and_lists_scopes(env: Env) -> None:
    tenant = await env.tenant()
    outcome = await connect(env, tenant.api_key, "sandbox_creator", scopes="instagram_business_basic")
    doc = await env.services.store.accounts.find_one({"_id": outcome.account_id})
    assert doc["scopes"] == ["instagram_business_basic"]


async def test_token_exchange_error_redirects_with_code(env: Env) -> None:
    tenant = await env.tenant()
    link = await connect_link(env, tenant.api_key)
    callback = await authorize(env, link, "sandbox_creator")
    fault = {"method": "POST", "path": "/api.instagram.com/oauth/access_token", "count": 1,
             "status": 400, "error": {"code": 400, "message": "Invalid platform app", "type": "OAuthException"}}
    assert (await env.sandbox.post("/_sandbox/faults", json=fault)).status_code in (200, 201)
    outcome = await follow_callback(env, callback)
    assert outcome.query == {"status": "error", "error": "token_exchange_failed"}
    assert await env.services.store.accounts.count_documents({}) == 0


async def test_platform_timeout_during_exchange_is_a_clean_failure(env: Env) -> None:
    env.services.http.timeout = __import__("httpx").Timeout(1.0)
    tenant = await env.tenant()
    link = await connect_link(env, tenant.api_key)
    callback = await authorize(env, link, "sandbox_creator")
    fault = {"method": "GET", "path": "/graph.instagram.com/access_token", "count": 1, "delay_seconds": 3}
    assert (await env.sandbox.post("/_sandbox/faults", json=fault)).status_code in (200, 201)
    outcome = await follow_callback(env, callback)
    assert outcome.query == {"status": "error", "error": "token_exchange_failed"}
    assert await env.services.store.accounts.count_documents({}) == 0
