"""GET /v1/platforms/youtube/quota over the real receiver: units spent and left today, blocked
state, and the planner's numbers."""

from __future__ import annotations

from socialsync.platforms.base import BudgetUpdate, Call
from tests.conftest import Env


async def test_quota_view_shows_spent_left_and_plan(env: Env) -> None:
    tenant = await env.tenant()
    gov, rates = env.services.governor, env.services.platforms.get("youtube").rates
    assert gov is not None
    for _ in range(3):
        await gov.acquire(rates.budgets(Call(operation="videos.list", account_key="acc_x")))
    await gov.acquire(rates.budgets(Call(operation="comments.insert", account_key="acc_x")))
    r = await env.http.get("/v1/platforms/youtube/quota", headers=env.auth(tenant))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["spent"], body["left"]) == (53, 10_000 - 53)
    assert body["blocked_until"] is None and body["your_accounts"] == {}  # acc_x is not this tenant's
    assert body["scheduled"]["units_per_channel_per_day"] == 96 and body["scheduled"]["channels_that_fit"] == 93
    await gov.learn([BudgetUpdate(scope=rates.scope, spent_until_reset=True)])
    blocked = (await env.http.get("/v1/platforms/youtube/quota", headers=env.auth(tenant))).json()
    assert blocked["blocked_until"] == blocked["resets_at"]


async def test_quota_view_needs_auth_and_a_known_platform(env: Env) -> None:
    tenant = await env.tenant()
    assert (await env.http.get("/v1/platforms/youtube/quota")).status_code == 401
    for other in ("instagram", "tiktok", "myspace"):  # no daily unit quota / no such platform
        r = await env.http.get(f"/v1/platforms/{other}/quota", headers=env.auth(tenant))
        assert r.status_code == 404 and r.json()["error"]["code"] == "no_quota", other
