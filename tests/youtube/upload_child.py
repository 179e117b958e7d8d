"""Child process for the SIGKILL test: upload slowly with the session URI kept in a file."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from socialsync.platforms.youtube.upload import ResumableUpload


class FileSessions:
    def __init__(self, path: Path) -> None:
        self.path = path

    async def load(self) -> str | None:
        return self.path.read_text() or None if self.path.exists() else None

    async def save(self, uri: str) -> bool:
        if self.path.exists() and self.path.read_text():
            return False
        self.path.write_text(uri)  # durably, before the first byte
        return True

    async def drop(self, uri: str) -> None:
        self.path.write_text("")


def slow_source(data_path: Path, delay: float):  # type: ignore[no-untyped-def]
    def read(offset: int) -> AsyncIterator[bytes]:
        async def gen() -> AsyncIterator[bytes]:
            with data_path.open("rb") as f:
                f.seek(offset)
                while piece := f.read(64 * 1024):
                    yield piece
                    if delay:
                        await asyncio.sleep(delay)
        return gen()
    return read


async def main(init_url: str, token: str, sessions: str, data: str, delay: float) -> None:
    size = Path(data).stat().st_size
    async with httpx.AsyncClient(timeout=60) as http:
        upload = ResumableUpload(http, init_url, lambda: token, FileSessions(Path(sessions)), total=size,
                                 chunk_bytes=256 * 1024)
        result = await upload.run(slow_source(Path(data), delay),
                                  {"snippet": {"title": "killed", "categoryId": "22"}, "status": {"privacyStatus": "private"}})
        print(result.video_id, result.resumed_from, result.bytes_sent, flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])))
