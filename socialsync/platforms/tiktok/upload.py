"""FILE_UPLOAD: stream the CRM's video to TikTok's ``upload_url`` chunk by chunk.

Each chunk is one ranged GET from the source piped straight into one PUT (``Content-Range:
bytes a-b/total``, in order), so nothing bigger than the HTTP buffers is held: never the file,
not even a chunk. A failed chunk is fetched and sent again (TikTok keeps what it already has; a
re-sent chunk is harmless). Chunk rules (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §3.3): 5-64 MB, the
last takes the remainder (≤ 128 MB), ``total_chunk_count = floor(size / chunk)``, files under
5 MB in one chunk.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from socialsync.platforms.base import ErrorKind, PlatformError, TransportError

MIB = 1024 * 1024
MIN_CHUNK = 5 * MIB
MAX_CHUNK = 64 * MIB


@dataclass(frozen=True)
class ChunkPlan:
    video_size: int
    chunk_size: int
    total_chunks: int

    @classmethod
    def for_size(cls, size: int, preferred: int) -> ChunkPlan:
        if size <= 0:
            raise ValueError("empty video")
        if size < MIN_CHUNK or size <= preferred:
            if size > MAX_CHUNK:  # cannot happen with preferred ≤ 64 MB
                raise ValueError("a video over 64 MB must be chunked")
            return cls(size, size, 1)
        chunk = max(MIN_CHUNK, min(preferred, MAX_CHUNK))
        return cls(size, chunk, size // chunk)

    def bounds(self, index: int) -> tuple[int, int]:
        first = index * self.chunk_size
        last = self.video_size - 1 if index == self.total_chunks - 1 else first + self.chunk_size - 1
        return first, last


class UploadRefused(PlatformError):
    """The upload host refused a chunk for good (range, size, expiry): status/fetch decides."""


async def source_size(http: httpx.AsyncClient, url: str) -> int:
    """The source's size, from a one-byte ranged GET (``Content-Range: bytes 0-0/N``) or HEAD."""
    try:
        async with http.stream("GET", url, headers={"Range": "bytes=0-0"}) as r:
            if r.status_code == 206:
                total = r.headers.get("content-range", "").rpartition("/")[2]
                if total.isdigit():
                    return int(total)
            if r.status_code == 200 and r.headers.get("content-length", "").isdigit():
                return int(r.headers["content-length"])
            if r.status_code >= 400:
                raise PlatformError(f"the video URL answered HTTP {r.status_code}", kind=ErrorKind.MEDIA_URL,
                                    status=r.status_code, code="video_url_unreadable")
    except httpx.TransportError as exc:
        raise TransportError(f"{type(exc).__name__} reading the video URL") from None
    raise PlatformError("the video URL gives no size", kind=ErrorKind.MEDIA_URL, code="video_url_unreadable")


async def _range_bytes(response: httpx.Response, first: int, length: int) -> AsyncIterator[bytes]:
    """Exactly ``length`` bytes from ``first``: the body of a 206, or a 200 skipped ahead."""
    skip = first if response.status_code == 200 else 0
    left = length
    async for piece in response.aiter_raw(256 * 1024):
        if skip:
            if len(piece) <= skip:
                skip -= len(piece)
                continue
            piece, skip = piece[skip:], 0
        if len(piece) >= left:
            yield piece[:left]
            return
        left -= len(piece)
        yield piece
    if left:
        raise TransportError("the video URL ended early")


async def put_chunk(http: httpx.AsyncClient, source_url: str, upload_url: str, plan: ChunkPlan, index: int) -> int:
    """Send chunk ``index``; returns TikTok's HTTP status (206, or 201 for the last)."""
    first, last = plan.bounds(index)
    length = last - first + 1
    async with http.stream("GET", source_url, headers={"Range": f"bytes={first}-{last}"}) as src:
        if src.status_code not in (200, 206):
            raise PlatformError(f"the video URL answered HTTP {src.status_code}", kind=ErrorKind.MEDIA_URL,
                                status=src.status_code, code="video_url_unreadable")
        headers = {
            "Content-Type": "video/mp4", "Content-Length": str(length),
            "Content-Range": f"bytes {first}-{last}/{plan.video_size}",
        }
        answer = await http.put(upload_url, content=_range_bytes(src, first, length), headers=headers)
    if answer.status_code in (200, 201, 206):
        return answer.status_code
    if answer.status_code >= 500 or answer.status_code == 409:
        raise TransportError(f"the upload host answered HTTP {answer.status_code}")
    raise UploadRefused(f"the upload host refused chunk {index} (HTTP {answer.status_code})",
                        kind=ErrorKind.PERMANENT, status=answer.status_code, code="upload_refused")


async def upload_from(
    http: httpx.AsyncClient, source_url: str, upload_url: str, plan: ChunkPlan, *, start_chunk: int,
    tries: int, budget_seconds: float,
) -> int:
    """Upload chunks from ``start_chunk`` on, each retried up to ``tries`` times, until done or the
    time budget is spent; returns the next chunk to send (``plan.total_chunks`` when complete)."""
    started = time.monotonic()
    index = start_chunk
    while index < plan.total_chunks:
        for attempt in range(1, tries + 1):
            try:
                await put_chunk(http, source_url, upload_url, plan, index)
                break
            except (TransportError, httpx.TransportError):
                if attempt == tries:
                    raise TransportError(f"chunk {index} failed {tries} times") from None
        index += 1
        if index < plan.total_chunks and time.monotonic() - started > budget_seconds:
            break
    return index
