"""Token refresh cron: IG-login tokens refreshed in their window, dead tokens → needs_reconnect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from socialsync import queue
from tests.conftest import Env
from tests.flows import connect


async def age_token(env: Env, account_id: str, *, issued_days_ago: float, expires_in_days: float) -> None:
    now = datetime.now(UTC)
    await env.services.store.accounts.update_one(
        {"_id": account_id},
        {"$set": {"token.issued_at": now - timedelta(days=issued_days_ago),
                  "token.expires_at": now + timedelta(days=expires_in_days),
                  "next_check_at": now}},  # the token keeper looks at it now (and decides)
    )


async def connected(env: Env, tenant_key: str, account: str, login: str = "instagram") -> str:
    """Connect, then let the jobs a connect starts (first sync, webhook subscription) finish, so
    only the token work under test runs once the sandbox clock has moved."""
    account_id = (await connect(env, tenant_key, account, login=login)).account_id
    await env.run_worker()
    return account_id


async def run_refresh_cron(env: Env) -> None:
    await env.services.redis.enqueue_job(queue.TOKENS_REFRESH_DUE, _job_id=f"cron-test-{datetime.now(UTC).timestamp()}")
    await env.run_worker()


async def test_token_near_expiry_is_refreshed_and_the_old_one_dies(env: Env) -> None:
    tenant = await env.tenant()
    account_id = await connected(env, tenant.api_key, "sandbox_creator")
    fresh_id = await connected(env, tenant.api_key, "sandbox_newbie")
    await age_token(env, account_id, issued_days_ago=55, expires_in_days=5)
    await env.sandbox.post("/_sandbox/clock", json={"advance_seconds": 55 * 86400})
    before = await env.services.store.accounts.find_one({"_id": account_id})
    untouched_before = await env.services.store.accounts.find_one({"_id": fresh_id})

    await run_refresh_cron(env)

    after = await env.services.store.accounts.find_one({"_id": account_id})
    assert after["status"] == "active"
    assert after["token"]["ciphertext"] != before["token"]["ciphertext"]
    assert after["token"]["expires_at"] - datetime.now(UTC) > timedelta(days=59)
    # the freshly connected account (not in its window) was left alone
    untouched = await env.services.store.accounts.find_one({"_id": fresh_id})
    assert untouched["token"]["ciphertext"] == untouched_before["token"]["ciphertext"]
    # the refreshed token works against the platform
    old = env.services.cipher.decrypt(before["token"]["ciphertext"])
    new = env.services.cipher.decrypt(after["token"]["ciphertext"])
    assert (await env.sandbox.get("/graph.instagram.com/v24.0/me", params={"access_token": new, "fields": "username"})).status_code == 200
    assert (await env.sandbox.get("/graph.instagram.com/v24.0/me", params={"access_token": old, "fields": "username"})).status_code == 400


async def test_refreshing_a_token_the_platform_considers_expired_marks_needs_reconnect(env: Env) -> None:
    tenant = await env.tenant()
    account_id = await connected(env, tenant.api_key, "sandbox_creator")
    await age_token(env, account_id, issued_days_ago=55, expires_in_days=3)
    await env.sandbox.post("/_sandbox/clock", json={"advance_seconds": 61 * 86400})  # dead on Meta's side

    await run_refresh_cron(env)

    acc = (await env.http.get(f"/v1/accounts/{account_id}", headers=env.auth(tenant))).json()
    assert acc["status"] == "needs_reconnect"
    assert "190" in acc["status_reason"]


async def test_token_already_past_expiry_needs_reconnect_without_a_call(env: Env) -> None:
    tenant = await env.tenant()
    account_id = await connected(env, tenant.api_key, "sandbox_creator")
    await age_token(env, account_id, issued_days_ago=61, expires_in_days=-1)
    calls_before = (await env.sandbox.get("/_sandbox/stats")).json()["total"]
    await run_refresh_cron(env)
    acc = await env.services.store.accounts.find_one({"_id": account_id})
    assert acc["status"] == "needs_reconnect" and "expired" in acc["status_reason"]
    assert (await env.sandbox.get("/_sandbox/stats")).json()["total"] == calls_before


async def test_transient_refresh_failure_is_retried(env: Env) -> None:
    tenant = await env.tenant()
    account_id = await connected(env, tenant.api_key, "sandbox_creator")
    await age_token(env, account_id, issued_days_ago=55, expires_in_days=5)
    await env.sandbox.post("/_sandbox/clock", json={"advance_seconds": 55 * 86400})
    await env.sandbox.post("/_sandbox/faults", json={"method": "GET", "path": "/graph.instagram.com/refresh_access_token", "count": 1, "status": 503})
    before = await env.services.store.accounts.find_one({"_id": account_id})

    env.settings.retry_backoff_base_seconds = 0.0  # retry at once instead of in ~30 s
    await run_refresh_cron(env)

    after = await env.services.store.accounts.find_one({"_id": account_id})
    assert after["status"] == "active"
    assert after["token"]["ciphertext"] != before["token"]["ciphertext"]
    log = (await env.sandbox.get("/_sandbox/requests", params={"limit": 50})).json()
    refreshes = [e for e in (log["requests"] if isinstance(log, dict) else log) if "refresh_access_token" in e["path"]]
    assert [e["status"] for e in refreshes] == [503, 200]


async def test_dead_page_token_is_detected_by_the_cheap_check(env: Env) -> None:
    tenant = await env.tenant()
    account_id = await connected(env, tenant.api_key, "fb_single", login="facebook")
    await env.sandbox.post("/_sandbox/tokens/revoke", json={"username": "fb_single"})
    await run_refresh_cron(env)
    acc = await env.services.store.accounts.find_one({"_id": account_id})
    assert acc["status"] == "needs_reconnect" and "190" in acc["status_reason"]


async def test_live_page_token_check_keeps_account_active(env: Env) -> None:
    tenant = await env.tenant()
    account_id = await connected(env, tenant.api_key, "fb_single", login="facebook")
    await run_refresh_cron(env)
    acc = await env.services.store.accounts.find_one({"_id": account_id})
    assert acc["status"] == "active" and acc["token_checked_at"] is not None and acc["token_check_error"] is None


async def test_token_younger_than_24_hours_is_not_refreshed_even_near_expiry(env: Env) -> None:
    """Meta refuses to refresh a token under 24 h old: the cron must not even try."""
    tenant = await env.tenant()
    account_id = await connected(env, tenant.api_key, "sandbox_creator")
    await age_token(env, account_id, issued_days_ago=0.5, expires_in_days=2)
    before = await env.services.store.accounts.find_one({"_id": account_id})
    await run_refresh_cron(env)
    after = await env.services.store.accounts.find_one({"_id": account_id})
    assert after["token"]["ciphertext"] == before["token"]["ciphertext"]
    log = (await env.sandbox.get("/_sandbox/requests", params={"limit": 200})).json()["requests"]
    assert not [e for e in log if "refresh_access_token" in e["path"]]
