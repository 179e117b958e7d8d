"""Analytics reports (column order, omitted rows, lag) and the WebSub hub (verification,
signed pushes on uploads and deletions, 503s) in the sandbox."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import httpx
from aiohttp import web

from tests.conftest import serve
from tests.youtube.sandbox_helpers import READONLY, REPORTS, login

CHANNEL = "UCsandboxcreator000000001"
TOPIC = f"https://www.youtube.com/xml/feeds/videos.xml?channel_id={CHANNEL}"


async def _today(yts: httpx.AsyncClient) -> datetime:
    return datetime.fromtimestamp((await yts.get("/_sandbox/clock")).json()["now"], UTC)


async def test_columns_follow_the_request_order(yts: httpx.AsyncClient) -> None:
    tokens = await login(yts)
    today = await _today(yts)
    r = await yts.get(REPORTS, headers=tokens.headers, params={
        "ids": "channel==MINE", "startDate": (today - timedelta(days=10)).date().isoformat(),
        "endDate": today.date().isoformat(), "metrics": "averageViewDuration,views,likes",
        "dimensions": "day", "sort": "day"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [c["name"] for c in body["columnHeaders"]] == ["day", "averageViewDuration", "views", "likes"]
    days = [row[0] for row in body["rows"]]
    # 48-72 h lag: the last three days are not there yet
    assert days[-1] == (today - timedelta(days=3)).date().isoformat() and len(days) == 8
    assert all(row[2] >= row[3] for row in body["rows"])


async def test_rows_are_omitted_when_there_is_no_data(yts: httpx.AsyncClient) -> None:
    tokens = await login(yts)
    today = (await _today(yts)).date().isoformat()
    r = await yts.get(REPORTS, headers=tokens.headers, params={
        "ids": "channel==MINE", "startDate": today, "endDate": today, "metrics": "views", "dimensions": "day"})
    assert r.status_code == 200 and "rows" not in r.json()
    demo = await yts.get(REPORTS, headers=tokens.headers, params={
        "ids": "channel==MINE", "startDate": "2026-01-01", "endDate": "2026-06-30",
        "metrics": "viewerPercentage", "dimensions": "ageGroup,gender"})
    rows = demo.json()["rows"]
    assert rows[0][:2] == ["age13-17", "female"] and abs(sum(r[2] for r in rows) - 100) < 0.5


async def test_unsupported_queries_and_scopes(yts: httpx.AsyncClient) -> None:
    tokens = await login(yts)
    r = await yts.get(REPORTS, headers=tokens.headers, params={
        "ids": "channel==MINE", "startDate": "2026-01-01", "endDate": "2026-01-31",
        "metrics": "views", "dimensions": "ageGroup,gender"})
    assert r.status_code == 400 and r.json()["error"]["message"] == "The query is not supported."
    readonly_only = await login(yts, "yt_hidden", granted=READONLY)
    r = await yts.get(REPORTS, headers=readonly_only.headers, params={
        "ids": "channel==MINE", "startDate": "2026-01-01", "endDate": "2026-01-31", "metrics": "views"})
    assert r.status_code == 403


class Callback:
    """A WebSub subscriber: answers verification for the topics it wants, keeps the pushes."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.wanted: set[str] = set()
        self.pushes: list[tuple[bytes, str | None]] = []
        self.verifications: list[dict[str, str]] = []
        self.app = web.Application()
        self.app.router.add_get("/cb", self.verify)
        self.app.router.add_post("/cb", self.push)

    async def verify(self, request: web.Request) -> web.Response:
        self.verifications.append(dict(request.query))
        if request.query.get("hub.topic") in self.wanted:
            return web.Response(text=request.query["hub.challenge"])
        return web.Response(status=404)

    async def push(self, request: web.Request) -> web.Response:
        self.pushes.append((await request.read(), request.headers.get("X-Hub-Signature")))
        return web.Response(status=204)


async def _until(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_hub_verifies_then_pushes_signed_uploads_and_tombstones(yts: httpx.AsyncClient) -> None:
    callback = Callback("s3cret")
    runner, url = await serve(callback.app)
    try:
        callback.wanted.add(TOPIC)
        form = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.callback": url + "/cb",
                "hub.secret": "s3cret", "hub.lease_seconds": "999999"}
        r = await yts.post("/pubsubhubbub.appspot.com/subscribe", data=form)
        assert r.status_code == 202
        await _until(lambda: (callback.verifications != []))
        assert callback.verifications[0]["hub.lease_seconds"] == "432000"
        for _ in range(40):
            hub = (await yts.get("/_sandbox/youtube/hub")).json()
            if hub["subscriptions"]:
                break
            await asyncio.sleep(0.05)
        assert hub["subscriptions"][0]["verified"] is True
        added = await yts.post("/_sandbox/youtube/videos", json={"channel": "yt_creator", "title": "New one"})
        video_id = added.json()["id"]
        await _until(lambda: len(callback.pushes) == 1)
        body, signature = callback.pushes[0]
        assert f"<yt:videoId>{video_id}</yt:videoId>".encode() in body
        assert signature == "sha1=" + hmac.new(b"s3cret", body, hashlib.sha1).hexdigest()
        await yts.delete(f"/_sandbox/youtube/videos/{video_id}")
        await _until(lambda: len(callback.pushes) == 2)
        assert b"at:deleted-entry" in callback.pushes[1][0] and f"yt:video:{video_id}".encode() in callback.pushes[1][0]
        wrong = (await yts.post("/_sandbox/youtube/push", json={"video_id": "vidc0000001", "signature": "wrong"})).json()
        assert wrong["statuses"] == [204]
        assert callback.pushes[2][1] != "sha1=" + hmac.new(b"s3cret", callback.pushes[2][0], hashlib.sha1).hexdigest()
    finally:
        await runner.cleanup()


async def test_hub_refuses_unverified_intent_and_fails_with_503(yts: httpx.AsyncClient) -> None:
    callback = Callback("x")
    runner, url = await serve(callback.app)
    try:
        form = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.callback": url + "/cb", "hub.verify": "sync"}
        r = await yts.post("/pubsubhubbub.appspot.com/subscribe", data=form)
        assert r.status_code == 409  # the callback did not echo: no subscription
        assert (await yts.get("/_sandbox/youtube/hub")).json()["subscriptions"] == []
        await yts.post("/_sandbox/youtube/hub/failures", json={"count": 1, "retry_after": 120})
        r = await yts.post("/pubsubhubbub.appspot.com/subscribe", data=form)
        assert r.status_code == 503 and r.headers["retry-after"] == "120"
        bad = await yts.post("/pubsubhubbub.appspot.com/subscribe", data={**form, "hub.topic": "https://evil.example/feed"})
        assert bad.status_code == 400
    finally:
        await runner.cleanup()
