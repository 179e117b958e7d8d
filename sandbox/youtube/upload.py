"""``www.googleapis.com/upload/youtube/v3``: resumable ``videos.insert`` and ``thumbnails.set``.

The init POST (one call from the 100-a-day insert bucket) answers 200 with the session URI in
``Location``. PUTs carry ``Content-Range: bytes a-b/total``; bytes are kept in whole 256 KiB
blocks (a dropped connection loses the unfinished block), the answer is ``308`` with
``Range: bytes=0-N`` until the last byte, then 200 with the video. ``bytes */total`` asks the
status. An unknown session is 404, an expired one 410. The video exists only once the last
byte arrived. Unaudited projects get every upload locked private.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from sandbox.youtube.access import authorize, channel_of, charge, require, yt_of
from sandbox.youtube.errors import GoogleError, bad_request, not_found
from sandbox.youtube.hub import push_video
from sandbox.youtube.model import UploadSession, Video, random_value
from sandbox.youtube.render import video_resource
from sandbox.youtube.state import FORCE_SSL, UPLOAD, UPLOAD_SESSION_TTL, PublishRecord

routes = web.RouteTableDef()
BLOCK = 256 * 1024
CATEGORIES = {"1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28", "29"}
_RANGE = re.compile(r"^bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)$")
VIDEO_PARTS = {"snippet", "status", "contentDetails", "statistics"}


def _metadata_errors(resource: dict[str, Any]) -> GoogleError | None:
    snippet = resource.get("snippet") if isinstance(resource.get("snippet"), dict) else {}
    status = resource.get("status") if isinstance(resource.get("status"), dict) else {}
    title = snippet.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 100 or "<" in title or ">" in title:
        return bad_request("invalidTitle", "The request metadata specifies an invalid or empty video title.")
    description = snippet.get("description", "")
    if not isinstance(description, str) or len(description.encode()) > 5000 or "<" in description or ">" in description:
        return bad_request("invalidDescription", "The request metadata specifies an invalid video description.")
    tags = snippet.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags) or len(",".join(tags)) > 500:
        return bad_request("invalidTags", "The request metadata specifies invalid video keywords.")
    if str(snippet.get("categoryId", "22")) not in CATEGORIES:
        return bad_request("invalidCategoryId", "The snippet.categoryId property specifies an invalid category ID.")
    privacy = status.get("privacyStatus", "public")
    if privacy not in ("public", "unlisted", "private"):
        return bad_request("invalidVideoMetadata", "Invalid privacyStatus.")
    if status.get("publishAt") is not None and privacy != "private":
        return bad_request("invalidPublishAt", "The request metadata specifies an invalid scheduled publishing time.")
    return None


@routes.post("/upload/youtube/v3/videos")
async def start_upload(request: web.Request) -> web.Response:
    grant, account = authorize(request, UPLOAD, FORCE_SSL)
    if request.query.get("uploadType") != "resumable":
        raise bad_request("invalidParameter", "The sandbox supports uploadType=resumable only.")
    charge(request, grant, "POST", "videos.insert")
    yt = yt_of(request)
    channel_id = channel_of(account)
    require(request, "part")
    try:
        total = int(request.headers.get("X-Upload-Content-Length", ""))
    except ValueError:
        raise bad_request("mediaBodyRequired", "X-Upload-Content-Length is required.") from None
    if total <= 0 or total > 256 * 1024**3:
        raise bad_request("mediaBodyRequired", "Invalid X-Upload-Content-Length.")
    try:
        resource = json.loads(await request.read() or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise bad_request("parseError", "Parse Error") from None
    if not isinstance(resource, dict):
        raise bad_request("parseError", "Parse Error")
    error = _metadata_errors(resource)
    if error is not None:
        raise error
    now = yt.clock.now()
    session = UploadSession(
        upload_id=random_value("AUy", 48), client_id=grant.client_id, channel_id=channel_id,
        total=total, content_type=request.headers.get("X-Upload-Content-Type", "video/*"),
        resource=resource, created_at=now, expires_at=now + UPLOAD_SESSION_TTL,
        notify_subscribers=request.query.get("notifySubscribers", "true") != "false",
    )
    yt.uploads[session.upload_id] = session
    location = request.url.with_query({"uploadType": "resumable", "upload_id": session.upload_id})
    return web.Response(status=200, headers={"Location": str(location), "X-GUploader-UploadID": session.upload_id})


def _incomplete(session: UploadSession) -> web.Response:
    headers = {"Content-Length": "0"}
    if session.received:
        headers["Range"] = f"bytes=0-{session.received - 1}"
    return web.Response(status=308, headers=headers)


def _done(session: UploadSession, request: web.Request) -> web.Response:
    video = yt_of(request).videos[session.video_id or ""]
    return web.json_response(video_resource(video, VIDEO_PARTS), status=200)


def _finish(request: web.Request, session: UploadSession) -> None:
    yt = yt_of(request)
    snippet = session.resource.get("snippet") or {}
    status = session.resource.get("status") or {}
    requested = status.get("privacyStatus", "public")
    privacy = requested if yt.app.audited else "private"
    video = Video(
        video_id=yt.new_video_id(), channel_id=session.channel_id, title=snippet["title"],
        published_at=yt.clock.now(), duration_seconds=60,
        description=snippet.get("description", ""), tags=list(snippet.get("tags", [])),
        category_id=str(snippet.get("categoryId", "22")), privacy=privacy,
        made_for_kids=bool(status.get("selfDeclaredMadeForKids", False)),
    )
    yt.videos[video.video_id] = video
    session.video_id = video.video_id
    yt.published.append(PublishRecord(video.video_id, session.channel_id, video.title, requested,
                                      privacy, session.total, session.digest.hexdigest(),
                                      yt.clock.now(), session.upload_id))
    if privacy == "public":
        push_video(yt, video, deleted=False)


@routes.put("/upload/youtube/v3/videos")
async def upload_bytes(request: web.Request) -> web.StreamResponse:
    yt = yt_of(request)
    session = yt.uploads.get(request.query.get("upload_id", ""))
    if session is None:
        raise not_found("notFound", "Upload session not found.")
    if session.video_id is not None:
        await request.read()
        return _done(session, request)
    if yt.clock.now() > session.expires_at:
        raise GoogleError(410, "gone", "The upload session has expired.")
    session.puts += 1
    match = _RANGE.match(request.headers.get("Content-Range", ""))
    if match is None:
        raise bad_request("badContent", "Content-Range is required.")
    first, last, total = match.groups()
    if total != "*" and int(total) != session.total:
        raise bad_request("badContent", "Content-Range total does not match the session.")
    if first is None:  # status probe
        await request.read()
        return _incomplete(session)
    start, end = int(first), int(last)
    if start > session.received or end < start or end >= session.total:
        raise bad_request("badContent", f"Content-Range must resume at byte {session.received}.")
    skip = session.received - start  # bytes the session already holds
    pending = bytearray()
    try:
        async for chunk in request.content.iter_chunked(64 * 1024):
            session.bytes_sent += len(chunk)
            if skip:
                cut = min(skip, len(chunk))
                chunk, skip = chunk[cut:], skip - cut
            pending += chunk
            while len(pending) >= BLOCK and session.received + BLOCK < session.total:
                session.digest.update(pending[:BLOCK])
                session.received += BLOCK
                del pending[:BLOCK]
            drop = yt.upload_drop_after
            if drop is not None and session.received >= drop:
                yt.upload_drop_after = None
                if request.transport is not None:
                    request.transport.close()
                raise ConnectionResetError("sandbox: connection dropped mid-upload")
    except (ConnectionResetError, OSError):
        return web.Response(status=499)  # the client never sees it
    if session.received + len(pending) == session.total:
        session.digest.update(pending)
        session.received = session.total
        _finish(request, session)
        return _done(session, request)
    return _incomplete(session)


@routes.post("/upload/youtube/v3/thumbnails/set")
async def set_thumbnail(request: web.Request) -> web.Response:
    grant, account = authorize(request, UPLOAD, FORCE_SSL)
    charge(request, grant, "POST", "thumbnails/set")
    yt = yt_of(request)
    video = yt.videos.get(require(request, "videoId"))
    body = await request.read()
    if video is None or video.channel_id != account.channel_id:
        raise not_found("videoNotFound", "The video that you are trying to update cannot be found.")
    if not yt.channels[video.channel_id].verified:
        raise GoogleError(403, "forbidden",
                          "The authenticated user doesn't have permissions to upload and set custom video thumbnails.")
    if not body or len(body) > 2 * 1024 * 1024:
        raise bad_request("mediaBodyRequired", "The image must be a JPEG or PNG up to 2 MB.")
    if not (body.startswith(b"\xff\xd8") or body.startswith(b"\x89PNG")):
        raise bad_request("invalidImage", "The provided image content is invalid.")
    video.thumbnail_set = True
    return web.json_response({"kind": "youtube#thumbnailSetResponse",
                              "items": [{"default": {"url": f"https://i.ytimg.com/vi/{video.video_id}/default.jpg"}}]})
