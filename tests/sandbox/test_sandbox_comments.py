"""The sandbox's comment endpoints, subscriptions, webhook sender and signed_request generator."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx
from aiohttp import web

G = "/graph.instagram.com/v24.0"


async def token(http: httpx.AsyncClient, username: str = "sandbox_creator") -> str:
    r = await http.post("/_sandbox/tokens", json={"username": username, "kind": "ig_long"})
    return r.json()["access_token"]


async def media_with_comment(http: httpx.AsyncClient) -> tuple[str, str]:
    media = (await http.post("/_sandbox/media/seed", json={"account": "sandbox_creator", "count": 1})).json()["media"][0]
    comment = (await http.post("/_sandbox/comments", json={"media_id": media, "text": "hi", "deliver": False})).json()["id"]
    return media, comment


async def test_replies_only_to_visible_top_level_comments(http: httpx.AsyncClient) -> None:
    t = await token(http)
    media, comment = await media_with_comment(http)
    reply = (await http.post(f"{G}/{comment}/replies", params={"message": "thanks", "access_token": t})).json()["id"]
    again = await http.post(f"{G}/{reply}/replies", params={"message": "nested", "access_token": t})
    assert again.status_code == 400 and again.json()["error"]["code"] == 100
    assert (await http.post(f"{G}/{comment}", params={"hide": "true", "access_token": t})).json() == {"success": True}
    hidden = await http.post(f"{G}/{comment}/replies", params={"message": "x", "access_token": t})
    assert hidden.status_code == 400
    listed = (await http.get(f"{G}/{media}/comments", params={"fields": "id,text,hidden,replies{id,text,from}", "access_token": t})).json()
    assert listed["data"][0]["hidden"] is True and listed["data"][0]["replies"]["data"][0]["text"] == "thanks"


async def test_delete_and_other_accounts_cannot_see_the_comment(http: httpx.AsyncClient) -> None:
    t = await token(http)
    other = await token(http, "sandbox_newbie")
    media, comment = await media_with_comment(http)
    assert (await http.get(f"{G}/{comment}", params={"access_token": other})).json()["error"]["code"] == 100
    assert (await http.delete(f"{G}/{comment}", params={"access_token": t})).json() == {"success": True}
    gone = await http.get(f"{G}/{comment}", params={"access_token": t})
    assert gone.status_code == 400 and gone.json()["error"]["error_subcode"] == 33
    # a media id still reads as media (falls through to the media routes)
    assert (await http.get(f"{G}/{media}", params={"fields": "id", "access_token": t})).json()["id"] == media


async def test_subscribed_apps_round_trip(http: httpx.AsyncClient) -> None:
    t = await token(http)
    r = await http.post(f"{G}/me/subscribed_apps", params={"subscribed_fields": "comments,mentions", "access_token": t})
    assert r.json() == {"success": True}
    assert (await http.get(f"{G}/me/subscribed_apps", params={"access_token": t})).json()["data"][0]["subscribed_fields"] == ["comments", "mentions"]
    bad = await http.post(f"{G}/me/subscribed_apps", params={"subscribed_fields": "nope", "access_token": t})
    assert bad.status_code == 400
    await http.delete(f"{G}/me/subscribed_apps", params={"access_token": t})
    assert (await http.get(f"{G}/me/subscribed_apps", params={"access_token": t})).json()["data"] == []


async def test_sender_signs_like_meta_batches_and_duplicates(http: httpx.AsyncClient) -> None:
    got: list[tuple[str, bytes]] = []

    async def receive(request: web.Request) -> web.Response:
        got.append((request.headers.get("X-Hub-Signature-256", ""), await request.read()))
        return web.Response(status=500 if len(got) == 1 else 200)

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001
    try:
        changes = [{"account": "sandbox_creator", "field": "comments", "value": {"id": str(i)}} for i in range(3)]
        r = await http.post("/_sandbox/webhooks/send", json={"url": f"http://127.0.0.1:{port}/hook", "changes": changes, "retries": 2, "duplicates": 2, "app": "instagram"})
        posts = r.json()["posts"]
        assert posts[0]["statuses"] == [500, 200] and posts[1]["statuses"] == [200]
        assert len(got) == 3 and got[1][1] == got[2][1]
        sig, body = got[1]
        assert sig == "sha256=" + hmac.new(b"sandbox-ig-secret", body, hashlib.sha256).hexdigest()
        entry = json.loads(body)["entry"]
        assert len(entry) == 1 and entry[0]["id"] == "17841400000000101" and len(entry[0]["changes"]) == 3
    finally:
        await runner.cleanup()


async def test_signed_request_generator_signs_the_payload_segment(http: httpx.AsyncClient) -> None:
    value = (await http.post("/_sandbox/signed_request", json={"user_id": "123"})).json()["signed_request"]
    sig, body = value.split(".")
    expected = hmac.new(b"sandbox-meta-secret", body.encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)) == expected
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert payload["algorithm"] == "HMAC-SHA256" and payload["user_id"] == "123"
