"""Control calls for the TikTok part, under ``/_sandbox/tiktok/`` (JSON, loopback only).

| call | body / answer |
|---|---|
| ``GET /_sandbox/tiktok/accounts`` | the seeded users with open_ids |
| ``GET/POST /_sandbox/tiktok/limits`` | any ``Limits`` field → the limits |
| ``GET /_sandbox/tiktok/publishes?account=`` | the publish log |
| ``POST /_sandbox/tiktok/fail_next`` | ``{account, fail_reason, count?}``: next publishes FAIL |
| ``POST /_sandbox/tiktok/videos`` | ``{account, count}``: new public videos, newest now |
| ``POST /_sandbox/tiktok/videos/bump`` | ``{account, views?, likes?}``: every video's counts grow |
| ``POST /_sandbox/tiktok/tokens`` | ``{account, scopes?}`` → a fresh token pair (no dialog) |
| ``POST /_sandbox/tiktok/deauthorize`` | ``{account, reason?, deliver?}``: revoke + ``authorization.removed`` |
| ``GET/POST /_sandbox/tiktok/webhooks/config`` | ``{url}`` where events go; ``GET`` adds deliveries |
| ``POST /_sandbox/tiktok/webhooks/send`` | ``{event, account, content, signature?, duplicates?, url?, raw_body?}`` |
| ``POST /_sandbox/tiktok/tick`` | advance publishes to the clock and send due webhooks now |
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import asdict, fields
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from sandbox.context import SANDBOX_KEY
from sandbox.control_api import control_error, parse_body
from sandbox.tiktok.display import video_object
from sandbox.tiktok.seed import add_videos
from sandbox.tiktok.webhooks import Signature, deliver, event_body, tick
from sandbox.tiktok.world import FAIL_REASONS, Grant, Limits, TikTokUser, TikTokWorld, world_of

routes = web.RouteTableDef()
PREFIX = "/_sandbox/tiktok"
ALL_SCOPES = ("user.info.basic", "user.info.profile", "user.info.stats", "video.list", "video.publish")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FailNext(_Body):
    account: str
    fail_reason: str
    count: int = Field(default=1, ge=1, le=100)


class NewVideos(_Body):
    account: str
    count: int = Field(default=1, ge=1, le=500)


class Bump(_Body):
    account: str
    views: int = Field(default=100, ge=0)
    likes: int = Field(default=10, ge=0)


class MintTokens(_Body):
    account: str
    scopes: list[str] = Field(default_factory=lambda: list(ALL_SCOPES))


class Deauthorize(_Body):
    account: str
    reason: int = Field(default=1, ge=0, le=5)
    deliver: bool = True


class ReceiverConfig(_Body):
    url: str | None


class SendEvent(_Body):
    event: str = "authorization.removed"
    account: str = "tt_creator"
    content: dict[str, Any] | str = Field(default_factory=dict)
    signature: Signature = "valid"
    duplicates: int = Field(default=1, ge=1, le=100)
    url: str | None = None
    raw_body: str | None = None


def _world(request: web.Request) -> TikTokWorld:
    return world_of(request.config_dict[SANDBOX_KEY])


def _user(w: TikTokWorld, key: str) -> TikTokUser:
    user = w.find_user(key)
    if user is None:
        raise control_error(404, "not_found", f"no TikTok sandbox account {key!r}")
    return user


@routes.get(f"{PREFIX}/accounts")
async def accounts(request: web.Request) -> web.Response:
    w = _world(request)
    return web.json_response({"accounts": [
        {**asdict(u), "privacy_level_options": u.privacy_options, "videos": len(w.videos_of(u.open_id))}
        for u in w.users.values()
    ]})


@routes.get(f"{PREFIX}/limits")
async def get_limits(request: web.Request) -> web.Response:
    return web.json_response(asdict(_world(request).limits))


@routes.post(f"{PREFIX}/limits")
async def set_limits(request: web.Request) -> web.Response:
    w = _world(request)
    try:
        body = await request.json()
    except ValueError:
        raise control_error(400, "invalid_json", "the body must be a JSON object") from None
    known = {f.name: f for f in fields(Limits)}
    if not isinstance(body, dict) or not set(body) <= set(known):
        raise control_error(400, "invalid_body", f"fields: {', '.join(known)}")
    for key, value in body.items():
        current = getattr(w.limits, key)
        if type(value) is not type(current) and not (isinstance(current, float) and isinstance(value, int)):
            raise control_error(400, "invalid_body", f"{key} must be {type(current).__name__}")
        setattr(w.limits, key, value)
    return web.json_response(asdict(w.limits))


@routes.get(f"{PREFIX}/publishes")
async def publishes(request: web.Request) -> web.Response:
    w = _world(request)
    wanted = request.query.get("account")
    open_id = _user(w, wanted).open_id if wanted else None
    log = [p.public() for p in w.publishes.values() if open_id is None or p.open_id == open_id]
    return web.json_response({"publishes": log})


@routes.post(f"{PREFIX}/fail_next")
async def fail_next(request: web.Request) -> web.Response:
    body = await parse_body(request, FailNext)
    if body.fail_reason not in FAIL_REASONS:
        raise control_error(400, "invalid_body", f"fail_reason must be one of {', '.join(FAIL_REASONS)}")
    w = _world(request)
    user = _user(w, body.account)
    w.forced_failures.setdefault(user.open_id, deque()).extend([body.fail_reason] * body.count)
    return web.json_response({"queued": list(w.forced_failures[user.open_id])})


@routes.post(f"{PREFIX}/videos")
async def new_videos(request: web.Request) -> web.Response:
    body = await parse_body(request, NewVideos)
    w = _world(request)
    user = _user(w, body.account)
    # One second apart, the newest now; if that would not be newer than what exists (videos
    # are ordered by second), the sandbox clock moves on first: posts never sit in the future.
    newest = max((v.create_time for v in w.videos_of(user.open_id)), default=0)
    lag = newest + body.count - int(w.clock.now())
    if lag >= 0:
        w.clock.advance(lag + 1)
    made = add_videos(w, user, body.count, int(w.clock.now()) + 3600, random.Random(), spacing=1)
    return web.json_response({"videos": [video_object(w, user, v) for v in made]}, status=201)


@routes.post(f"{PREFIX}/videos/bump")
async def bump(request: web.Request) -> web.Response:
    body = await parse_body(request, Bump)
    w = _world(request)
    user = _user(w, body.account)
    videos = w.videos_of(user.open_id)
    for v in videos:
        v.view_count += body.views
        v.like_count += body.likes
    return web.json_response({"videos": len(videos)})


@routes.post(f"{PREFIX}/tokens")
async def mint(request: web.Request) -> web.Response:
    body = await parse_body(request, MintTokens)
    w = _world(request)
    user = _user(w, body.account)
    grant = Grant(user.open_id, tuple(body.scopes))
    w.grants.append(grant)
    access, refresh = w.issue_pair(grant)
    return web.json_response({
        "open_id": user.open_id, "access_token": access.value, "refresh_token": refresh.value,
        "expires_in": int(access.expires_at - w.clock.now()), "scope": ",".join(grant.scopes),
    }, status=201)


@routes.post(f"{PREFIX}/deauthorize")
async def deauthorize(request: web.Request) -> web.Response:
    """The user removes the app in TikTok: tokens die first, then the event goes out."""
    body = await parse_body(request, Deauthorize)
    w = _world(request)
    user = _user(w, body.account)
    grants = w.grants_of(user.open_id)
    for grant in grants:
        w.revoke_grant(grant)
    deliveries = None
    if body.deliver and w.receiver_url:
        payload = event_body(w, "authorization.removed", user.open_id, {"reason": body.reason})
        deliveries = await deliver(w, w.receiver_url, payload)
    return web.json_response({"revoked": len(grants), "deliveries": deliveries})


@routes.get(f"{PREFIX}/webhooks/config")
async def get_receiver(request: web.Request) -> web.Response:
    w = _world(request)
    return web.json_response({"url": w.receiver_url, "deliveries": w.deliveries[-50:]})


@routes.post(f"{PREFIX}/webhooks/config")
async def set_receiver(request: web.Request) -> web.Response:
    body = await parse_body(request, ReceiverConfig)
    w = _world(request)
    w.receiver_url = body.url
    return web.json_response({"url": w.receiver_url})


@routes.post(f"{PREFIX}/webhooks/send")
async def send(request: web.Request) -> web.Response:
    body = await parse_body(request, SendEvent)
    w = _world(request)
    url = body.url or w.receiver_url
    if not url:
        raise control_error(400, "no_receiver", "no url given and none configured")
    if body.raw_body is not None:
        payload = body.raw_body.encode()
    else:
        user = w.find_user(body.account)
        payload = event_body(w, body.event, user.open_id if user else body.account, body.content)
    results = await deliver(w, url, payload, signature=body.signature, duplicates=body.duplicates)
    return web.json_response({"posts": results, "body": payload.decode()})


@routes.post(f"{PREFIX}/tick")
async def tick_now(request: web.Request) -> web.Response:
    await tick(request.app[SANDBOX_KEY])
    return web.json_response({"publishes": [p.public() for p in _world(request).publishes.values()]})
