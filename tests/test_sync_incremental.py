"""After the first sync: new media at a few calls, deleted media marked, empty insights missing."""

from __future__ import annotations

from tests.conftest import Env
from tests.sync_helpers import connected, graph_calls, runs, seed_media, stored_media


async def _sync(env: Env, tenant, account_id: str, kind: str) -> dict:  # noqa: ANN001
    r = await env.http.post(f"/v1/accounts/{account_id}/sync", headers=env.auth(tenant), json={"kind": kind})
    assert r.status_code == 202, r.text
    await env.run_worker()
    return next(run for run in await runs(env, account_id) if run["_id"] == r.json()["run_id"])


async def test_incremental_sync_stores_new_posts_with_at_most_five_calls(env: Env) -> None:
    await seed_media(env, count=60)
    tenant, account_id = await connected(env)
    await env.run_worker()
    before = len(await graph_calls(env))
    new = await seed_media(env, count=5, before_conversion=0, spacing_hours=0.05, newest_age_hours=0.6)
    run = await _sync(env, tenant, account_id, "media")
    assert run["status"] == "success"
    spent = len(await graph_calls(env)) - before
    assert spent == run["api_calls"] <= 5
    stored = await stored_media(env, account_id)
    assert set(new) <= set(stored) and len(stored) == 65
    assert all(stored[m]["insights_status"] == "ok" for m in new)


async def test_media_deleted_on_instagram_is_marked_deleted_not_erased(env: Env) -> None:
    ids = await seed_media(env, count=12, before_conversion=0)
    tenant, account_id = await connected(env)
    await env.run_worker()
    gone = ids[3]
    assert (await env.sandbox.delete(f"/_sandbox/media/{gone}")).status_code == 200
    run = await _sync(env, tenant, account_id, "full")
    assert run["items"]["deleted"] == 1
    stored = await stored_media(env, account_id)
    assert stored[gone]["deleted"] is True and stored[gone]["deleted_at"] is not None
    assert sum(1 for d in stored.values() if d["deleted"]) == 1
    listed = await env.http.get(f"/v1/accounts/{account_id}/media", headers=env.auth(tenant), params={"limit": 200})
    assert gone not in {m["id"] for m in listed.json()["data"]}


async def test_media_without_insights_yet_is_stored_as_missing_not_zero(env: Env) -> None:
    fresh = await seed_media(env, count=3, before_conversion=0, spacing_hours=0.05, newest_age_hours=0.05)
    tenant, account_id = await connected(env)
    await env.run_worker()
    stored = await stored_media(env, account_id)
    for media_id in fresh:
        assert stored[media_id]["insights_status"] == "no_data"
        assert not stored[media_id].get("insights")
    (run,) = await runs(env, account_id)
    assert run["status"] == "success"


async def test_posts_without_insights_yet_get_an_engagement_rate_from_their_counts(env: Env) -> None:
    fresh = await seed_media(env, count=2, before_conversion=0, spacing_hours=0.05, newest_age_hours=0.05)
    older = await seed_media(env, count=2, before_conversion=0, newest_age_hours=30)
    tenant, account_id = await connected(env)
    await env.run_worker()
    stored = await stored_media(env, account_id)
    followers = (await env.services.store.accounts.find_one({"_id": account_id}))["profile"]["followers_count"]
    for media_id in fresh:  # no_data: likes + comments count, missing saves/shares count as 0
        doc = stored[media_id]
        assert doc["insights_status"] == "no_data"
        assert doc["engagement_rate"] == round((doc["like_count"] + doc["comments_count"]) * 100 / followers, 4)
    for media_id in older:
        doc = stored[media_id]
        total = doc["like_count"] + doc["comments_count"] + doc["insights"]["saved"] + doc["insights"]["shares"]
        assert doc["engagement_rate"] == round(total * 100 / followers, 4)
    body = (await env.http.get("/v1/analytics", headers=env.auth(tenant))).json()
    assert set(fresh) <= {p["id"] for p in body["top_posts"]}  # the newest posts are not skipped
    rates = [stored[m]["engagement_rate"] for m in sorted(stored, key=lambda m: stored[m]["timestamp"], reverse=True)]
    assert body["accounts"][0]["engagement_rate"] == round(sum(rates) / len(rates), 4)


async def test_profile_sync_writes_a_follower_history_point_per_run(env: Env) -> None:
    tenant, account_id = await connected(env)
    await env.run_worker()
    await _sync(env, tenant, account_id, "recent")
    series = await env.http.get(f"/v1/accounts/{account_id}/metrics", headers=env.auth(tenant),
                                params={"name": "followers_count", "interval": "raw"})
    assert [p["value"] for p in series.json()["data"]] == [12500, 12500]
