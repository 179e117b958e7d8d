"""A local file host for test videos and photos of any size, generated on the fly.

``GET /files.sandbox.test/videos/<name>.mp4?size=<bytes>`` streams ``size`` bytes (``Range``
supported) made from a block derived from the name, so the same name and size give the same
bytes every time and nothing is stored or committed. ``content_bytes`` gives the same bytes to
a test that wants to check what arrived. ``/files.sandbox.test/photos/<name>.jpg`` serves a tiny
JPEG.
"""

from __future__ import annotations

import hashlib
import re

from aiohttp import web

FILES_HOST = "files.sandbox.test"
MAX_SIZE = 8 * 1024**3
_PIECE = 1 << 20  # 1 MiB per write
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")
# The smallest JPEG: SOI, a comment, EOI.
TINY_JPEG = b"\xff\xd8\xff\xfe\x00\x0bsandbox!\xff\xd9"

routes = web.RouteTableDef()


def _block(name: str) -> bytes:
    """64 KiB of bytes derived from the name (divides the write size evenly)."""
    seed = hashlib.sha256(name.encode()).digest()
    return (seed * (65536 // len(seed)))[:65536]


def content_bytes(name: str, size: int, start: int = 0, end: int | None = None) -> bytes:
    """The bytes ``[start, end)`` of the generated file (for tests; small sizes only)."""
    block = _block(name)
    end = size if end is None else end
    out = bytearray()
    offset = start
    while offset < end:
        pos = offset % len(block)
        take = min(len(block) - pos, end - offset)
        out += block[pos:pos + take]
        offset += take
    return bytes(out)


@routes.get("/videos/{name}")
async def video(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    try:
        size = int(request.query.get("size", str(1024 * 1024)))
    except ValueError:
        raise web.HTTPBadRequest(text="size must be an integer") from None
    if not 0 < size <= MAX_SIZE:
        raise web.HTTPBadRequest(text=f"size must be in 1..{MAX_SIZE}")
    start, end = 0, size
    status = 200
    range_header = request.headers.get("Range")
    if range_header:
        match = _RANGE.match(range_header)
        if match is None or int(match.group(1)) >= size:
            raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
        start = int(match.group(1))
        end = min(size, int(match.group(2)) + 1) if match.group(2) else size
        status = 206
    response = web.StreamResponse(status=status)
    response.content_type = "video/mp4"
    response.content_length = end - start
    response.headers["Accept-Ranges"] = "bytes"
    if status == 206:
        response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    await response.prepare(request)
    block = _block(name)
    piece = memoryview(block * (_PIECE // len(block)))
    offset = start
    while offset < end:
        pos = offset % len(block)
        take = min(_PIECE - pos, end - offset)
        await response.write(piece[pos:pos + take])
        offset += take
    await response.write_eof()
    return response


@routes.get("/photos/{name}")
async def photo(request: web.Request) -> web.Response:
    return web.Response(body=TINY_JPEG, content_type="image/jpeg")
