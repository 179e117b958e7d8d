"""The cheap path and its fallbacks: expansion refused by a host, pages too heavy, a page one item
rejects, a repeated cursor, per-item insight errors recorded without failing the run."""

from __future__ import annotations

import asyncio

from tests.conftest import Env
from tests.sync_helpers import (
    CREATOR_IG, SINGLE_BRAND_IG, connected, graph_calls, read_settings, runs, sandbox_media, seed_media, stored_media,
)


def _expanded(calls: list[dict]) -> list[dict]:
    return [c for c in calls if "insights.metric(" in c["query"].get("fields", "")]


async def test_a_host_refusing_insights_expansion_is_detected_once_and_items_fetched_one_by_one(env: Env) -> None:
    await read_settings(env, expansion_disabled_hosts=["graph.instagram.com"])
    await seed_media(env, count=30, before_conversion=0)
    tenant, account_id = await connected(env)
    await env.run_worker()
    (run,) = await runs(env, account_id)
    assert run["status"] == "success"
    truth = {m["id"]: m for m in await sandbox_media(env)}
    stored = await stored_media(env, account_id)
    assert all(stored[i]["insights"]["reach"] == truth[i]["insights"]["reach"] for i in truth)
    assert await env.redis.exists("sync:expansion_off:graph.instagram.com")
    first_calls = len(await graph_calls(env))
    # The next run does not try the expansion again: every item is fetched on its own.
    r = await env.http.post(f"/v1/accounts/{account_id}/sync", headers=env.auth(tenant), json={"kind": "recent"})
    await env.run_worker()
    later = (await graph_calls(env))[first_calls:]
    assert later and not _expanded(later)
    assert sum(1 for c in later if c["path"].endswith("/insights")) == 30
    assert r.status_code == 202


async def test_the_expansion_refused_flag_expires_and_the_next_run_probes_again(env: Env) -> None:
    env.settings.sync_expansion_off_seconds = 600
    await read_settings(env, expansion_disabled_hosts=["graph.instagram.com"])
    await seed_media(env, count=10, before_conversion=0)
    tenant, account_id = await connected(env)
    await env.run_worker()
    key = "sync:expansion_off:graph.instagram.com"
    assert 0 < await env.redis.ttl(key) <= 600  # a lifetime, not for ever
    await read_settings(env, expansion_disabled_hosts=[])  # the host accepts it (again)
    await env.redis.pexpire(key, 1)  # ... and the lifetime runs out
    await asyncio.sleep(0.05)
    before = len(await graph_calls(env))
    r = await env.http.post(f"/v1/accounts/{account_id}/sync", headers=env.auth(tenant), json={"kind": "recent"})
    assert r.status_code == 202
    await env.run_worker()
    later = (await graph_calls(env))[before:]
    assert _expanded(later)  # probed again, and it worked: no per-item reads
    assert not [c for c in later if c["path"].endswith("/insights")]
    assert not await env.redis.exists(key)


async def test_expansion_is_used_where_the_host_accepts_it(env: Env) -> None:
    await seed_media(env, account=SINGLE_BRAND_IG, count=30, before_conversion=0)
    tenant, account_id = await connected(env, "fb_single", login="facebook")
    await env.run_worker()
    (run,) = await runs(env, account_id)
    assert run["status"] == "success"
    calls = await graph_calls(env)
    listing = [c for c in calls if c["path"].endswith(f"/{SINGLE_BRAND_IG}/media")]
    assert len(listing) == 1 and _expanded(listing)
    per_item_common = [c for c in calls if c["path"].endswith("/insights") and "reach" in c["query"].get("metric", "")
                       and SINGLE_BRAND_IG not in c["path"]]
    assert per_item_common == []  # the common metrics came with the page
    assert len(await stored_media(env, account_id)) == 30


async def test_a_too_heavy_page_is_read_again_smaller(env: Env) -> None:
    await read_settings(env, max_page_weight=100)
    await seed_media(env, count=30, before_conversion=0)
    tenant, account_id = await connected(env)
    await env.run_worker()
    (run,) = await runs(env, account_id)
    assert run["status"] == "success"
    limits = [int(c["query"]["limit"]) for c in await graph_calls(env) if c["path"].endswith(f"/{CREATOR_IG}/media")]
    assert limits[0] == 100 and min(limits) < 100
    assert len(await stored_media(env, account_id)) == 30


async def test_items_posted_before_the_business_conversion_are_recorded_and_the_run_succeeds(env: Env) -> None:
    await seed_media(env, count=40, before_conversion=0.25)  # the 10 oldest
    tenant, account_id = await connected(env)
    await env.run_worker()
    (run,) = await runs(env, account_id)
    assert run["status"] == "success" and run["items"]["insights_unavailable"] == 10
    truth = {m["id"]: m for m in await sandbox_media(env) if m["media_product_type"] != "STORY"}
    stored = await stored_media(env, account_id)
    for media_id, media in truth.items():
        if media["before_business_conversion"]:
            assert stored[media_id]["insights_error"]["subcode"] == 2108006
        else:
            assert stored[media_id]["insights"]["reach"] == media["insights"]["reach"]
    # Once a page answered 2108006, older items are not asked one by one (the tail probe finds
    # the boundary with expanded page reads; at most one item is asked on its own).
    per_item = [c for c in await graph_calls(env) if c["path"].endswith("/insights")
                and c["path"].split("/")[-2] in truth and truth[c["path"].split("/")[-2]]["before_business_conversion"]]
    assert len(per_item) <= 1, [(c["path"], c["query"]) for c in per_item]
    pages = [c for c in await graph_calls(env) if c["path"].endswith(f"/{CREATOR_IG}/media")]
    # the refused page, its plain read, then probes galloping from the tail and bisecting
    # (≤ 2·log2(40)) - where halving page sizes used to cost a cascade of pages
    assert len(pages) <= 2 + 2 * 6


async def test_a_repeated_cursor_stops_the_listing_instead_of_looping(env: Env) -> None:
    await read_settings(env, loop_cursor=True)
    await seed_media(env, count=30, before_conversion=0)
    env.settings.sync_page_size = 10
    tenant, account_id = await connected(env)
    await env.run_worker()
    (run,) = await runs(env, account_id)
    assert run["status"] == "partial"
    assert [e["reason"] for e in run["errors"]] == ["repeated_cursor"]
    pages = [c for c in await graph_calls(env) if c["path"].endswith(f"/{CREATOR_IG}/media")]
    assert len(pages) == 2  # the second page handed back the first page's cursor
    stored = await stored_media(env, account_id)
    assert not any(d["deleted"] for d in stored.values())  # an incomplete listing deletes nothing
