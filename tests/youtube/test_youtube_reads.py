"""The YouTube platform's reads against the sandbox: units per sync, incremental stop, records."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from redis.asyncio import Redis

from socialsync.platforms.youtube import reads
from socialsync.platforms.base import RateLimited
from socialsync.platforms.youtube.errors import NoChannel, QuotaExceeded
from socialsync.platforms.youtube.quota import next_reset
from socialsync.platforms.youtube.records import duration_seconds, parse_time
from tests.youtube.platform_helpers import client, governor, spent
from tests.youtube.sandbox_helpers import login, units_used


@pytest_asyncio.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    r = Redis.from_url(redis_url)
    await r.flushdb()
    yield r
    await r.aclose()


def _known(ids: set[str]):  # type: ignore[no-untyped-def]
    async def known(batch: list[str]) -> set[str]:
        return ids & set(batch)
    return known


async def test_full_sync_of_150_videos_costs_seven_units(yts: httpx.AsyncClient, sandbox_url: str, redis: Redis) -> None:
    tokens = await login(yts)
    yt = client(yts, sandbox_url, governor(redis), tokens.access_token)
    channel = await reads.my_channel(yt)
    assert channel.uploads_playlist_id == "UUsandboxcreator000000001"
    listing = await reads.new_uploads(yt, channel.uploads_playlist_id or "", _known(set()))
    assert listing.complete and len(listing.ids) == 150
    videos = await reads.videos(yt, listing.ids)
    assert len(videos) == 150
    assert yt.units == 7 == await units_used(yts)  # 1 + 2 * ceil(150 / 50)
    assert await spent(yt) == 7
    by_id = {v.id: v for v in videos}
    assert by_id["vidc0000005"].is_short is True and by_id["vidc0000005"].media_product_type == "SHORTS"
    assert by_id["vidc0000007"].is_short is True  # square, exactly 180 s
    assert by_id["vidc0000008"].is_short is False  # vertical, 181 s
    assert by_id["vidc0000001"].is_short is False
    assert by_id["vidc0000011"].like_count is None and "likes" not in (by_id["vidc0000011"].insights or {})
    assert by_id["vidc0000012"].comments_count is None
    assert by_id["vidc0000003"].timestamp is not None  # ".000Z"


async def test_incremental_sync_stops_at_the_first_known_video_in_three_units(
    yts: httpx.AsyncClient, sandbox_url: str, redis: Redis,
) -> None:
    tokens = await login(yts)
    stored = {f"vidc{i:07d}" for i in range(1, 151)}
    await yts.post("/_sandbox/youtube/videos", json={"channel": "yt_creator", "title": "Fresh"})
    yt = client(yts, sandbox_url, governor(redis), tokens.access_token)
    channel = await reads.my_channel(yt)
    listing = await reads.new_uploads(yt, channel.uploads_playlist_id or "", _known(stored))
    assert len(listing.ids) == 1 and listing.stopped_at_known == "vidc0000001"
    lookback = ["vidc0000001", "vidc0000002", "vidc0000003"]
    await reads.videos(yt, listing.ids + lookback)
    assert yt.units == 3 == await units_used(yts)


async def test_no_channel_is_reported(yts: httpx.AsyncClient, sandbox_url: str, redis: Redis) -> None:
    tokens = await login(yts, "yt_nochannel")
    with pytest.raises(NoChannel):
        await reads.my_channel(client(yts, sandbox_url, governor(redis), tokens.access_token))


async def test_hidden_subscribers_are_missing_not_zero(yts: httpx.AsyncClient, sandbox_url: str, redis: Redis) -> None:
    tokens = await login(yts, "yt_hidden")
    channel = await reads.my_channel(client(yts, sandbox_url, governor(redis), tokens.access_token))
    assert channel.hidden_subscriber_count and channel.subscriber_count is None


async def test_quota_exceeded_blocks_the_project_until_the_reset(yts: httpx.AsyncClient, sandbox_url: str, redis: Redis) -> None:
    tokens = await login(yts)
    await yts.post("/_sandbox/youtube/quota", json={"daily_units": 1})
    gov = governor(redis)
    yt = client(yts, sandbox_url, gov, tokens.access_token)
    await reads.my_channel(yt)
    with pytest.raises(QuotaExceeded):
        await reads.my_channel(yt)
    calls = await units_used(yts)
    with pytest.raises(RateLimited) as deferred:
        await reads.my_channel(yt)  # refused before the call: nothing goes out
    assert deferred.value.reason == "blocked" and deferred.value.scope == yt.rates.scope
    assert deferred.value.retry_after == pytest.approx(next_reset(time.time()) - time.time(), abs=5)
    assert await units_used(yts) == calls
    log = (await yts.get("/_sandbox/requests", params={"limit": 5})).json()["requests"]
    assert [r["status"] for r in log if "/channels" in r["path"]][-1] == 403


async def test_comments_incremental_with_all_replies(yts: httpx.AsyncClient, sandbox_url: str, redis: Redis) -> None:
    tokens = await login(yts)
    yt = client(yts, sandbox_url, governor(redis), tokens.access_token)
    first = await reads.new_comments(yt, "UCsandboxcreator000000001", newest_stored=None)
    threads = [c for c in first.comments if c.parent_id is None]
    replies = [c for c in first.comments if c.parent_id == "Ugthread000001"]
    assert len(threads) == 30 and len(replies) == 7 and first.reply_calls == 1
    assert threads[0].text and "<3" in threads[0].text  # textOriginal, not HTML
    newest = max(t.timestamp for t in threads if t.timestamp).isoformat()  # type: ignore[type-var]
    await yts.post("/_sandbox/youtube/comments", json={"video_id": "vidc0000002", "text": "new one"})
    again = await reads.new_comments(yt, "UCsandboxcreator000000001", newest_stored=newest)
    assert [c.text for c in again.comments] == ["new one"] and again.pages == 1


def test_durations_and_timestamps() -> None:
    assert duration_seconds("PT1H2M3S") == 3723
    assert duration_seconds("P0D") == 0
    assert duration_seconds("P1DT1S") == 86401
    assert duration_seconds("garbage") is None
    assert parse_time("2015-03-09T19:05:24.552394234+00:00") is not None
    assert parse_time("2019-11-21T17:00:01.000Z") == parse_time("2019-11-21T17:00:01Z")
