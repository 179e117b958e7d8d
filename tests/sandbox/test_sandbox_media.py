"""The sandbox's read side (PLATFORM_FACTS.md §2 and §4): media paging and expansion, insights by
product type with Meta's per-item errors, account insights and demographics, stories, multi-id
lookups and batches counted as Meta counts them."""

from __future__ import annotations

import json
from typing import Any

from datetime import datetime

import httpx
from sandbox_driver import Driver, graph_error

CREATOR = "17841400000000101"
NEWBIE = "17841400000000102"
BRAND_A = "17841400000000112"
IG = "/graph.instagram.com/v24.0"
FB = "/graph.facebook.com/v24.0"


async def _seed(http: httpx.AsyncClient, account: str = "sandbox_creator", **mix: Any) -> list[dict[str, Any]]:
    r = await http.post("/_sandbox/media/seed", json={"account": account, **mix})
    assert r.status_code == 201, r.text
    return (await http.get("/_sandbox/media", params={"account": account})).json()["media"]


def _relative_times(items: list[dict[str, Any]]) -> Any:
    anchor = datetime.fromisoformat(max(m["timestamp"] for m in items if m.get("timestamp")))

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
            try:
                return round((datetime.fromisoformat(value) - anchor).total_seconds())
            except ValueError:
                return value
        return value

    return walk(items)


async def _get(http: httpx.AsyncClient, path: str, token: str, **params: Any) -> httpx.Response:
    return await http.get(path, params={"access_token": token, **params})


async def test_seeding_is_deterministic_with_the_realistic_mix(sb: Driver, http: httpx.AsyncClient) -> None:
    first = await _seed(http, count=100, stories=4, quiet_stories=1)
    await http.post("/_sandbox/reset")
    again = await _seed(http, count=100, stories=4, quiet_stories=1)
    # Times are relative to the sandbox clock, which moved between the seeds (and may have
    # crossed a second): compare them as offsets from each seed's newest post.
    assert _relative_times(first) == _relative_times(again)
    kinds = [(m["media_type"], m["media_product_type"]) for m in first]
    assert kinds.count(("IMAGE", "FEED")) == 45  # 40 % + the 5 % before the conversion
    assert kinds.count(("CAROUSEL_ALBUM", "FEED")) == 20
    assert kinds.count(("VIDEO", "REELS")) == 35
    assert kinds.count(("IMAGE", "STORY")) == 4
    assert all(len(m["children"]) == 3 for m in first if m["media_type"] == "CAROUSEL_ALBUM")
    assert sum(m["before_business_conversion"] for m in first) == 5


async def test_media_edge_pages_newest_first_with_expansion(sb: Driver, http: httpx.AsyncClient) -> None:
    await _seed(http, count=30, before_conversion=0)
    token = await sb.ig_long_token()
    seen: list[str] = []
    after = None
    while True:
        params = {"limit": 12, "fields": "id,timestamp,children{id,media_url},insights.metric(reach,saved)"}
        if after:
            params["after"] = after
        body = (await _get(http, f"{IG}/{CREATOR}/media", token, **params)).json()
        seen += [m["id"] for m in body["data"]]
        for m in body["data"]:
            assert {e["name"] for e in m["insights"]["data"]} == {"reach", "saved"}
        if "next" not in body["paging"]:
            break
        after = body["paging"]["cursors"]["after"]
    assert len(seen) == len(set(seen)) == 30
    stats = (await http.get("/_sandbox/stats")).json()
    assert stats["by_endpoint"]["GET /graph.instagram.com/{version}/{node}/media"] == 3  # one call per page


async def test_insights_follow_the_product_type_rules(sb: Driver, http: httpx.AsyncClient) -> None:
    media = await _seed(http, count=20, stories=2, quiet_stories=1, before_conversion=0.1)
    token = await sb.ig_long_token()
    reel = next(m for m in media if m["media_product_type"] == "REELS")
    feed = next(m for m in media if m["media_product_type"] == "FEED" and not m["before_business_conversion"])
    old = next(m for m in media if m["before_business_conversion"])
    quiet = next(m for m in media if m["media_product_type"] == "STORY" and m["story_viewers"] < 5)
    ok = await _get(http, f"{IG}/{reel['id']}/insights", token, metric="reach,ig_reels_avg_watch_time")
    assert {e["name"]: e["values"][0]["value"] for e in ok.json()["data"]} == {
        "reach": reel["insights"]["reach"], "ig_reels_avg_watch_time": reel["insights"]["ig_reels_avg_watch_time"]}
    assert graph_error(await _get(http, f"{IG}/{reel['id']}/insights", token, metric="follows"))["code"] == 100
    assert graph_error(await _get(http, f"{IG}/{feed['id']}/insights", token, metric="impressions"))["code"] == 100
    error = graph_error(await _get(http, f"{IG}/{old['id']}/insights", token, metric="reach"))
    assert (error["code"], error["error_subcode"]) == (100, 2108006)
    assert graph_error(await _get(http, f"{IG}/{quiet['id']}/insights", token, metric="reach"))["code"] == 10
    child = next(m for m in media if m["media_type"] == "CAROUSEL_ALBUM")["children"][0]
    assert graph_error(await _get(http, f"{IG}/{child}/insights", token, metric="reach"))["code"] == 100


