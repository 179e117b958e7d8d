"""First and incremental sync against the sandbox's seeded media (counts, fields, insights)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from socialsync.platforms.instagram import sync as instagram_sync
from socialsync.platforms.instagram.insights import COMMON
from socialsync.store.media import engagement_rate
from tests.conftest import Env
from tests.sync_helpers import connected, graph_calls, runs, sandbox_media, seed_media, stored_media

DEPRECATED = {"impressions", "plays", "video_views", "clips_replays_count", "ig_reels_aggregated_all_plays_count"}



def _recent(media: dict, settings) -> bool:  # noqa: ANN001
    """Inside the per-type extras window (SYNC_EXTRAS_MIN_AGE_HOURS .. SYNC_EXTRAS_DAYS old)."""
    posted, now = datetime.fromisoformat(media["timestamp"]), datetime.now(UTC)
    return now - timedelta(days=settings.sync_extras_days) <= posted <= now - timedelta(hours=settings.sync_extras_min_age_hours)


async def test_first_sync_stores_every_media_with_insights_by_type(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    # Extras are written in batches: small ones here, so full batches and the remainder both happen.
    monkeypatch.setattr(instagram_sync, "EXTRAS_BATCH", 2)
    await seed_media(env, count=40, stories=2, quiet_stories=1)
    tenant, account_id = await connected(env)
    await env.run_worker()
    (run,) = await runs(env, account_id)
    assert run["status"] == "success", run
    truth = {m["id"]: m for m in await sandbox_media(env)}
    stored = await stored_media(env, account_id)
    assert set(stored) == set(truth)
    followers = (await env.services.store.accounts.find_one({"_id": account_id}))["profile"]["followers_count"]
    with_extras = 0
    for media_id, doc in stored.items():
        expected = truth[media_id]
        assert doc["media_product_type"] == expected["media_product_type"]
        if expected["before_business_conversion"]:
            assert doc["insights_error"]["reason"] == "posted_before_business_conversion"
            assert "insights" not in doc
        elif expected["media_product_type"] == "STORY" and expected["story_viewers"] < 5:
            assert doc["insights_error"]["reason"] == "not_enough_viewers"
        elif expected["media_product_type"] == "STORY" or _recent(expected, env.settings):
            assert doc["insights"] == expected["insights"], media_id
            if expected["media_product_type"] != "STORY":  # the extras (saves, shares) count in the rate
                with_extras += 1
                assert doc["extras_run"] == run["_id"]
                assert doc["engagement_rate"] == engagement_rate(
                    doc["like_count"], doc["comments_count"], expected["insights"], followers), media_id
        else:  # outside the extras window: the common metrics only, no per-item extras
            assert doc["insights"] == {k: v for k, v in expected["insights"].items() if k in COMMON}, media_id
        if expected["media_type"] == "CAROUSEL_ALBUM":
            assert [c["id"] for c in doc["children"]] == expected["children"]
    assert with_extras > 2 and with_extras % 2  # full batches and a remainder (EXTRAS_BATCH)
    asked = set()
    for call in await graph_calls(env):
        q = call["query"]
        asked |= set(q.get("metric", "").split(","))
        fields = q.get("fields", "")
        if "insights.metric(" in fields:
            asked |= set(fields.split("insights.metric(")[1].split(")")[0].split(","))
    assert asked and not (asked & DEPRECATED)
    print(run["api_calls"], run["items"])
