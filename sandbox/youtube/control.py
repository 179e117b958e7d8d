r"""Control API of the YouTube side, under ``/_sandbox/youtube/`` (loopback only, like the rest).

| call | body / answer |
|---|---|
| `GET/POST /_sandbox/youtube/app` | `{publishing_status?: "testing"\|"production", audited?, analytics_lag_days?}` |
| `GET/POST /_sandbox/youtube/quota` | `{daily_units?, inserts_per_day?, units_used?}` → the project's counters today |
| `POST /_sandbox/youtube/videos` | `{channel, title, duration_seconds?, width?, height?, privacy?, ...}` → 201 (pushed) |
| `DELETE /_sandbox/youtube/videos/{id}` | the video is gone; a tombstone is pushed |
| `POST /_sandbox/youtube/comments` | `{video_id, text, author?, parent_id?}` → 201 `{id}` |
| `GET /_sandbox/youtube/comments/{id}` | `{id, moderation_status, parent_id, text}` or 404 |
| `POST/DELETE /_sandbox/youtube/faults` | `{method, path (glob), status, reason, count?, retry_after?}` → Google-shaped errors |
| `POST /_sandbox/youtube/hub/failures` | `{count, retry_after?}`: the next subscribe calls get 503 |
| `GET /_sandbox/youtube/hub` | subscriptions and deliveries |
| `POST /_sandbox/youtube/push` | `{video_id, deleted?, signature?: valid\|wrong\|missing}` → sent now, statuses |
| `POST /_sandbox/youtube/uploads/drop` | `{after_bytes}`: drop the connection once a session holds that many |
| `GET /_sandbox/youtube/uploads` | upload sessions: received, bytes_sent, puts, video_id |
| `GET /_sandbox/youtube/published` | the publish log |
| `POST /_sandbox/youtube/tokens/revoke` | `{username}`: every grant of that Google account dies |
"""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from sandbox.control_api import control_error, parse_body
from sandbox.youtube.access import PLATFORM
from sandbox.youtube.hub import deliver, push_body, push_video
from sandbox.youtube.model import Comment, Video
from sandbox.youtube.state import CLIENT_ID, YouTubeState

routes = web.RouteTableDef()
P = "/_sandbox/youtube"


def _yt(request: web.Request) -> YouTubeState:
    from sandbox.context import sandbox_of  # noqa: PLC0415

    return sandbox_of(request).platforms[PLATFORM]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AppBody(_Body):
    publishing_status: Literal["testing", "production"] | None = None
    audited: bool | None = None
    analytics_lag_days: int | None = Field(default=None, ge=0, le=30)


class QuotaBody(_Body):
    daily_units: int | None = Field(default=None, ge=0)
    inserts_per_day: int | None = Field(default=None, ge=0)
    units_used: int | None = Field(default=None, ge=0)


class VideoBody(_Body):
    channel: str
    title: str = Field(min_length=1, max_length=100)
    duration_seconds: int = Field(default=60, ge=0)
    width: int = Field(default=1920, ge=1)
    height: int = Field(default=1080, ge=1)
    privacy: Literal["public", "unlisted", "private"] = "public"
    view_count: int = Field(default=0, ge=0)
    like_count: int | None = 0
    comment_count: int | None = 0
    published_at: float | None = None


class CommentBody(_Body):
    video_id: str
    text: str = Field(min_length=1)
    author: str = "Sandbox Fan"
    parent_id: str | None = None


class FaultBody(_Body):
    method: str = "*"
    path: str = Field(min_length=1)
    status: int = Field(ge=400, le=599)
    reason: str = Field(min_length=1)
    count: int = Field(default=1, ge=1)
    retry_after: int | None = Field(default=None, ge=0)


class HubFailures(_Body):
    count: int = Field(ge=0, le=1000)
    retry_after: int = Field(default=120, ge=0)


class PushBody(_Body):
    video_id: str
    deleted: bool = False
    signature: Literal["valid", "wrong", "missing"] = "valid"


class DropBody(_Body):
    after_bytes: int | None = Field(ge=0)


class RevokeBody(_Body):
    username: str


def _app_view(yt: YouTubeState) -> dict[str, object]:
    return {"publishing_status": yt.app.publishing_status, "audited": yt.app.audited,
            "analytics_lag_days": yt.app.analytics_lag_days}


@routes.get(P + "/app")
async def get_app(request: web.Request) -> web.Response:
    return web.json_response(_app_view(_yt(request)))


@routes.post(P + "/app")
async def set_app(request: web.Request) -> web.Response:
    yt, body = _yt(request), await parse_body(request, AppBody)
    for key, value in body.model_dump(exclude_none=True).items():
        setattr(yt.app, key, value)
    return web.json_response(_app_view(yt))


@routes.get(P + "/quota")
async def get_quota(request: web.Request) -> web.Response:
    yt = _yt(request)
    return web.json_response(yt.quota.view(CLIENT_ID, yt.clock.now()))


@routes.post(P + "/quota")
async def set_quota(request: web.Request) -> web.Response:
    yt, body = _yt(request), await parse_body(request, QuotaBody)
    quota = yt.quota.project(CLIENT_ID, yt.clock.now())
    if body.daily_units is not None:
        quota.daily_units = body.daily_units
    if body.inserts_per_day is not None:
        quota.inserts_per_day = body.inserts_per_day
    if body.units_used is not None:
        quota.units = body.units_used
    return web.json_response(yt.quota.view(CLIENT_ID, yt.clock.now()))


