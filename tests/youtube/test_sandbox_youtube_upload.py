"""The resumable upload endpoint: session URI, 308 + Range, probes, drops, expiry, privacy lock."""

from __future__ import annotations

import hashlib

import httpx

from tests.youtube.sandbox_helpers import UPLOAD_URL, V3, login

BLOCK = 256 * 1024
TOTAL = 5 * BLOCK + 1000


def _file() -> bytes:
    return bytes(range(256)) * (TOTAL // 256) + bytes(TOTAL % 256)


async def _start(yts: httpx.AsyncClient, headers: dict[str, str], **status: object) -> str:
    r = await yts.post(UPLOAD_URL, params={"uploadType": "resumable", "part": "snippet,status"},
                       headers={**headers, "X-Upload-Content-Length": str(TOTAL), "X-Upload-Content-Type": "video/mp4"},
                       json={"snippet": {"title": "Launch", "description": "d", "categoryId": "22"},
                             "status": {"privacyStatus": "public", **status}})
    assert r.status_code == 200, r.text
    return r.headers["location"]


async def _put(yts: httpx.AsyncClient, session: str, data: bytes, start: int) -> httpx.Response:
    end = start + len(data) - 1
    return await yts.put(session, content=data, headers={"Content-Range": f"bytes {start}-{end}/{TOTAL}",
                                                          "Content-Type": "video/mp4"})


async def _probe(yts: httpx.AsyncClient, session: str) -> httpx.Response:
    return await yts.put(session, content=b"", headers={"Content-Range": f"bytes */{TOTAL}"})


async def test_chunks_get_308_with_range_then_200_with_the_video(yts: httpx.AsyncClient) -> None:
    tokens = await login(yts)
    session = await _start(yts, tokens.headers)
    data = _file()
    probe = await _probe(yts, session)
    assert probe.status_code == 308 and "range" not in probe.headers
    r = await _put(yts, session, data[:2 * BLOCK], 0)
    assert r.status_code == 308 and r.headers["range"] == f"bytes=0-{2 * BLOCK - 1}"
    r = await _put(yts, session, data[2 * BLOCK:], 2 * BLOCK)
    assert r.status_code == 200
    video = r.json()
    assert video["status"]["privacyStatus"] == "private"  # unaudited project: locked private
    published = (await yts.get("/_sandbox/youtube/published")).json()["published"]
    assert len(published) == 1 and published[0]["sha256"] == hashlib.sha256(data).hexdigest()
    assert published[0]["privacy_requested"] == "public"
    # asking again after completion answers the same video, never a second one
    again = await _probe(yts, session)
    assert again.status_code == 200 and again.json()["id"] == video["id"]
    assert (await yts.get("/_sandbox/youtube/quota")).json()["inserts_used"] == 1


async def test_audited_project_keeps_the_requested_privacy(yts: httpx.AsyncClient) -> None:
    await yts.post("/_sandbox/youtube/app", json={"audited": True})
    tokens = await login(yts)
    session = await _start(yts, tokens.headers)
    r = await _put(yts, session, _file(), 0)
    assert r.json()["status"]["privacyStatus"] == "public"


async def test_dropped_connection_keeps_whole_blocks_and_resumes(yts: httpx.AsyncClient) -> None:
    tokens = await login(yts)
    session = await _start(yts, tokens.headers)
    data = _file()
    await yts.post("/_sandbox/youtube/uploads/drop", json={"after_bytes": 3 * BLOCK})
    try:
        await _put(yts, session, data, 0)
        raise AssertionError("the connection should have been dropped")
    except httpx.TransportError:
        pass
    probe = await _probe(yts, session)
    assert probe.status_code == 308
    acked = int(probe.headers["range"].split("-")[1]) + 1
    assert acked == 3 * BLOCK
    r = await _put(yts, session, data[acked:], acked)
    assert r.status_code == 200
    assert (await yts.get("/_sandbox/youtube/published")).json()["published"][0]["sha256"] == hashlib.sha256(data).hexdigest()


async def test_unknown_and_expired_sessions(yts: httpx.AsyncClient) -> None:
    tokens = await login(yts)
    session = await _start(yts, tokens.headers)
    gone = await yts.put(str(httpx.URL(session).copy_set_param("upload_id", "nope")), content=b"",
                         headers={"Content-Range": f"bytes */{TOTAL}"})
    assert gone.status_code == 404
    await yts.post("/_sandbox/clock", json={"advance_seconds": 8 * 86400})
    assert (await _probe(yts, session)).status_code == 410


async def test_metadata_is_validated_with_google_reasons(yts: httpx.AsyncClient) -> None:
    tokens = await login(yts)
    cases = [
        ({"snippet": {"title": "x" * 101}}, "invalidTitle"),
        ({"snippet": {"title": "ok", "description": "a <b>"}}, "invalidDescription"),
        ({"snippet": {"title": "ok", "categoryId": "999"}}, "invalidCategoryId"),
        ({"snippet": {"title": "ok"}, "status": {"privacyStatus": "public", "publishAt": "2027-01-01T00:00:00Z"}}, "invalidPublishAt"),
    ]
    for body, reason in cases:
        r = await yts.post(UPLOAD_URL, params={"uploadType": "resumable", "part": "snippet,status"},
                           headers={**tokens.headers, "X-Upload-Content-Length": "10"}, json=body)
        assert r.status_code == 400 and r.json()["error"]["errors"][0]["reason"] == reason


async def test_thumbnail_needs_a_verified_channel(yts: httpx.AsyncClient) -> None:
    tokens = await login(yts)
    jpeg = b"\xff\xd8" + b"\0" * 100
    ok = await yts.post("/www.googleapis.com/upload/youtube/v3/thumbnails/set", params={"videoId": "vidc0000001"},
                        content=jpeg, headers=tokens.headers)
    assert ok.status_code == 200
    hidden = await login(yts, "yt_hidden")
    r = await yts.post("/www.googleapis.com/upload/youtube/v3/thumbnails/set", params={"videoId": "vidh0000001"},
                       content=jpeg, headers=hidden.headers)
    assert r.status_code == 403 and r.json()["error"]["errors"][0]["reason"] == "forbidden"


async def test_upload_needs_the_upload_scope(yts: httpx.AsyncClient) -> None:
    from tests.youtube.sandbox_helpers import READONLY  # noqa: PLC0415

    tokens = await login(yts, granted=READONLY)
    r = await yts.post(UPLOAD_URL, params={"uploadType": "resumable", "part": "snippet"},
                       headers={**tokens.headers, "X-Upload-Content-Length": "10"}, json={"snippet": {"title": "a"}})
    assert r.status_code == 403
    _ = V3
