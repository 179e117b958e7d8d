"""The rate-limit governor (ARCHITECTURE.md §4.4): shared state in Redis, fed by usage headers
and throttle errors; a blocked scope is not called at all (the sandbox's request log proves it)."""

from __future__ import annotations

import pytest

from socialsync.platforms.instagram.errors import GraphError, RateLimited
from socialsync.platforms.instagram.limits import account_scope
from socialsync.platforms.instagram.plugin import graph_of
from socialsync.ratelimit import Governor
from tests.conftest import Env
from tests.sync_helpers import CREATOR_IG, graph_calls

BRAND_A_IG = "17841400000000112"


async def _token(env: Env, username: str = "sandbox_creator") -> str:
    r = await env.sandbox.post("/_sandbox/tokens", json={"username": username})
    return r.json()["access_token"]


def _profile_url(env: Env, ig_user_id: str = CREATOR_IG) -> str:
    return f"{env.settings.ig_graph}/{env.settings.graph_version}/{ig_user_id}"


async def _call(env: Env, token: str, ig_user_id: str = CREATOR_IG) -> object:
    return await graph_of(env.services).get(_profile_url(env, ig_user_id), token=token, account_id=ig_user_id,
                                        fields="id,username")


async def test_throttle_error_blocks_the_account_and_no_further_call_reaches_meta(env: Env) -> None:
    token = await _token(env)
    await env.sandbox.post("/_sandbox/faults", json={"path": f"*/{CREATOR_IG}", "count": 1, "error": {"code": 80002}})
    with pytest.raises(GraphError) as throttled:
        await _call(env, token)
    assert throttled.value.code == 80002
    calls_before = len(await graph_calls(env))
    for _ in range(3):
        with pytest.raises(RateLimited) as refused:
            await _call(env, token)
        assert refused.value.scope == account_scope(CREATOR_IG)
        assert refused.value.retry_after > 0
    assert len(await graph_calls(env)) == calls_before  # nothing reached the platform


async def test_spent_budget_in_the_usage_header_blocks_before_meta_refuses(env: Env) -> None:
    token = await _token(env)
    await env.sandbox.post("/_sandbox/usage", json={"account": CREATOR_IG, "buc_calls_per_window": 3,
                                                   "buc_window_seconds": 3600})
    for _ in range(3):
        await _call(env, token)  # the third answer reports 100 % and a time to regain access
    with pytest.raises(RateLimited) as refused:
        await _call(env, token)
    assert refused.value.reason == "blocked"
    assert refused.value.retry_after > 60 * 50  # the header said about an hour (in minutes)
    statuses = [c["status"] for c in await graph_calls(env)]
    assert statuses == [200, 200, 200]  # Meta never had to answer 80002


async def test_usage_above_the_threshold_paces_calls(env: Env) -> None:
    token = await _token(env)
    await env.sandbox.post("/_sandbox/usage", json={"account": CREATOR_IG, "buc_calls_per_window": 20,
                                                   "buc_window_seconds": 3600})
    env.settings.ratelimit_pace_seconds = 60
    for _ in range(17):  # 85 % used: at the threshold
        await _call(env, token)
    await _call(env, token)  # the one call of this pacing slot
    with pytest.raises(RateLimited) as paced:
        await _call(env, token)
    assert paced.value.reason == "paced"
    assert 0 < paced.value.retry_after <= 60
    assert len(await graph_calls(env)) == 18


async def test_a_blocked_account_does_not_block_another_account(env: Env) -> None:
    creator = await _token(env)
    fb = await env.sandbox.post("/_sandbox/tokens", json={"username": "fb_multi", "kind": "fb_user_long"})
    await env.sandbox.post("/_sandbox/faults", json={"path": f"*/{CREATOR_IG}", "count": 1, "error": {"code": 80002}})
    with pytest.raises(GraphError):
        await _call(env, creator)
    with pytest.raises(RateLimited):
        await _call(env, creator)
    other = await graph_of(env.services).get(
        f"{env.settings.fb_graph}/{env.settings.graph_version}/{BRAND_A_IG}",
        token=fb.json()["access_token"], account_id=BRAND_A_IG, fields="id")
    assert other["id"] == BRAND_A_IG


async def test_app_throttle_blocks_every_account_of_that_app(env: Env) -> None:
    token = await _token(env)
    await env.sandbox.post("/_sandbox/faults", json={"path": f"*/{CREATOR_IG}", "count": 1, "error": {"code": 4}})
    with pytest.raises(GraphError):
        await _call(env, token)
    with pytest.raises(RateLimited) as refused:
        await _call(env, token)
    assert refused.value.scope == "app:graph.instagram.com"


async def test_block_state_is_shared_through_redis(env: Env) -> None:
    """Another process (a second governor on the same Redis) sees the block."""
    token = await _token(env)
    other = Governor(env.services.redis, env.settings)
    await other.block(account_scope(CREATOR_IG), 120)
    with pytest.raises(RateLimited):
        await _call(env, token)
    assert await graph_calls(env) == []
