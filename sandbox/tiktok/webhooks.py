"""Webhooks the way TikTok sends them (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §4).

Body ``{"client_key", "event", "create_time", "user_openid", "content"}`` where ``content`` is a
JSON *string*; header ``TikTok-Signature: t=<unix>,s=<hex HMAC-SHA256(client_secret,
t + "." + raw body)>``. Abuse variants for tests: missing, wrong (over other bytes), wrong_key,
stale (``t`` ten minutes old, correctly signed), reserialized (signed over re-dumped JSON).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, Literal

import aiohttp
from aiohttp import web

from sandbox.context import SANDBOX_KEY, Sandbox
from sandbox.tiktok.timeline import advance, webhook_content
from sandbox.tiktok.world import CLIENT_KEY, CLIENT_SECRET, TikTokWorld, world_of

log = logging.getLogger("sandbox.tiktok")
Signature = Literal["valid", "missing", "wrong", "wrong_key", "stale", "reserialized"]
MAX_LOG = 200
TICK_SECONDS = 0.2


def sign(body: bytes, t: int, secret: str = CLIENT_SECRET) -> str:
    mac = hmac.new(secret.encode(), str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={t},s={mac}"


def event_body(w: TikTokWorld, event: str, open_id: str, content: dict[str, Any] | str) -> bytes:
    payload = {
        "client_key": CLIENT_KEY,
        "event": event,
        "create_time": int(w.clock.now()),
        "user_openid": open_id,
        "content": content if isinstance(content, str) else json.dumps(content),
    }
    return json.dumps(payload).encode()


def signature_header(w: TikTokWorld, body: bytes, signature: Signature) -> str | None:
    now = int(w.clock.now())
    if signature == "missing":
        return None
    if signature == "wrong":
        return sign(body + b" ", now)
    if signature == "wrong_key":
        return sign(body, now, "not-the-client-secret")
    if signature == "stale":
        return sign(body, now - 600)
    if signature == "reserialized":
        return sign(json.dumps(json.loads(body), separators=(",", ":"), sort_keys=True).encode(), now)
    return sign(body, now)


async def deliver(
    w: TikTokWorld, url: str, body: bytes, *, signature: Signature = "valid", duplicates: int = 1
) -> list[dict[str, Any]]:
    """POST one body (``duplicates`` times: TikTok delivers at least once); logged in the world."""
    headers = {"Content-Type": "application/json", "User-Agent": "TikTok-Webhook"}
    header = signature_header(w, body, signature)
    if header is not None:
        headers["TikTok-Signature"] = header
    results = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        for _ in range(duplicates):
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    status: int | str = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                status = type(exc).__name__
            result = {"status": status, "event": json.loads(body).get("event"), "bytes": len(body)}
            results.append(result)
            w.deliveries.append(result)
    del w.deliveries[:-MAX_LOG]
    return results


async def tick(sandbox: Sandbox) -> None:
    """Move every unfinished publish up to the clock and send the webhooks its moves produced."""
    w = world_of(sandbox)
    for publish in list(w.publishes.values()):
        if publish.status not in ("FAILED",) and not publish.post_ids:
            advance(w, publish)
        while publish.pending_events:
            event = publish.pending_events.pop(0)
            publish.events_sent.append(event)
            if w.receiver_url and w.limits.webhooks_on_publish:
                body = event_body(w, event, publish.open_id, webhook_content(publish, event))
                await deliver(w, w.receiver_url, body)


async def ticker(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the publish ticker runs as long as the sandbox serves."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                await tick(app[SANDBOX_KEY])
            except Exception:  # noqa: BLE001 - the ticker must outlive one bad tick
                log.exception("tiktok publish tick failed")

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