async def test_media_without_data_yet_answers_empty_data(sb: Driver, http: httpx.AsyncClient) -> None:
    (fresh, *_) = await _seed(http, count=1, before_conversion=0, newest_age_hours=0.1)
    token = await sb.ig_long_token()
    assert (await _get(http, f"{IG}/{fresh['id']}/insights", token, metric="reach")).json() == {"data": []}


async def test_one_item_rejecting_an_expanded_metric_fails_the_whole_page(sb: Driver, http: httpx.AsyncClient) -> None:
    await _seed(http, count=10, before_conversion=0)
    token = await sb.ig_long_token()
    r = await _get(http, f"{IG}/{CREATOR}/media", token, fields="id,insights.metric(reach,follows)")
    assert graph_error(r)["code"] == 100  # reels do not answer follows


async def test_heavy_pages_answer_code_1_and_expansion_can_be_refused_per_host(sb: Driver, http: httpx.AsyncClient) -> None:
    await _seed(http, count=40, before_conversion=0)
    token = await sb.ig_long_token()
    await http.post("/_sandbox/media/settings", json={"max_page_weight": 50})
    heavy = await _get(http, f"{IG}/{CREATOR}/media", token, limit=40, fields="id,insights.metric(reach,views)")
    assert graph_error(heavy)["code"] == 1
    light = await _get(http, f"{IG}/{CREATOR}/media", token, limit=10, fields="id,insights.metric(reach,views)")
    assert light.status_code == 200
    await http.post("/_sandbox/media/settings", json={"max_page_weight": 5000,
                                                     "expansion_disabled_hosts": ["graph.instagram.com"]})
    refused = await _get(http, f"{IG}/{CREATOR}/media", token, limit=5, fields="id,insights.metric(reach)")
    assert graph_error(refused)["code"] == 100
    plain = await _get(http, f"{IG}/{CREATOR}/media", token, limit=5, fields="id,like_count")
    assert plain.status_code == 200


async def test_account_insights_and_demographics_need_100_followers(sb: Driver, http: httpx.AsyncClient) -> None:
    token = await sb.ig_long_token()
    series = await _get(http, f"{IG}/{CREATOR}/insights", token, metric="reach", period="day")
    assert series.status_code == 200 and series.json()["data"][0]["values"]
    needs_total = await _get(http, f"{IG}/{CREATOR}/insights", token, metric="accounts_engaged", period="day")
    assert graph_error(needs_total)["code"] == 100
    total = await _get(http, f"{IG}/{CREATOR}/insights", token, metric="accounts_engaged", period="day",
                       metric_type="total_value")
    assert "value" in total.json()["data"][0]["total_value"]
    demo = dict(metric="follower_demographics", period="lifetime", metric_type="total_value", breakdown="country",
                timeframe="this_month")
    body = (await _get(http, f"{IG}/{CREATOR}/insights", token, **demo)).json()
    assert body["data"][0]["total_value"]["breakdowns"][0]["dimension_keys"] == ["country"]
    newbie = await sb.ig_long_token("sandbox_newbie")  # 40 followers
    assert graph_error(await _get(http, f"{IG}/{NEWBIE}/insights", newbie, **demo))["code"] == 10


async def test_stories_edge_lists_live_stories_only(sb: Driver, http: httpx.AsyncClient) -> None:
    await _seed(http, count=2, stories=3)
    token = await sb.ig_long_token()
    live = (await _get(http, f"{IG}/{CREATOR}/stories", token, fields="id,media_product_type")).json()["data"]
    assert len(live) == 3 and {s["media_product_type"] for s in live} == {"STORY"}
    await sb.advance(25 * 3600)
    assert (await _get(http, f"{IG}/{CREATOR}/stories", token)).json()["data"] == []


