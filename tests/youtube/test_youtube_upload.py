"""Resumable upload exactly once against the sandbox: the session is stored before the first
byte, drops resume from the acknowledged byte, a lost final answer is found by the probe, an
expired session gets a new one, and nothing is ever uploaded twice."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import httpx

from socialsync.platforms.youtube.upload import ResumableUpload
from tests.youtube.platform_helpers import endpoints
from tests.youtube.sandbox_helpers import login

BLOCK = 256 * 1024
TOTAL = 12 * BLOCK + 12345
DATA = hashlib.sha256(b"seed").digest() * (TOTAL // 32) + b"x" * (TOTAL % 32)
RESOURCE = {"snippet": {"title": "Launch", "description": "d", "categoryId": "22"},
            "status": {"privacyStatus": "public"}}


def source(offset: int) -> AsyncIterator[bytes]:
    async def gen() -> AsyncIterator[bytes]:
        for start in range(offset, TOTAL, 64 * 1024):
            yield DATA[start:start + 64 * 1024]
    return gen()


class Sessions:
    """A session store that records what was saved when (the order is the test)."""

    def __init__(self, events: list[str]) -> None:
        self.uri: str | None = None
        self.events = events

    async def load(self) -> str | None:
        return self.uri

    async def save(self, uri: str) -> bool:
        if self.uri is not None:
            return False
        self.uri = uri
        self.events.append("saved")
        return True

    async def drop(self, uri: str) -> None:
        if self.uri == uri:
            self.uri = None
            self.events.append("dropped")


def _upload(yts: httpx.AsyncClient, sandbox_url: str, token: str, sessions: Sessions) -> ResumableUpload:
    return ResumableUpload(yts, endpoints(sandbox_url).api + "/upload/youtube/v3/videos", lambda: token,
                           sessions, total=TOTAL, chunk_bytes=4 * BLOCK)


async def _published(yts: httpx.AsyncClient) -> list[dict[str, object]]:
    return (await yts.get("/_sandbox/youtube/published")).json()["published"]


async def test_upload_end_to_end_streams_aligned_chunks(yts: httpx.AsyncClient, sandbox_url: str) -> None:
    tokens = await login(yts)
    events: list[str] = []
    sessions = Sessions(events)
    result = await _upload(yts, sandbox_url, tokens.access_token, sessions).run(source, RESOURCE)
    published = await _published(yts)
    assert len(published) == 1 and published[0]["sha256"] == hashlib.sha256(DATA).hexdigest()
    assert result.video_id == published[0]["video_id"] and result.privacy_status == "private"
    assert result.bytes_sent == TOTAL and events == ["saved"]
    puts = [r for r in (await yts.get("/_sandbox/requests", params={"limit": 50})).json()["requests"] if r["method"] == "PUT"]
    assert len(puts) == 4  # 4 chunks of 1 MiB (the last one shorter)


async def test_dropped_connection_resumes_from_the_acknowledged_byte(yts: httpx.AsyncClient, sandbox_url: str) -> None:
    tokens = await login(yts)
    await yts.post("/_sandbox/youtube/uploads/drop", json={"after_bytes": 7 * BLOCK})  # ~60 %, mid-chunk
    result = await _upload(yts, sandbox_url, tokens.access_token, Sessions([])).run(source, RESOURCE)
    sessions = (await yts.get("/_sandbox/youtube/uploads")).json()["sessions"]
    assert len(sessions) == 1 and result.sessions == 1
    assert result.resumed_from == [7 * BLOCK]
    assert result.bytes_sent - TOTAL <= 4 * BLOCK  # at most one chunk re-sent
    published = await _published(yts)
    assert len(published) == 1 and published[0]["sha256"] == hashlib.sha256(DATA).hexdigest()


async def test_lost_final_answer_is_found_by_the_probe_not_reuploaded(yts: httpx.AsyncClient, sandbox_url: str) -> None:
    tokens = await login(yts)
    upload = _upload(yts, sandbox_url, tokens.access_token, Sessions([]))
    upload.chunk = TOTAL + BLOCK  # one PUT carries everything, so the lost answer is the final one
    # it completes the video, but its answer is lost (a 503 instead)
    await yts.post("/_sandbox/faults", json={"method": "PUT", "path": "/www.googleapis.com/upload/youtube/v3/videos",
                                             "status": 503, "phase": "after", "count": 1})
    result = await upload.run(source, RESOURCE)
    published = await _published(yts)
    assert len(published) == 1 and published[0]["video_id"] == result.video_id
    assert result.bytes_sent == TOTAL  # the probe said "done": nothing re-sent


async def test_stored_session_is_reused_and_an_expired_one_replaced(yts: httpx.AsyncClient, sandbox_url: str) -> None:
    tokens = await login(yts)
    events: list[str] = []
    sessions = Sessions(events)
    first = _upload(yts, sandbox_url, tokens.access_token, sessions)
    uri = await first.start_session(RESOURCE, True)  # the worker dies right after storing it
    assert sessions.uri == uri
    await yts.post("/_sandbox/clock", json={"advance_seconds": 8 * 86400})
    fresh = await login(yts)
    result = await _upload(yts, sandbox_url, fresh.access_token, sessions).run(source, RESOURCE)
    assert events == ["saved", "dropped", "saved"] and result.sessions == 1
    assert len(await _published(yts)) == 1
    assert len((await yts.get("/_sandbox/youtube/uploads")).json()["sessions"]) == 2  # one at a time


async def test_a_restarted_upload_reuses_the_stored_session(yts: httpx.AsyncClient, sandbox_url: str) -> None:
    tokens = await login(yts)
    sessions = Sessions([])
    uri = await _upload(yts, sandbox_url, tokens.access_token, sessions).start_session(RESOURCE, True)
    result = await _upload(yts, sandbox_url, tokens.access_token, sessions).run(source, RESOURCE)
    uploads = (await yts.get("/_sandbox/youtube/uploads")).json()["sessions"]
    assert len(uploads) == 1 and uploads[0]["upload_id"] in uri and result.sessions == 0
    assert result.resumed_from == [0]
