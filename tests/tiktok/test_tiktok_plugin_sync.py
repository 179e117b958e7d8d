"""The plugin's sync stages against the sandbox: first and incremental listings, count refresh,
and the per-minute windows shared through Redis (429 → blocked, no further call)."""

from __future__ import annotations

import pytest
from plugin_helpers import connect, now, ref
from tiktok_driver import TikTok

from socialsync.platforms.base import MediaRecord, MetricPoint, ProfileRecord, RateLimited


async def run_stage(platform, account, name, checkpoint=None, state=None):  # noqa: ANN001, ANN201
    """One stage as the core runs it; returns (records, the cross-run state after it, calls)."""
    records, last, kept = [], dict(checkpoint or {}), dict(state or {})
    calls = 0
    async for batch in platform.sync.stage(account, name, checkpoint=last, state=kept, now=now()):
        records += batch.records
        last = dict(batch.checkpoint)
        kept = dict(batch.state) if batch.state is not None else kept
        calls += batch.calls
    return records, (last if name == "counts" else kept), calls


async def test_profile_gives_the_profile_and_one_point_per_count(platform, tt: TikTok) -> None:
    account = ref(await connect(platform, tt))
    records, _, calls = await run_stage(platform, account, "profile")
    [profile] = [r for r in records if isinstance(r, ProfileRecord)]
    assert profile.fields["username"] == "tt_creator" and profile.fields["media_count"] == 60
    assert {p.metric for p in records if isinstance(p, MetricPoint)} == {
        "followers_count", "follows_count", "likes_count", "media_count"}
    assert calls == 2  # user/info, and creator_info (video.publish granted): what validation checks
    assert "PUBLIC_TO_EVERYONE" in profile.fields["creator_info"]["privacy_level_options"]


async def test_first_listing_reads_all_then_incremental_stops_at_the_first_known(platform, tt: TikTok) -> None:
    account = ref(await connect(platform, tt))
    records, checkpoint, calls = await run_stage(platform, account, "videos")
    videos = [r for r in records if isinstance(r, MediaRecord)]
    assert len(videos) == 60 and calls == 3 and checkpoint["high_water_ms"] == videos[0].fields["timestamp"].timestamp() * 1000
    first = videos[0]
    assert isinstance(first.platform_id, str) and first.fields["permalink"].startswith("https://www.tiktok.com/@tt_creator/")
    assert first.fields["thumbnail_expires_at"] > now() and set(first.insights) == {"views", "likes", "comments", "shares"}
    await tt.control("videos", {"account": "tt_creator", "count": 3})
    before = (await tt.http.get("/_sandbox/stats")).json()["total"]
    new, checkpoint2, calls2 = await run_stage(platform, account, "videos", state=checkpoint)
    assert len(new) == 3 and calls2 == 1
    assert (await tt.http.get("/_sandbox/stats")).json()["total"] - before == 1
    nothing, _, calls3 = await run_stage(platform, account, "videos", state=checkpoint2)
    assert nothing == [] and calls3 == 1


async def test_count_refresh_of_100_videos_takes_five_query_calls(platform, tt: TikTok) -> None:
    await tt.control("videos", {"account": "tt_creator", "count": 40})
    account = ref(await connect(platform, tt))
    listed, _, _ = await run_stage(platform, account, "videos")
    ids = [r.platform_id for r in listed]
    assert len(ids) == 100
    await tt.control("videos/bump", {"account": "tt_creator", "views": 7})
    fresh, checkpoint, calls = await run_stage(platform, account, "counts", {"video_ids": ids})
    assert calls == 5 and len(fresh) == 100 and checkpoint["done"] == 100
    old = {r.platform_id: r.insights["views"] for r in listed}
    assert all(r.insights["views"] == old[r.platform_id] + 7 for r in fresh)


async def test_a_429_blocks_the_endpoint_window_for_every_worker(platform, tt: TikTok) -> None:
    account = ref(await connect(platform, tt))  # connect spends one user/info call
    await tt.control("limits", {"per_endpoint_per_minute": 2})
    await run_stage(platform, account, "profile")
    with pytest.raises(Exception) as throttled:  # the sandbox's window is spent: 429
        await run_stage(platform, account, "profile")
    assert getattr(throttled.value, "code", None) == "rate_limit_exceeded"
    before = (await tt.http.get("/_sandbox/stats")).json()["total"]
    with pytest.raises(RateLimited) as deferred:
        await run_stage(platform, account, "profile")
    assert deferred.value.retry_after > 30 and "user/info" in deferred.value.scope
    assert (await tt.http.get("/_sandbox/stats")).json()["total"] == before  # not called again
    first_page = await platform.sync.stage(account, "videos", checkpoint={}, state={}, now=now()).__anext__()
    assert len(first_page.records) == 20  # another endpoint's window still has room


async def test_our_own_window_defers_before_tiktok_would_refuse(platform, tt: TikTok) -> None:
    platform.settings.endpoint_per_minute = 2
    account = ref(await connect(platform, tt))  # 1 of 2
    await run_stage(platform, account, "profile")  # 2 of 2
    before = (await tt.http.get("/_sandbox/stats")).json()["total"]
    with pytest.raises(RateLimited):
        await run_stage(platform, account, "profile")
    assert (await tt.http.get("/_sandbox/stats")).json()["total"] == before