async def test_multi_id_and_batch_count_one_call_per_id_and_sub_request(sb: Driver, http: httpx.AsyncClient) -> None:
    media = await _seed(http, account="brand_a", count=6, before_conversion=0)
    user = await sb.fb_long_user_token("fb_multi")
    page_token = next(p for p in await sb.fb_pages(user) if p.get("instagram_business_account"))["access_token"]
    ids = [m["id"] for m in media[:3]]
    before = (await http.get("/_sandbox/usage")).json()["accounts"].get(BRAND_A, {}).get("calls_in_window", 0)
    multi = await _get(http, f"{FB}/", page_token, ids=",".join(ids), fields="id,like_count")
    assert set(multi.json()) == set(ids)
    batch = [{"method": "GET", "relative_url": f"v24.0/{i}/insights?metric=reach"} for i in ids]
    answered = await http.post(f"{FB}/", data={"access_token": page_token, "batch": json.dumps(batch)})
    results = answered.json()
    assert [r["code"] for r in results] == [200, 200, 200]
    assert json.loads(results[0]["body"])["data"][0]["name"] == "reach"
    usage = (await http.get("/_sandbox/usage")).json()["accounts"][BRAND_A]
    assert usage["calls_in_window"] - before == 6  # 3 ids + 3 sub-requests
    stats = (await http.get("/_sandbox/stats")).json()
    assert stats["by_endpoint"]["GET /graph.facebook.com/{version}/"] == 3
    assert stats["by_endpoint"]["GET /graph.facebook.com/{version}/{node}/insights"] == 3
    ig_only = await _get(http, "/graph.instagram.com/v24.0/", await sb.ig_long_token(), ids=ids[0])
    assert ig_only.status_code >= 400  # graph.facebook.com only


def test_demo_world_gives_every_seeded_account_media_and_tests_get_none() -> None:
    from sandbox.config import SandboxConfig
    from sandbox.context import Sandbox
    from sandbox.meta.world import Meta

    demo = Meta(Sandbox(SandboxConfig(demo_media=True)))
    for account in demo.state.ig_accounts.values():
        posts = demo.state.media.of_account(account.ig_user_id)
        assert len(posts) >= 24 and account.media_count == 24
        assert {m.media_product_type for m in posts} == {"FEED", "REELS", "STORY"}
    plain = Meta(Sandbox(SandboxConfig()))
    assert all(not plain.state.media.of_account(a.ig_user_id) for a in plain.state.ig_accounts.values())


async def test_carousels_have_video_children_with_a_thumbnail(sb: Driver, http: httpx.AsyncClient) -> None:
    seeded = await _seed(http, count=20, carousels=0.5, before_conversion=0)
    token = await sb.ig_long_token()
    body = (await _get(http, f"{IG}/{CREATOR}/media", token, limit=50,
                       fields="id,media_type,children{id,media_type,media_url,thumbnail_url}")).json()
    carousels = [m for m in body["data"] if m["media_type"] == "CAROUSEL_ALBUM"]
    assert len(carousels) == sum(m["media_type"] == "CAROUSEL_ALBUM" for m in seeded) > 0
    for carousel in carousels:
        children = carousel["children"]["data"]
        videos = [c for c in children if c["media_type"] == "VIDEO"]
        assert len(videos) == 1 and [c["media_type"] for c in children].count("IMAGE") == 2
        assert videos[0]["media_url"].endswith(".mp4") and videos[0]["thumbnail_url"].endswith(".jpg")
        assert all("thumbnail_url" not in c for c in children if c["media_type"] == "IMAGE")


async def test_stories_are_paged_and_next_is_absent_on_the_last_page(sb: Driver, http: httpx.AsyncClient) -> None:
    seeded = await _seed(http, count=0, stories=30)
    token = await sb.ig_long_token()
    first = (await _get(http, f"{IG}/{CREATOR}/stories", token, limit=100, fields="id")).json()
    assert len(first["data"]) == 25 and "next" in first["paging"]  # the edge's own page size
    after = first["paging"]["cursors"]["after"]
    second = (await _get(http, f"{IG}/{CREATOR}/stories", token, limit=100, fields="id", after=after)).json()
    assert len(second["data"]) == 5 and "next" not in second["paging"]
    ids = [m["id"] for m in first["data"] + second["data"]]
    assert sorted(ids) == sorted(m["id"] for m in seeded if m["media_product_type"] == "STORY")
    small = (await _get(http, f"{IG}/{CREATOR}/stories", token, limit=10, fields="id")).json()
    assert len(small["data"]) == 10
