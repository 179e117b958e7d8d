"""The CRM's read API over synced data: paging with stable cursors, series, audience, analytics,
sync runs — and tenancy on every route (another tenant's account is a 404)."""

from __future__ import annotations

import pytest

from tests.conftest import Env
from tests.sync_helpers import connected, seed_media

ACCOUNT_ROUTES = (
    "/v1/accounts/{id}/media", "/v1/accounts/{id}/metrics?name=followers_count", "/v1/accounts/{id}/audience",
    "/v1/accounts/{id}/sync-runs",
)


@pytest.fixture
async def synced(env: Env):  # noqa: ANN201
    await seed_media(env, count=30, stories=2)
    tenant, account_id = await connected(env)
    await env.run_worker()
    return tenant, account_id


async def test_media_pages_follow_a_stable_cursor_without_gaps_or_repeats(env: Env, synced) -> None:  # noqa: ANN001
    tenant, account_id = synced
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        page = (await env.http.get(f"/v1/accounts/{account_id}/media", headers=env.auth(tenant), params=params)).json()
        seen += [m["id"] for m in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 32
    everything = (await env.http.get(f"/v1/accounts/{account_id}/media", headers=env.auth(tenant),
                                     params={"limit": 200})).json()["data"]
    assert [m["id"] for m in everything] == seen
    stamps = [m["timestamp"] for m in everything]
    assert stamps == sorted(stamps, reverse=True)
    liked = (await env.http.get(f"/v1/accounts/{account_id}/media", headers=env.auth(tenant),
                                params={"limit": 200, "sort": "-like_count"})).json()["data"]
    assert [m["like_count"] for m in liked] == sorted((m["like_count"] for m in liked), reverse=True)
    reel = next(m for m in everything if m["media_product_type"] == "REELS" and m["insights_status"] == "ok")
    assert {"reach", "views", "saved", "shares"} <= set(reel["insights"]) and reel["engagement_rate"] > 0
    bad = await env.http.get(f"/v1/accounts/{account_id}/media", headers=env.auth(tenant), params={"sort": "caption"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_sort"


async def test_metrics_audience_runs_and_analytics_answer_from_the_synced_data(env: Env, synced) -> None:  # noqa: ANN001
    tenant, account_id = synced
    h = env.auth(tenant)
    followers = (await env.http.get(f"/v1/accounts/{account_id}/metrics", headers=h,
                                    params={"name": "followers_count"})).json()
    assert [p["value"] for p in followers["data"]] == [12500]
    reach = (await env.http.get(f"/v1/accounts/{account_id}/metrics", headers=h, params={"name": "reach"})).json()
    assert len(reach["data"]) == 30
    audience = (await env.http.get(f"/v1/accounts/{account_id}/audience", headers=h)).json()
    assert {(s["metric"], s["breakdown"]) for s in audience["data"]} == {
        (m, b) for m in ("follower_demographics", "engaged_audience_demographics")
        for b in ("age", "gender", "country", "city")}
    runs = (await env.http.get(f"/v1/accounts/{account_id}/sync-runs", headers=h)).json()
    (run,) = runs["data"]
    assert run["status"] == "success" and run["api_calls"] > 0 and run["items"]["media"] == 30
    one = await env.http.get(f"/v1/accounts/{account_id}/sync-runs/{run['id']}", headers=h)
    assert one.json()["id"] == run["id"]
    dash = (await env.http.get("/v1/analytics", headers=h)).json()
    assert dash["totals"]["accounts"] == 1 and dash["totals"]["followers"] == 12500
    assert dash["totals"]["posts"] == 30 and dash["totals"]["engagement_rate"] > 0
    assert dash["by_platform"]["instagram"]["posts"] == 30
    assert len(dash["recent_posts"]) == len(dash["top_posts"]) == 10
    rates = [p["engagement_rate"] for p in dash["top_posts"]]
    assert rates == sorted(rates, reverse=True)


async def test_every_read_route_hides_another_tenants_account(env: Env, synced) -> None:  # noqa: ANN001
    tenant, account_id = synced
    stranger = await env.tenant("Other CRM")
    runs = (await env.http.get(f"/v1/accounts/{account_id}/sync-runs", headers=env.auth(tenant))).json()["data"]
    for route in ACCOUNT_ROUTES:
        r = await env.http.get(route.format(id=account_id), headers=env.auth(stranger))
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", route
    r = await env.http.get(f"/v1/accounts/{account_id}/sync-runs/{runs[0]['id']}", headers=env.auth(stranger))
    assert r.status_code == 404
    r = await env.http.post(f"/v1/accounts/{account_id}/sync", headers=env.auth(stranger))
    assert r.status_code == 404
    dash = (await env.http.get("/v1/analytics", headers=env.auth(stranger))).json()
    assert dash["totals"]["accounts"] == 0 and dash["recent_posts"] == []
