"""Usage headers and throttling (PLATFORM_FACTS.md §4)."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
from sandbox_driver import Driver, graph_error

from sandbox import SandboxConfig
from sandbox.meta.config import MetaConfig

CREATOR_IG_ID = "17841400000000101"
BRAND_A_IG = "17841400000000112"


def buc(response: httpx.Response, ig_user_id: str) -> dict[str, int]:
    header = json.loads(response.headers["x-business-use-case-usage"])
    assert list(header) == [ig_user_id]
    (entry,) = header[ig_user_id]
    assert entry["type"] == "instagram"
    return entry


async def test_every_graph_answer_carries_app_usage(sb: Driver, http: httpx.AsyncClient) -> None:
    token = await sb.ig_long_token()
    for response in (
        await sb.ig_me(token),
        await sb.ig_me("IGAAbad"),  # errors too
        await sb.ig_refresh(token),
    ):
        usage = json.loads(response.headers["x-app-usage"])
        assert set(usage) == {"call_count", "total_cputime", "total_time"}
        assert all(isinstance(v, int) for v in usage.values())
    page = await http.get("/www.instagram.com/oauth/authorize")
    assert "x-app-usage" not in page.headers


async def test_account_calls_carry_business_use_case_usage(
    sb: Driver, http: httpx.AsyncClient
) -> None:
    token = await sb.ig_long_token()
    me = await sb.ig_me(token)
    assert buc(me, CREATOR_IG_ID) == {
        "type": "instagram",
        "call_count": 0,
        "total_cputime": 0,
        "total_time": 0,
        "estimated_time_to_regain_access": 0,
    }
    fb_token = await sb.fb_long_user_token("fb_multi")
    assert "x-business-use-case-usage" not in (await sb.fb_get("me/accounts", fb_token)).headers
    ig = await sb.fb_get(BRAND_A_IG, fb_token, fields="username")
    assert buc(ig, BRAND_A_IG)["call_count"] == 0


async def test_spent_account_budget_refuses_with_80002_until_window_frees(
    sb: Driver, http: httpx.AsyncClient
) -> None:
    token = await sb.ig_long_token()
    setting = await http.post(
        "/_sandbox/usage",
        json={"account": "sandbox_creator", "buc_calls_per_window": 4, "buc_window_seconds": 3600},
    )
    assert setting.status_code == 200
    percents = [buc(await sb.ig_me(token), CREATOR_IG_ID)["call_count"] for _ in range(4)]
    assert percents == [25, 50, 75, 100]
    refused = await sb.ig_me(token)
    error = graph_error(refused)
    assert (error["code"], error["is_transient"], error["type"]) == (80002, True, "OAuthException")
    assert buc(refused, CREATOR_IG_ID)["estimated_time_to_regain_access"] > 0
    await sb.advance(3601)
    again = await sb.ig_me(token)
    assert again.status_code == 200
    assert buc(again, CREATOR_IG_ID)["estimated_time_to_regain_access"] == 0


async def test_budget_is_per_account(sb: Driver, http: httpx.AsyncClient) -> None:
    creator = await sb.ig_long_token("sandbox_creator")
    newbie = await sb.ig_long_token("sandbox_newbie")
    await http.post(
        "/_sandbox/usage", json={"account": "17841400000000101", "buc_calls_per_window": 1}
    )
    assert (await sb.ig_me(creator)).status_code == 200
    assert graph_error(await sb.ig_me(creator))["code"] == 80002
    assert (await sb.ig_me(newbie)).status_code == 200


async def test_app_budget_spent_gives_code_4(sb: Driver, http: httpx.AsyncClient) -> None:
    token = await sb.ig_long_token()
    await http.post("/_sandbox/usage", json={"app_calls_per_hour": 3})
    # The exchange above already spent one graph call.
    assert (await sb.ig_me(token)).status_code == 200
    ok = await sb.ig_me(token)
    assert json.loads(ok.headers["x-app-usage"])["call_count"] == 100
    error = graph_error(await sb.ig_me(token))
    assert (error["code"], error["is_transient"]) == (4, True)


async def test_budget_from_config_and_usage_snapshot(
    start_sandbox: Callable[[SandboxConfig | None], AbstractAsyncContextManager[str]],
) -> None:
    config = SandboxConfig(platforms={"meta": MetaConfig(buc_calls_per_window=2, buc_window_seconds=600, app_calls_per_hour=100)})
    async with start_sandbox(config) as url, httpx.AsyncClient(base_url=url) as http:
        sb = Driver(http)
        token = await sb.ig_long_token()
        first = await sb.ig_me(token)
        assert buc(first, CREATOR_IG_ID)["call_count"] == 50
        assert json.loads(first.headers["x-app-usage"])["call_count"] == 2  # exchange + /me
        await sb.ig_me(token)
        refused = await sb.ig_me(token)
        assert graph_error(refused)["code"] == 80002
        assert 0 < buc(refused, CREATOR_IG_ID)["estimated_time_to_regain_access"] <= 10
        snapshot = (await http.get("/_sandbox/usage")).json()
        account = snapshot["accounts"][CREATOR_IG_ID]
        assert (account["calls_per_window"], account["window_seconds"]) == (2, 600)
        assert snapshot["app"]["calls_per_hour"] == 100


async def test_usage_settings_validation(http: httpx.AsyncClient) -> None:
    assert (await http.post("/_sandbox/usage", json={"buc_calls_per_window": 3})).status_code == 400
    assert (
        await http.post("/_sandbox/usage", json={"account": "nobody", "buc_calls_per_window": 3})
    ).status_code == 404
