"""WebSub end to end against the sandbox hub, with the plugin answering on a real HTTP callback:
subscribe (503 from the hub is surfaced for back-off), verification answered only for our own
subscription, signed push verified, a forged one refused, the push's sync within 3 units."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiohttp import web

from socialsync.platforms.base import InboundRequest, MediaRecord
from socialsync.platforms.youtube import websub
from socialsync.platforms.youtube.plugin import YouTubePlatform
from tests.conftest import serve
from tests.youtube.sandbox_helpers import units_used
from tests.youtube.test_youtube_plugin import Context, _connect, _drain, plugin  # noqa: F401 - fixture


class Receiver:
    """What the core's /webhooks/youtube/{token} does with the plugin's inbound part."""

    def __init__(self, plugin: YouTubePlatform) -> None:
        self.plugin = plugin
        self.kept: list[bytes] = []
        self.dropped = 0
        self.app = web.Application()
        self.app.router.add_route("*", "/webhooks/youtube/{token}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        inbound = InboundRequest(request.method, dict(request.query), dict(request.headers), await request.read(),
                                 path_params=dict(request.match_info))
        if request.method == "GET":
            answer = self.plugin.inbound.handshake(inbound)  # type: ignore[union-attr]
            return web.Response(status=answer.status, text=answer.body, content_type=answer.content_type)
        if not self.plugin.inbound.verify(inbound, datetime.now(UTC)):  # type: ignore[union-attr]
            self.dropped += 1  # acknowledged and dropped (WebSub wants a 2xx)
            return web.Response(status=202)
        self.kept.append(inbound.body)
        return web.Response(status=202)


async def _until(check: Any, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_push_flow(yts: httpx.AsyncClient, plugin: YouTubePlatform) -> None:
    account = await _connect(yts, plugin)
    receiver = Receiver(plugin)
    runner, url = await serve(receiver.app)
    try:
        await yts.post("/_sandbox/youtube/hub/failures", json={"count": 1, "retry_after": 120})
        with pytest.raises(websub.HubUnavailable) as busy:
            await plugin.inbound.subscribe(account.external_id, url)  # type: ignore[union-attr]
        assert busy.value.status == 503 and busy.value.retry_after == 120
        assert await plugin.inbound.subscribe(account.external_id, url) == 202  # type: ignore[union-attr]
        hub: dict[str, Any] = {}

        async def subscribed() -> bool:
            nonlocal hub
            hub = (await yts.get("/_sandbox/youtube/hub")).json()
            return bool(hub["subscriptions"])

        for _ in range(100):
            if await subscribed():
                break
            await asyncio.sleep(0.05)
        assert hub["subscriptions"][0]["verified"] and hub["subscriptions"][0]["has_secret"]
        # an intent for a topic we never asked about gets a 404 from our callback
        stranger = await httpx.AsyncClient().get(url + plugin.inbound.callback_path(account.external_id), params={  # type: ignore[union-attr]
            "hub.mode": "subscribe", "hub.topic": websub.topic_for("UCsomeoneelse00000000001"), "hub.challenge": "x"})
        assert stranger.status_code == 404
        stored_state = {"recent": [[f"vidc{i:07d}", ""] for i in range(1, 51)],
                        "uploads_playlist_id": account.extra["uploads_playlist_id"]}
        added = (await yts.post("/_sandbox/youtube/videos", json={"channel": "yt_creator", "title": "Pushed"})).json()["id"]
        await _until(lambda: len(receiver.kept) == 1)
        [change] = plugin.inbound.normalize(receiver.kept[0])  # type: ignore[union-attr]
        assert change.data == {"media_id": added, "deleted": False}
        forged = await yts.post("/_sandbox/youtube/push", json={"video_id": added, "signature": "wrong"})
        assert forged.json()["statuses"] == [202] and receiver.dropped == 1 and len(receiver.kept) == 1
        before = await units_used(yts)
        records, _ = await _drain(plugin, account, "videos_new", stored_state)  # the push's sync kind
        assert added in {r.platform_id for r in records if isinstance(r, MediaRecord)}
        assert await units_used(yts) - before <= 3
    finally:
        await runner.cleanup()


async def test_disconnect_revokes_at_google_and_unsubscribes(yts: httpx.AsyncClient, plugin: YouTubePlatform) -> None:
    from tests.youtube.sandbox_helpers import refresh  # noqa: PLC0415

    account = await _connect(yts, plugin)
    receiver = Receiver(plugin)
    runner, url = await serve(receiver.app)
    try:
        plugin.parts.settings.public_url = url  # type: ignore[attr-defined]  # the callback base
        assert await plugin.inbound.subscribe(account.external_id, url) == 202  # type: ignore[union-attr]
        for _ in range(100):
            if (await yts.get("/_sandbox/youtube/hub")).json()["subscriptions"]:
                break
            await asyncio.sleep(0.05)
        await plugin.privacy.revoke(account)  # type: ignore[union-attr]
        dead = await refresh(yts, account.credentials.refresh_token or "")
        assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"
        for _ in range(100):
            if not (await yts.get("/_sandbox/youtube/hub")).json()["subscriptions"]:
                break
            await asyncio.sleep(0.05)
        assert (await yts.get("/_sandbox/youtube/hub")).json()["subscriptions"] == []
    finally:
        await runner.cleanup()
