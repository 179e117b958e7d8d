"""The upload host: ``PUT {upload_url}`` chunk by chunk (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §3.3).

Rules enforced: the chunk sizes agreed at init, strictly in order, ``Content-Range: bytes
a-b/total`` matching ``Content-Length`` and the body actually sent. A chunk re-sent after a lost
answer (its range already received) is accepted again without counting twice. The body is read
in pieces and hashed, never held: a 4 GB upload costs the sandbox no memory.
"""

from __future__ import annotations

import re

from aiohttp import web

from sandbox.context import note_account
from sandbox.tiktok.envelope import TikTokApiError, world
from sandbox.tiktok.timeline import start_processing
from sandbox.tiktok.world import Publish

UPLOAD_HOST = "open-upload.tiktokapis.com"
UPLOAD_URL_TTL_SECONDS = 3600
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")

routes = web.RouteTableDef()


def _find(request: web.Request) -> Publish:
    w = world(request)
    upload_id = request.query.get("upload_id", "")
    token = request.query.get("upload_token", "")
    for publish in w.publishes.values():
        if publish.source == "FILE_UPLOAD" and publish.publish_id.endswith("." + upload_id):
            if publish.upload_token == token:
                return publish
    raise TikTokApiError("invalid_params", "upload_id or upload_token is invalid.", 404)


def expected_chunk(publish: Publish, index: int) -> tuple[int, int]:
    """(first, last) byte of chunk ``index``; the last chunk takes the trailing bytes."""
    first = index * publish.chunk_size
    last = publish.video_size - 1 if index == publish.total_chunks - 1 else first + publish.chunk_size - 1
    return first, last


@routes.put("/video/")
async def put_chunk(request: web.Request) -> web.Response:
    w = world(request)
    publish = _find(request)
    note_account(request, publish.open_id)
    if w.clock.now() > publish.created_at + UPLOAD_URL_TTL_SECONDS:
        raise TikTokApiError("invalid_params", "The upload_url has expired.", 403)
    if request.content_type not in VIDEO_TYPES:
        raise TikTokApiError("invalid_file_upload", "Content-Type must be video/mp4, video/quicktime or video/webm.", 415)
    match = _RANGE.match(request.headers.get("Content-Range", ""))
    if match is None:
        raise TikTokApiError("invalid_params", "Content-Range must be 'bytes {first}-{last}/{total}'.", 400)
    first, last, total = (int(g) for g in match.groups())
    if total != publish.video_size or last < first:
        raise TikTokApiError("invalid_params", "Content-Range total must equal video_size.", 416)
    if first % publish.chunk_size or first // publish.chunk_size >= publish.total_chunks:
        raise TikTokApiError("invalid_params", "The range does not start at a chunk boundary.", 416)
    index = first // publish.chunk_size
    if (first, last) != expected_chunk(publish, index):
        raise TikTokApiError("invalid_params", "The range does not match the chunk size agreed at init.", 416)
    length = last - first + 1
    if request.content_length != length:
        raise TikTokApiError("invalid_params", "Content-Length must equal the range's length.", 400)
    replay = last < publish.uploaded_bytes  # a re-send of a chunk already received
    if not replay and first != publish.uploaded_bytes:
        raise TikTokApiError("invalid_params", "Chunks must be uploaded in order.", 416)
    if publish.receiving:
        raise TikTokApiError("invalid_params", "Another chunk of this upload is being received.", 409)
    digest = publish.sha256.copy()
    received = 0
    publish.receiving = True
    try:
        async for piece in request.content.iter_chunked(1 << 20):
            received += len(piece)
            if not replay:
                digest.update(piece)
    finally:
        publish.receiving = False
    if received != length:
        raise TikTokApiError("invalid_params", "The body is shorter than Content-Length.", 400)
    if not replay:
        publish.sha256 = digest
        publish.uploaded_bytes += length
        publish.chunks_received += 1
        if publish.uploaded_bytes == publish.video_size:
            publish.digest = digest.hexdigest()
            start_processing(w, publish)
    if last == publish.video_size - 1:
        return web.Response(status=201)
    return web.Response(status=206, headers={"Range": f"bytes=0-{publish.uploaded_bytes - 1}"})
