"""The sandbox's webhook sender signs like TikTok, and publishes send post.publish.* events."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time

from aiohttp import web
from tiktok_driver import CLIENT_SECRET, TikTok

from tests.conftest import serve


class Receiver:
    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.got.append((dict(request.headers), await request.read()))
        return web.Response(text="ok")

    def verified(self, index: int) -> bool:
        headers, body = self.got[index]
        parts = dict(p.split("=", 1) for p in headers["TikTok-Signature"].split(","))
        mac = hmac.new(CLIENT_SECRET.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(mac, parts["s"]) and abs(time.time() - int(parts["t"])) < 300


async def start_receiver() -> tuple[Receiver, web.AppRunner, str]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner, url = await serve(app)
    return receiver, runner, url + "/hook"


async def test_sender_signs_t_dot_raw_body_with_the_client_secret(tt: TikTok) -> None:
    receiver, runner, url = await start_receiver()
    try:
        await tt.control("webhooks/send", {"url": url, "event": "authorization.removed", "content": {"reason": 1}})
        await tt.control("webhooks/send", {"url": url, "signature": "wrong_key"})
        await tt.control("webhooks/send", {"url": url, "signature": "stale"})
        await tt.control("webhooks/send", {"url": url, "signature": "missing"})
    finally:
        await runner.cleanup()
    body = json.loads(receiver.got[0][1])
    assert body["user_openid"] == "afd97af1-b87b-48b9-ac98-410a9c0d5301"
    assert json.loads(body["content"]) == {"reason": 1}  # a JSON string inside the JSON
    assert receiver.verified(0)
    assert not receiver.verified(1) and not receiver.verified(2)
    assert "TikTok-Signature" not in receiver.got[3][0]


async def test_deauthorize_revokes_first_then_sends_authorization_removed(tt: TikTok) -> None:
    receiver, runner, url = await start_receiver()
    token = (await tt.tokens())["access_token"]
    try:
        await tt.control("webhooks/config", {"url": url})
        out = await tt.control("deauthorize", {"account": "tt_creator", "reason": 4})
    finally:
        await runner.cleanup()
    assert out["revoked"] == 1 and receiver.verified(0)
    assert json.loads(json.loads(receiver.got[0][1])["content"]) == {"reason": 4}
    dead = await tt.api("GET", "/v2/user/info/", token, params={"fields": "open_id"})
    assert dead.status_code == 401


async def test_a_publish_sends_complete_then_publicly_available(tt: TikTok) -> None:
    await tt.control("limits", {"processing_min_seconds": 0, "processing_max_seconds": 0,
                                "moderation_min_seconds": 0, "moderation_max_seconds": 0})
    receiver, runner, url = await start_receiver()
    token = (await tt.tokens())["access_token"]
    try:
        await tt.control("webhooks/config", {"url": url})
        body = {"media_type": "PHOTO", "post_mode": "DIRECT_POST",
                "post_info": {"title": "pics", "privacy_level": "PUBLIC_TO_EVERYONE"},
                "source_info": {"source": "PULL_FROM_URL", "photo_images": ["https://cdn.crm.example.com/1.jpg"]}}
        r = await tt.api("POST", "/v2/post/publish/content/init/", token, json=body)
        pid = r.json()["data"]["publish_id"]
        for _ in range(50):
            if len(receiver.got) >= 2:
                break
            await asyncio.sleep(0.1)
    finally:
        await runner.cleanup()
    events = [json.loads(b) for _, b in receiver.got]
    assert [e["event"] for e in events] == ["post.publish.complete", "post.publish.publicly_available"]
    assert json.loads(events[1]["content"])["publish_id"] == pid
    assert json.loads(events[1]["content"])["post_id"].isdigit()
