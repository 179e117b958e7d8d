"""Publishing a YouTube video through POST /v1/accounts/{id}/posts and the real worker: validated
before queuing, one resumable upload per post whatever the retries (same Idempotency-Key = the
same post), an upload dropped mid-way resumed from Google's acknowledged byte (not restarted),
the unaudited project's private lock recorded, post.published sent to the CRM."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from aiohttp import web

from tests.conftest import Env, serve
from tests.youtube.yt_flows import connect, get

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
    yield url + "/clip.mp4"  # http: accepted in sandbox mode only
    await runner.cleanup()


def _video(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "video", "video_url": url, "title": "Launch day", "description": "hello",
            "tags": ["launch"], "category_id": "22", "privacy_status": "public", **extra}


async def _post(env: Env, key: str, account_id: str, body: dict[str, Any], idem: str = "yt-1") -> Any:
    return await env.http.post(f"/v1/accounts/{account_id}/posts", json=body,
                               headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idem})


async def _ready(env: Env) -> tuple[Any, str]:
    env.settings.youtube.upload_chunk_bytes = 2 * BLOCK  # several chunks in a small file
    env.settings.youtube.upload_retry_seconds = 0.2
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    await env.run_worker()
    return tenant, out.account_id


async def _published(env: Env) -> list[dict[str, Any]]:
    return (await env.sandbox.get("/_sandbox/youtube/published")).json()["published"]


async def test_a_video_is_uploaded_once_and_recorded_private_when_unaudited(env: Env, video_url: str) -> None:
    tenant, account_id = await _ready(env)
    r = await _post(env, tenant.api_key, account_id, _video(video_url))
    assert r.status_code == 202, r.text
    again = await _post(env, tenant.api_key, account_id, _video(video_url))  # a CRM retry
    assert again.status_code == 202 and again.json()["id"] == r.json()["id"]
    await env.run_worker()
    post = await get(env, tenant.api_key, f"/v1/posts/{r.json()['id']}")
    assert post["state"] == "published", post
    published = await _published(env)
    assert len(published) == 1 and published[0]["video_id"] == post["media_id"]
    assert published[0]["bytes"] == SIZE and published[0]["privacy"] == "private"  # locked: no audit
    assert post["permalink"] == f"https://www.youtube.com/watch?v={post['media_id']}"
    sessions = (await env.sandbox.get("/_sandbox/youtube/uploads")).json()["sessions"]
    assert len(sessions) == 1 and sessions[0]["bytes_sent"] == SIZE  # one session, no byte sent twice
    events = [e async for e in env.services.store["crm_events"].find({"type": "post.published"})]
    assert len(events) == 1 and events[0]["data"]["media_id"] == post["media_id"]
    assert "private" in (post["state_reason"] or "")  # recorded, not pretended public
    third = await _post(env, tenant.api_key, account_id, _video(video_url))
    await env.run_worker()
    assert third.json()["id"] == r.json()["id"] and len(await _published(env)) == 1


async def test_a_dropped_upload_resumes_from_the_acknowledged_byte(env: Env, video_url: str) -> None:
    tenant, account_id = await _ready(env)
    await env.sandbox.post("/_sandbox/youtube/uploads/drop", json={"after_bytes": 5 * BLOCK + 100})
    r = await _post(env, tenant.api_key, account_id, _video(video_url))
    assert r.status_code == 202, r.text
    await env.run_worker()
    post = await get(env, tenant.api_key, f"/v1/posts/{r.json()['id']}")
    assert post["state"] == "published", post
    assert len(await _published(env)) == 1
    [session] = (await env.sandbox.get("/_sandbox/youtube/uploads")).json()["sessions"]
    # resumed from the acknowledged byte: only the part of the dropped block is sent again
    assert session["received"] == SIZE and session["bytes_sent"] - SIZE < BLOCK


async def test_invalid_requests_are_refused_before_queuing(env: Env, video_url: str) -> None:
    tenant, account_id = await _ready(env)
    cases = [
        (_video(video_url, title="x" * 101), "invalid_title"),
        (_video(video_url, description="a <b> c"), "invalid_description"),
        (_video(video_url, category_id="999"), "invalid_category_id"),
        (_video(video_url, publish_at="2030-01-01T10:00:00Z"), "invalid_request"),  # needs private
    ]
    for i, (body, code) in enumerate(cases):
        r = await _post(env, tenant.api_key, account_id, body, idem=f"bad-{i}")
        assert r.status_code == 422 and r.json()["error"]["code"] == code, (code, r.text)
    assert await env.services.store["publish_jobs"].count_documents({}) == 0