@routes.post(P + "/videos")
async def add_video(request: web.Request) -> web.Response:
    yt, body = _yt(request), await parse_body(request, VideoBody)
    account = yt.find_account(body.channel)
    channel_id = account.channel_id if account else (body.channel if body.channel in yt.channels else None)
    if channel_id is None:
        raise control_error(404, "not_found", "no such channel")
    video = Video(yt.new_video_id(), channel_id, body.title,
                  body.published_at if body.published_at is not None else yt.clock.now(),
                  body.duration_seconds, width=body.width, height=body.height,
                  privacy=body.privacy, view_count=body.view_count, like_count=body.like_count,
                  comment_count=body.comment_count)
    yt.videos[video.video_id] = video
    if video.privacy == "public":
        push_video(yt, video, deleted=False)
    return web.json_response({"id": video.video_id, "channel_id": channel_id}, status=201)


@routes.delete(P + "/videos/{video_id}")
async def delete_video(request: web.Request) -> web.Response:
    yt = _yt(request)
    video = yt.videos.pop(request.match_info["video_id"], None)
    if video is None:
        raise control_error(404, "not_found", "no such video")
    push_video(yt, video, deleted=True)
    return web.json_response({"deleted": video.video_id})


@routes.post(P + "/comments")
async def add_comment(request: web.Request) -> web.Response:
    yt, body = _yt(request), await parse_body(request, CommentBody)
    video = yt.videos.get(body.video_id)
    if video is None:
        raise control_error(404, "not_found", "no such video")
    if body.parent_id is not None and body.parent_id not in yt.comments:
        raise control_error(404, "not_found", "no such parent comment")
    comment_id = f"{body.parent_id}.{yt.next_id('r')}" if body.parent_id else yt.next_id("Ugx")
    yt.comments[comment_id] = Comment(comment_id, video.video_id, video.channel_id, body.author,
                                      "UCsandboxfan0000000000000", body.text, yt.clock.now(),
                                      parent_id=body.parent_id)
    return web.json_response({"id": comment_id}, status=201)


@routes.get(P + "/comments/{comment_id}")
async def get_comment(request: web.Request) -> web.Response:
    comment = _yt(request).comments.get(request.match_info["comment_id"])
    if comment is None:
        raise control_error(404, "not_found", "no such comment")
    return web.json_response({"id": comment.comment_id, "moderation_status": comment.moderation_status,
                              "parent_id": comment.parent_id, "text": comment.text})


@routes.post(P + "/faults")
async def add_fault(request: web.Request) -> web.Response:
    yt, body = _yt(request), await parse_body(request, FaultBody)
    fault = yt.add_fault(body.method, body.path, body.status, body.reason, body.count, body.retry_after)
    return web.json_response({"id": fault.id}, status=201)


@routes.delete(P + "/faults")
async def clear_faults(request: web.Request) -> web.Response:
    _yt(request).faults.clear()
    return web.json_response({"faults": []})


@routes.post(P + "/hub/failures")
async def hub_failures(request: web.Request) -> web.Response:
    yt, body = _yt(request), await parse_body(request, HubFailures)
    yt.hub_failures = [body.retry_after] * body.count
    return web.json_response({"pending_failures": len(yt.hub_failures)})


@routes.get(P + "/hub")
async def hub_view(request: web.Request) -> web.Response:
    yt = _yt(request)
    return web.json_response({
        "subscriptions": [
            {"callback": s.callback, "topic": s.topic, "channel_id": s.channel_id,
             "lease_seconds": s.lease_seconds, "expires_at": s.expires_at, "verified": s.verified,
             "has_secret": s.secret is not None}
            for s in yt.subscriptions.values()
        ],
        "deliveries": [
            {"callback": d.callback, "kind": d.kind, "video_id": d.video_id, "status": d.status, "at": d.at}
            for d in yt.hub_deliveries
        ],
    })


@routes.post(P + "/push")
async def push_now(request: web.Request) -> web.Response:
    """Deliver one notification now (and wait for the answers): signature abuse tests."""
    yt, body = _yt(request), await parse_body(request, PushBody)
    video = yt.videos.get(body.video_id)
    if video is None:
        raise control_error(404, "not_found", "no such video")
    payload = push_body(yt, video, deleted=body.deleted)
    statuses = [
        await deliver(yt, sub, payload, "deleted" if body.deleted else "video", video.video_id, body.signature)
        for sub in yt.subscriptions_for(video.channel_id)
    ]
    return web.json_response({"statuses": statuses})


@routes.post(P + "/uploads/drop")
async def drop_uploads(request: web.Request) -> web.Response:
    yt, body = _yt(request), await parse_body(request, DropBody)
    yt.upload_drop_after = body.after_bytes
    return web.json_response({"after_bytes": yt.upload_drop_after})


@routes.get(P + "/uploads")
async def uploads(request: web.Request) -> web.Response:
    yt = _yt(request)
    return web.json_response({"sessions": [
        {"upload_id": s.upload_id, "total": s.total, "received": s.received,
         "bytes_sent": s.bytes_sent, "puts": s.puts, "video_id": s.video_id,
         "channel_id": s.channel_id}
        for s in yt.uploads.values()
    ]})


@routes.get(P + "/published")
async def published(request: web.Request) -> web.Response:
    yt = _yt(request)
    return web.json_response({"published": [
        {"video_id": r.video_id, "channel_id": r.channel_id, "title": r.title,
         "privacy_requested": r.privacy_requested, "privacy": r.privacy, "bytes": r.bytes,
         "sha256": r.sha256, "at": yt.clock.iso(r.at), "upload_id": r.upload_id}
        for r in yt.published
    ]})


@routes.post(P + "/tokens/revoke")
async def revoke_tokens(request: web.Request) -> web.Response:
    yt, body = _yt(request), await parse_body(request, RevokeBody)
    return web.json_response({"revoked": yt.revoke_user(body.username)})
