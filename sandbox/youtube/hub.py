"""The WebSub hub (``pubsubhubbub.appspot.com``) for YouTube channel feeds.

``POST /subscribe`` (form: ``hub.mode``, ``hub.topic``, ``hub.callback``, ``hub.verify``,
``hub.secret``, ``hub.lease_seconds``) answers 202 and verifies the intent with a GET to the
callback (``hub.challenge`` must come back as the body), or verifies inline for
``hub.verify=sync`` (204). Leases are capped at 5 days. New public uploads and deletions are
POSTed as Atom to every verified, unexpired subscription of the channel, signed
``X-Hub-Signature: sha1=HMAC(secret, body)``. Queued 503s (``retry-after``) model the hub's
transient failures.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from typing import Any, Literal

import aiohttp
from aiohttp import web
from yarl import URL

from sandbox.youtube.access import rfc3339, yt_of
from sandbox.youtube.model import HubSubscription, Video
from sandbox.youtube.state import HubDelivery, YouTubeState

routes = web.RouteTableDef()
TOPIC = "https://www.youtube.com/xml/feeds/videos.xml"
MAX_LEASE = 432000
Signature = Literal["valid", "wrong", "missing"]
_tasks: set[asyncio.Task[Any]] = set()


def topic_channel(topic: str) -> str | None:
    try:
        url = URL(topic)
    except ValueError:
        return None
    if str(url.with_query(None)) != TOPIC:
        return None
    return url.query.get("channel_id")


def _spawn(coro: Any) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _verify(yt: YouTubeState, mode: str, callback: str, topic: str, lease: int) -> bool:
    challenge = secrets.token_urlsafe(24)
    params = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
    if mode == "subscribe":
        params["hub.lease_seconds"] = str(lease)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.get(URL(callback).update_query(params)) as response:
                body = await response.text()
                return 200 <= response.status < 300 and body == challenge
    except (aiohttp.ClientError, TimeoutError):
        return False


async def _apply(yt: YouTubeState, mode: str, callback: str, topic: str, channel_id: str,
                 secret: str | None, lease: int) -> bool:
    ok = await _verify(yt, mode, callback, topic, lease)
    if not ok:
        return False
    if mode == "subscribe":
        yt.subscriptions[(callback, topic)] = HubSubscription(
            callback, topic, channel_id, secret, lease, yt.clock.now() + lease, verified=True)
    else:
        yt.subscriptions.pop((callback, topic), None)
    return True


@routes.post("/subscribe")
async def subscribe(request: web.Request) -> web.Response:
    yt = yt_of(request)
    if yt.hub_failures:
        retry_after = yt.hub_failures.pop(0)
        return web.Response(status=503, text="Transient error; please try again later",
                            headers={"Retry-After": str(retry_after)})
    form = await request.post()
    mode = str(form.get("hub.mode", ""))
    topic = str(form.get("hub.topic", ""))
    callback = str(form.get("hub.callback", ""))
    if mode not in ("subscribe", "unsubscribe"):
        return web.Response(status=400, text="Invalid value for hub.mode")
    channel_id = topic_channel(topic)
    if channel_id is None:
        return web.Response(status=400, text="Invalid value for hub.topic")
    try:
        url = URL(callback)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(callback)
    except ValueError:
        return web.Response(status=400, text="Invalid value for hub.callback")
    try:
        lease = min(int(str(form.get("hub.lease_seconds", MAX_LEASE))), MAX_LEASE)
    except ValueError:
        return web.Response(status=400, text="Invalid value for hub.lease_seconds")
    secret = str(form["hub.secret"]) if form.get("hub.secret") else None
    if secret is not None and len(secret.encode()) >= 200:
        return web.Response(status=400, text="Invalid value for hub.secret")
    if form.get("hub.verify") == "sync":
        ok = await _apply(yt, mode, callback, topic, channel_id, secret, lease)
        return web.Response(status=204) if ok else web.Response(status=409, text="Verification failed")
    _spawn(_apply(yt, mode, callback, topic, channel_id, secret, lease))
    return web.Response(status=202)


def atom_entry(video: Video, channel_title: str) -> str:
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns="http://www.w3.org/2005/Atom">
 <link rel="hub" href="https://pubsubhubbub.appspot.com"/>
 <link rel="self" href="{TOPIC}?channel_id={video.channel_id}"/>
 <title>YouTube video feed</title>
 <updated>{rfc3339(video.published_at)[:-1]}.552394234+00:00</updated>
 <entry>
  <id>yt:video:{video.video_id}</id>
  <yt:videoId>{video.video_id}</yt:videoId>
  <yt:channelId>{video.channel_id}</yt:channelId>
  <title>{_xml(video.title)}</title>
  <link rel="alternate" href="http://www.youtube.com/watch?v={video.video_id}"/>
  <author><name>{_xml(channel_title)}</name><uri>http://www.youtube.com/channel/{video.channel_id}</uri></author>
  <published>{rfc3339(video.published_at)[:-1]}+00:00</published>
  <updated>{rfc3339(video.published_at)[:-1]}.552394234+00:00</updated>
 </entry>
</feed>
"""


def atom_tombstone(video_id: str, channel_id: str, when: float) -> str:
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:at="http://purl.org/atompub/tombstones/1.0" xmlns="http://www.w3.org/2005/Atom">
 <at:deleted-entry ref="yt:video:{video_id}" when="{rfc3339(when)[:-1]}+00:00">
  <link href="https://www.youtube.com/watch?v={video_id}"/>
  <at:by><name>channel</name><uri>https://www.youtube.com/channel/{channel_id}</uri></at:by>
 </at:deleted-entry>
</feed>
"""


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sign(secret: str, body: bytes) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


async def deliver(yt: YouTubeState, sub: HubSubscription, body: bytes, kind: str, video_id: str,
                  signature: Signature = "valid") -> int | str:
    headers = {"Content-Type": "application/atom+xml", "User-Agent": "FeedFetcher-Google"}
    if sub.secret and signature != "missing":
        headers["X-Hub-Signature"] = sign(sub.secret, body if signature == "valid" else body + b" ")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.post(sub.callback, data=body, headers=headers) as response:
                await response.read()
                status: int | str = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        status = type(exc).__name__
    yt.hub_deliveries.append(HubDelivery(sub.callback, kind, video_id, status, yt.clock.now()))
    return status


def push_body(yt: YouTubeState, video: Video, *, deleted: bool) -> bytes:
    if deleted:
        return atom_tombstone(video.video_id, video.channel_id, yt.clock.now()).encode()
    return atom_entry(video, yt.channels[video.channel_id].title).encode()


def push_video(yt: YouTubeState, video: Video, *, deleted: bool) -> None:
    """Notify every subscription of the channel, in the background (like the real hub)."""
    body = push_body(yt, video, deleted=deleted)
    kind = "deleted" if deleted else "video"
    for sub in yt.subscriptions_for(video.channel_id):
        _spawn(deliver(yt, sub, body, kind, video.video_id))
