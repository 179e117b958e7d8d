"""OAuth state: forged, expired, reused, cross-flow and cross-tenant states store nothing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from socialsync.oauth_state import STATE_KEY
from tests.conftest import Env
from tests.flows import authorize, connect, connect_link, follow_callback


def state_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


async def test_forged_state_gets_a_400_page_and_nothing_is_stored(env: Env) -> None:
    tenant = await env.tenant()
    link = await connect_link(env, tenant.api_key)
    callback = await authorize(env, link, "sandbox_creator")
    forged = callback.replace(state_of(callback), "forged-state-value")
    outcome = await follow_callback(env, forged)
    assert outcome.status_code == 400 and outcome.location is None
    assert await env.services.store.accounts.count_documents({}) == 0


async def test_expired_state_is_refused(env: Env) -> None:
    tenant = await env.tenant()
    link = await connect_link(env, tenant.api_key)
    callback = await authorize(env, link, "sandbox_creator")
    key = STATE_KEY.format(state_of(link))
    ttl = await env.redis.ttl(key)
    assert 590 <= ttl <= 600  # bound to the 10-minute lifetime
    await env.redis.pexpire(key, 1)  # let Redis expire it, as 10 minutes would
    await __import__("asyncio").sleep(0.05)
    outcome = await follow_callback(env, callback)
    assert outcome.status_code == 400
    assert await env.services.store.accounts.count_documents({}) == 0


async def test_reused_state_is_refused_and_first_account_untouched(env: Env) -> None:
    tenant = await env.tenant()
    link = await connect_link(env, tenant.api_key)
    callback = await authorize(env, link, "sandbox_creator")
    first = await follow_callback(env, callback)
    assert first.query["status"] == "connected"
    second = await follow_callback(env, callback)
    assert second.status_code == 400
    assert await env.services.store.accounts.count_documents({}) == 1


async def test_state_from_the_other_flow_is_refused(env: Env) -> None:
    tenant = await env.tenant()
    fb_link = await connect_link(env, tenant.api_key, "facebook")
    ig_link = await connect_link(env, tenant.api_key, "instagram")
    ig_callback = await authorize(env, ig_link, "sandbox_creator")
    # an Instagram callback carrying the Facebook flow's state
    crossed = ig_callback.replace(state_of(ig_callback), state_of(fb_link))
    outcome = await follow_callback(env, crossed)
    assert outcome.query == {"status": "error", "error": "invalid_state"}
    assert await env.services.store.accounts.count_documents({}) == 0


async def test_account_lands_in_the_tenant_that_issued_the_state(env: Env) -> None:
    alice, bob = await env.tenant("Alice"), await env.tenant("Bob")
    outcome = await connect(env, alice.api_key, "sandbox_creator")
    assert (await env.http.get(f"/v1/accounts/{outcome.account_id}", headers=env.auth(alice))).status_code == 200
    r = await env.http.get(f"/v1/accounts/{outcome.account_id}", headers=env.auth(bob))
    assert r.status_code == 404
    assert (await env.http.get("/v1/accounts", headers=env.auth(bob))).json()["data"] == []


@pytest.mark.parametrize(
    "return_url",
    [
        "javascript:alert(1)",
        "//evil.example/steal",
        "https://evil.example/connected",
        "https://crm.example.com@evil.example/",
        "https://someone@crm.example.com/connected",  # credentials in a return URL: refused
        "https://crm.example.com.evil.example/",
        "http://crm.example.com/connected",  # scheme differs from the allow-listed https
        "data:text/html,hi",
        "https://crm.example.com\\@evil.example",
        "",
    ],
)
async def test_open_redirect_return_urls_are_rejected(env: Env, return_url: str) -> None:
    tenant = await env.tenant()
    r = await env.http.post(
        "/v1/connect", headers=env.auth(tenant),
        json={"platform": "instagram", "login": "instagram", "return_url": return_url},
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_return_url"


async def test_allowed_return_url_keeps_its_own_query(env: Env) -> None:
    tenant = await env.tenant()
    outcome = await connect(
        env, tenant.api_key, "sandbox_creator", return_url="https://crm.example.com/app/x?tab=social"
    )
    assert outcome.query["tab"] == "social" and outcome.query["status"] == "connected"


async def test_connect_validation_errors_are_specific(env: Env) -> None:
    tenant = await env.tenant()
    bad_platform = await env.http.post(
        "/v1/connect", headers=env.auth(tenant),
        json={"platform": "myspace", "return_url": "https://crm.example.com/x"},
    )
    assert bad_platform.status_code == 400
    assert bad_platform.json()["error"]["code"] == "unsupported_platform"
    bad_login = await env.http.post(
        "/v1/connect", headers=env.auth(tenant),
        json={"platform": "instagram", "login": "myspace", "return_url": "https://crm.example.com/x"},
    )
    assert bad_login.json()["error"]["code"] == "invalid_body"
    assert "login" in bad_login.json()["error"]["message"]
    not_json = await env.http.post(
        "/v1/connect", headers={**env.auth(tenant), "Content-Type": "application/json"}, content=b"{nope",
    )
    assert not_json.status_code == 400 and not_json.json()["error"]["code"] == "invalid_body"
