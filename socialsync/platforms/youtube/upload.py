"""Resumable ``videos.insert``, exactly once (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §9).

1. The session URI is handed to ``SessionStore.save`` (durably, compare-and-set) *before* the
   first byte goes out; a stored session is always reused, so one post never has two at once.
2. Bytes are streamed from ``source(offset)`` in chunks that are multiples of 256 KiB, each PUT
   carrying ``Content-Range: bytes a-b/total``; only small buffers are held, never the file.
3. After any interruption (dropped connection, 5xx, a restarted worker) the session is asked
   (``Content-Range: bytes */total``) and the upload resumes from the acknowledged byte.
4. 200/201 at any point = done: the video id is returned (and must be recorded by the caller).
   404/410 before completion = the session expired: nothing was published, so a new session is
   safe, and replaces the stored one.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from socialsync.platforms.youtube.errors import Transient, YouTubeError, classify

BLOCK = 256 * 1024
PIECE = 64 * 1024
Source = Callable[[int], AsyncIterator[bytes]]


class SessionStore(Protocol):
    async def load(self) -> str | None: ...
    async def save(self, uri: str) -> bool: ...  # False: another session is already stored
    async def drop(self, uri: str) -> None: ...


@dataclass
class UploadResult:
    video_id: str
    privacy_status: str | None
    resource: dict[str, Any]
    sessions: int
    resumed_from: list[int]
    bytes_sent: int


class UploadFailed(Exception):
    def __init__(self, code: str, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.code, self.message, self.retryable = code, message, retryable


def chunk_size(requested: int) -> int:
    return max(BLOCK, requested // BLOCK * BLOCK)


def _acked(response: httpx.Response) -> int:
    """Next byte to send after a 308: ``Range: bytes=0-N`` -> N + 1; no Range -> 0."""
    value = response.headers.get("Range", "")
    if value.startswith("bytes=") and "-" in value:
        try:
            return int(value.split("-", 1)[1]) + 1
        except ValueError:
            return 0
    return 0


class ResumableUpload:
    def __init__(self, http: httpx.AsyncClient, init_url: str, access_token: Callable[[], str],
                 sessions: SessionStore, *, total: int, content_type: str = "video/mp4",
                 chunk_bytes: int = 8 * 1024 * 1024, max_attempts: int = 8) -> None:
        self.http = http
        self.init_url = init_url
        self.access_token = access_token
        self.sessions = sessions
        self.total = total
        self.content_type = content_type
        self.chunk = chunk_size(chunk_bytes)
        self.max_attempts = max_attempts
        self.sessions_started = 0
        self.resumed_from: list[int] = []
        self.bytes_sent = 0

    async def start_session(self, resource: dict[str, Any], notify_subscribers: bool) -> str:
        params = {"uploadType": "resumable", "part": "snippet,status"}
        if not notify_subscribers:
            params["notifySubscribers"] = "false"
        response = await self.http.post(
            self.init_url, params=params, content=json.dumps(resource).encode(),
            headers={"Authorization": f"Bearer {self.access_token()}",
                     "Content-Type": "application/json; charset=UTF-8",
                     "X-Upload-Content-Length": str(self.total), "X-Upload-Content-Type": self.content_type},
        )
        if response.status_code != 200 or "Location" not in response.headers:
            raise classify(response) if response.status_code >= 400 else YouTubeError(
                response.status_code, "noSession", "no session URI in the answer")
        uri = response.headers["Location"]
        if not await self.sessions.save(uri):  # someone else stored one first: use theirs
            stored = await self.sessions.load()
            if stored:
                return stored
        self.sessions_started += 1
        return uri

    async def probe(self, uri: str) -> httpx.Response:
        return await self.http.put(uri, content=b"", headers={
            "Content-Range": f"bytes */{self.total}", "Content-Length": "0"})

    async def _send(self, uri: str, source: Source, start: int) -> httpx.Response:
        end = min(start + self.chunk, self.total) - 1
        length = end - start + 1

        async def body() -> AsyncIterator[bytes]:
            left = length
            pieces = source(start)
            try:
                async for piece in pieces:
                    piece = piece[:left]
                    left -= len(piece)
                    self.bytes_sent += len(piece)
                    yield piece
                    if left <= 0:
                        break
            finally:
                await pieces.aclose()  # type: ignore[attr-defined]

        return await self.http.put(uri, content=body(), headers={
            "Content-Range": f"bytes {start}-{end}/{self.total}", "Content-Length": str(length),
            "Content-Type": self.content_type})

    async def run(self, source: Source, resource: dict[str, Any], *, notify_subscribers: bool = True) -> UploadResult:
        uri = await self.sessions.load()
        offset: int | None = None if uri else 0
        if uri is None:
            uri = await self.start_session(resource, notify_subscribers)
        failures = 0
        while True:
            try:
                if offset is None:  # where does the session stand?
                    answer = await self.probe(uri)
                    if answer.status_code in (404, 410):
                        await self.sessions.drop(uri)
                        uri = await self.start_session(resource, notify_subscribers)
                        offset = 0
                        continue
                    if answer.status_code in (200, 201):
                        return self._done(answer)
                    if answer.status_code != 308:
                        raise classify(answer)
                    offset = _acked(answer)
                    self.resumed_from.append(offset)
                answer = await self._send(uri, source, offset)
                if answer.status_code in (200, 201):
                    return self._done(answer)
                if answer.status_code == 308:
                    offset = _acked(answer)
                    failures = 0
                    continue
                if answer.status_code in (404, 410):
                    offset = None  # probe decides: done, or expired -> new session
                    continue
                error = classify(answer)
                if isinstance(error, Transient) or answer.status_code == 429:
                    raise error
                raise UploadFailed(error.reason, error.message, retryable=False)
            except (httpx.TransportError, Transient) as exc:
                failures += 1
                if failures >= self.max_attempts:
                    raise UploadFailed("upload_interrupted", f"gave up after {failures} interruptions: {exc}",
                                       retryable=True) from exc
                offset = None

    def _done(self, response: httpx.Response) -> UploadResult:
        resource = response.json()
        return UploadResult(
            video_id=str(resource["id"]), privacy_status=(resource.get("status") or {}).get("privacyStatus"),
            resource=resource, sessions=self.sessions_started, resumed_from=self.resumed_from,
            bytes_sent=self.bytes_sent,
        )


def http_source(http: httpx.AsyncClient, url: str) -> Source:
    """Stream a video URL from ``offset`` with a Range request, 64 KiB at a time."""

    async def read(offset: int) -> AsyncIterator[bytes]:
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        async with http.stream("GET", url, headers=headers) as response:
            if response.status_code not in (200, 206):
                raise Transient(response.status_code, "sourceUnavailable", f"video URL answered {response.status_code}")
            skip = offset if response.status_code == 200 else 0  # server ignored Range
            async for piece in response.aiter_bytes(PIECE):
                if skip:
                    cut = min(skip, len(piece))
                    piece, skip = piece[cut:], skip - cut
                    if not piece:
                        continue
                yield piece

    return read
