"""WebSub (PubSubHubbub) push for YouTube channel feeds (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §10).

- `subscribe` / `unsubscribe`: form POST to the hub with a per-account callback, a secret and a
  lease; the hub's 503 + Retry-After becomes `HubUnavailable` (back off, keep polling).
- `verify_intent`: the hub's verification GET is answered only for the topic and mode we asked.
- `signature_ok`: ``X-Hub-Signature: sha1=HMAC(secret, raw body)`` in constant time.
- `parse_feed`: the Atom body -> new/updated video ids and deleted ids (tombstones); parsed with
  defusedxml (no entity expansion from a body anyone can POST).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

import httpx
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from socialsync.platforms.youtube.client import Endpoints

TOPIC = "https://www.youtube.com/xml/feeds/videos.xml?channel_id={}"
ATOM = "{http://www.w3.org/2005/Atom}"
YT = "{http://www.youtube.com/xml/schemas/2015}"
TOMBSTONE = "{http://purl.org/atompub/tombstones/1.0}deleted-entry"
MAX_BODY = 256 * 1024


class HubUnavailable(Exception):
    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"hub answered {status}")
        self.status, self.retry_after = status, retry_after


def topic_for(channel_id: str) -> str:
    return TOPIC.format(channel_id)


async def _hub(http: httpx.AsyncClient, endpoints: Endpoints, form: dict[str, str]) -> int:
    try:
        response = await http.post(endpoints.hub + "/subscribe", data=form)
    except httpx.TransportError as exc:
        raise HubUnavailable(0, None) from exc
    if response.status_code >= 500 or response.status_code == 429:
        try:
            retry = float(response.headers.get("Retry-After", ""))
        except ValueError:
            retry = None
        raise HubUnavailable(response.status_code, retry)
    return response.status_code


async def subscribe(http: httpx.AsyncClient, endpoints: Endpoints, *, channel_id: str, callback: str,
                    secret: str, lease_seconds: int) -> int:
    """202 (async verification follows) or 204; other 4xx are returned for the caller to record."""
    return await _hub(http, endpoints, {
        "hub.mode": "subscribe", "hub.topic": topic_for(channel_id), "hub.callback": callback,
        "hub.verify": "async", "hub.secret": secret, "hub.lease_seconds": str(lease_seconds),
    })


async def unsubscribe(http: httpx.AsyncClient, endpoints: Endpoints, *, channel_id: str, callback: str) -> int:
    return await _hub(http, endpoints, {
        "hub.mode": "unsubscribe", "hub.topic": topic_for(channel_id), "hub.callback": callback,
        "hub.verify": "async",
    })


def verify_intent(query: dict[str, str], *, channel_id: str, wanted_mode: str | None) -> str | None:
    """The challenge to echo, or None (answer 404) when this is not a subscription we asked for."""
    if wanted_mode is None or query.get("hub.mode") != wanted_mode:
        return None
    if query.get("hub.topic") != topic_for(channel_id):
        return None
    challenge = query.get("hub.challenge")
    return challenge if challenge and len(challenge) <= 512 else None


def sign(secret: str, body: bytes) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha1="):
        return False
    # Bytes, not str: compare_digest raises TypeError on non-ASCII text (a 500, not a refusal).
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode("utf-8", "replace"))


@dataclass
class FeedChange:
    videos: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    channel_ids: set[str] = field(default_factory=set)


class BadFeed(ValueError):
    pass


def parse_feed(body: bytes) -> FeedChange:
    if len(body) > MAX_BODY:
        raise BadFeed("feed too large")
    try:
        root = ElementTree.fromstring(body)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise BadFeed(str(exc)) from exc
    change = FeedChange()
    for entry in root.iter(ATOM + "entry"):
        video = entry.findtext(YT + "videoId")
        channel = entry.findtext(YT + "channelId")
        if video:
            change.videos.append(video.strip())
        if channel:
            change.channel_ids.add(channel.strip())
    for gone in root.iter(TOMBSTONE):
        ref = gone.get("ref", "")
        if ref.startswith("yt:video:"):
            change.deleted.append(ref[len("yt:video:"):])
        uri = gone.findtext("{http://purl.org/atompub/tombstones/1.0}by/" + ATOM + "uri") or ""
        if "/channel/" in uri:
            change.channel_ids.add(uri.rsplit("/channel/", 1)[1].strip())
    return change


def callback_token(key: bytes, channel_id: str) -> str:
    """``<channel id>.<mac>``: the per-account callback path segment. Stateless: only we can
    make one, so a verification GET for a token we did not hand out is refused."""
    mac = hmac.new(key, b"websub-callback:" + channel_id.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{channel_id}.{mac}"


def channel_of_token(key: bytes, token: str) -> str | None:
    channel_id, _, mac = token.rpartition(".")
    if not channel_id or not hmac.compare_digest(
        callback_token(key, channel_id).encode("utf-8", "replace"), token.encode("utf-8", "replace")
    ):
        return None
    return channel_id


def secret_for(key: bytes, channel_id: str) -> str:
    """The ``hub.secret`` of one channel's subscription, derived (never stored, never logged)."""
    return hmac.new(key, b"websub-secret:" + channel_id.encode(), hashlib.sha256).hexdigest()
