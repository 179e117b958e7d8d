"""Publishing through the plugin's Publisher, the way the generic state machine drives it (fields
stored between steps): validation codes, upload end to end, interruptions resumed not restarted,
an expired session replaced before its first byte, unaudited uploads recorded as private."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiohttp import web

from socialsync.platforms.base import PublishRejected
from socialsync.platforms.youtube.plugin import YouTubePlatform
from tests.conftest import serve
from tests.youtube.test_youtube_plugin import Context, _connect, plugin  # noqa: F401 - fixture

BLOCK = 256 * 1024
SIZE = 9 * BLOCK + 777


@pytest_asyncio.fixture
async def video_url(tmp_path: Path) -> AsyncIterator[str]:
    """A video file served over real HTTP with Range support (aiohttp's FileResponse)."""
    path = tmp_path / "clip.mp4"
    path.write_bytes(hashlib.sha256(b"clip").digest() * (SIZE // 32) + b"z" * (SIZE % 32))
    app = web.Application()
    async def clip(request: web.Request) -> web.FileResponse:
        return web.FileResponse(path)

    app.router.add_route("*", "/clip.mp4", clip)
    runner, url = await serve(app)
    yield url + "/clip.mp4"  # http is accepted in sandbox mode only
    await runner.cleanup()


def _request(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "video", "video_url": url, "title": "Launch day", "description": "hello",
            "tags": ["a", "b"], "category_id": "22", "privacy_status": "public", **extra}


async def _drive(plugin: YouTubePlatform, account: Any, post: dict[str, Any], steps: int = 10) -> tuple[dict[str, Any], list[str]]:
    actions: list[str] = []
    for _ in range(steps):
        outcome = await plugin.publish.advance(account, post, datetime.now(UTC))  # type: ignore[union-attr]
        actions.append(outcome.action)
        post.update(outcome.fields)  # the core stores the fields before the next step
        if outcome.action in ("published", "failed"):
            break
    return post, actions


def test_validation_codes(plugin: YouTubePlatform) -> None:
    from socialsync.platforms.base import AccountRef, Credentials  # noqa: PLC0415

    account = AccountRef("a", "t", "youtube", "google", "UC1", Credentials("x", "google_oauth2"))
    now = datetime.now(UTC)
    cases = {
        "invalid_title": _request("https://v.example/a.mp4", title="x" * 101),
        "invalid_description": _request("https://v.example/a.mp4", description="a <b>"),
        "invalid_video_url": _request("ftp://v.example/a.mp4"),
        "invalid_category_id": _request("https://v.example/a.mp4", category_id="999"),
        "invalid_request": _request("https://v.example/a.mp4", publish_at=(now + timedelta(days=1)).isoformat()),
        "invalid_publish_at": _request("https://v.example/a.mp4", privacy_status="private",
                                       publish_at=(now - timedelta(days=1)).isoformat()),
    }
    for code, body in cases.items():
        with pytest.raises(PublishRejected) as refused:
            plugin.publish.validate(account, body, now)  # type: ignore[union-attr]
        assert refused.value.code == code, (code, refused.value.message)
    ok = plugin.publish.validate(account, _request("https://v.example/a.mp4"), now)  # type: ignore[union-attr]
    assert ok["title"] == "Launch day"


async def _published(yts: httpx.AsyncClient) -> list[dict[str, Any]]:
    return (await yts.get("/_sandbox/youtube/published")).json()["published"]


async def test_upload_end_to_end_records_the_private_lock(
    yts: httpx.AsyncClient, plugin: YouTubePlatform, video_url: str,
) -> None:
    account = await _connect(yts, plugin)
    post, actions = await _drive(plugin, account, {"request": _request(video_url)})
    assert actions == ["continue", "continue", "published"]
    assert post["upload_session_uri"] and post["video_bytes"] == SIZE
    published = await _published(yts)
    assert len(published) == 1 and published[0]["video_id"] == post["media_id"]
    assert post["privacy_status"] == "private" and "audit" in post["state_reason"]
    assert post["permalink"].endswith(post["media_id"])


async def test_interrupted_upload_resumes_and_makes_one_video(
    yts: httpx.AsyncClient, plugin: YouTubePlatform, video_url: str,
) -> None:
    account = await _connect(yts, plugin)
    plugin.parts.block.upload_chunk_bytes = 4 * BLOCK  # type: ignore[attr-defined]
    await yts.post("/_sandbox/youtube/uploads/drop", json={"after_bytes": 5 * BLOCK})  # mid-chunk, ~55 %
    post, actions = await _drive(plugin, account, {"request": _request(video_url)})
    assert actions[-1] == "published"
    sessions = (await yts.get("/_sandbox/youtube/uploads")).json()["sessions"]
    assert len(sessions) == 1 and sessions[0]["bytes_sent"] - SIZE <= 4 * BLOCK
    assert len(await _published(yts)) == 1 and post["upload_resumes"] >= 1


async def test_lost_final_answer_then_retry_does_not_upload_twice(
    yts: httpx.AsyncClient, plugin: YouTubePlatform, video_url: str,
) -> None:
    account = await _connect(yts, plugin)
    plugin.parts.block.upload_chunk_bytes = 16 * BLOCK  # type: ignore[attr-defined]
    # the one PUT completes the upload, but its answer is lost twice: the step gives up and waits
    await yts.post("/_sandbox/faults", json={"method": "PUT", "path": "/www.googleapis.com/upload/youtube/v3/videos",
                                             "status": 503, "phase": "after", "count": 2})
    post, actions = await _drive(plugin, account, {"request": _request(video_url)})
    assert "wait" in actions and actions[-1] == "published"
    assert len(await _published(yts)) == 1


async def test_expired_session_is_replaced_before_its_first_byte(
    yts: httpx.AsyncClient, plugin: YouTubePlatform, video_url: str,
) -> None:
    account = await _connect(yts, plugin)
    post: dict[str, Any] = {"request": _request(video_url)}
    first = await plugin.publish.advance(account, post, datetime.now(UTC))  # type: ignore[union-attr]
    post.update(first.fields)
    await yts.post("/_sandbox/clock", json={"advance_seconds": 8 * 86400})
    from dataclasses import replace  # noqa: PLC0415

    from tests.youtube.sandbox_helpers import refresh  # noqa: PLC0415

    token = (await refresh(yts, account.credentials.refresh_token or "")).json()["access_token"]
    account = replace(account, credentials=replace(account.credentials, access_token=token))
    second = await plugin.publish.advance(account, post, datetime.now(UTC))  # type: ignore[union-attr]
    assert second.action == "continue" and second.fields["upload_session_uri"] != post["upload_session_uri"]
    uploads = (await yts.get("/_sandbox/youtube/uploads")).json()["sessions"]
    assert all(s["received"] == 0 for s in uploads)  # no byte went to the new session yet
    post.update(second.fields)
    post, actions = await _drive(plugin, account, post)
    assert actions[-1] == "published" and post["upload_sessions"] == 2
    assert len(await _published(yts)) == 1


async def test_outside_sandbox_mode_video_urls_must_be_public_https(redis_url: str) -> None:
    from redis.asyncio import Redis  # noqa: PLC0415

    from socialsync.config import Settings  # noqa: PLC0415
    from socialsync.platforms.base import AccountRef, Credentials  # noqa: PLC0415
    from socialsync.platforms.registry import Registry  # noqa: PLC0415
    from socialsync.platforms.youtube.settings import YouTubeSettings  # noqa: PLC0415

    settings = Settings(sandbox=False, youtube=YouTubeSettings(client_id="real.apps.googleusercontent.com",
                                                               client_secret="s3cr3t"))  # type: ignore[arg-type]
    redis = Redis.from_url(redis_url)
    async with httpx.AsyncClient() as http:
        real = Registry.build(Context(settings, http, redis), ["youtube"]).get("youtube")
        assert not real.sandbox_mode  # type: ignore[attr-defined]
        account = AccountRef("a", "t", "youtube", "google", "UC1", Credentials("x", "google_oauth2"))
        now = datetime.now(UTC)
        for url in ("http://cdn.example.com/a.mp4", "https://127.0.0.1/a.mp4", "https://localhost/a.mp4",
                    "https://10.0.0.5/a.mp4"):
            with pytest.raises(PublishRejected) as refused:
                real.publish.validate(account, _request(url), now)  # type: ignore[union-attr]
            assert refused.value.code == "invalid_video_url", url
        assert real.publish.validate(account, _request("https://cdn.example.com/a.mp4"), now)  # type: ignore[union-attr]
    await redis.aclose()
