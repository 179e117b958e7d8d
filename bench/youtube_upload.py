"""500 MB resumable upload with a connection drop at 60 %, next to a plain streamed PUT.

    python bench/youtube_upload.py [--mb 500] [--chunk-mib 8] [--drop 0.6]

The sandbox runs as a child process (``python -m sandbox``); the video file is served by a
small aiohttp server in another child (FileResponse, Range support). In this process:
1. plain: one streamed PUT of the whole file to a resumable session (no chunks, no drop);
2. ours: `ResumableUpload` (8 MiB chunks, 64 KiB reads from the URL) with the sandbox dropping
   the connection once the session holds ``drop`` of the file; probe, resume.
Prints MB/s of both, bytes re-sent, and this process's peak RSS growth during each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from socialsync.devservers import free_port  # noqa: E402
from socialsync.platforms.youtube.upload import BLOCK, ResumableUpload, http_source  # noqa: E402
from tests.youtube.sandbox_helpers import UPLOAD_URL, login  # noqa: E402

FILE_SERVER = """
import sys
from aiohttp import web
path = sys.argv[1]
async def clip(request):
    return web.FileResponse(path)
app = web.Application()
app.router.add_route("*", "/clip.mp4", clip)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[2]), print=None)
"""


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class PeakRss:
    def __init__(self) -> None:
        self.start = rss_kib()
        self.peak = self.start
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            self.peak = max(self.peak, rss_kib())
            await asyncio.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self.start = self.peak = rss_kib()
        self._task = asyncio.get_running_loop().create_task(self._watch())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        self.peak = max(self.peak, rss_kib())

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.start) / 1024


async def wait_up(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


class Sessions:
    def __init__(self) -> None:
        self.uri: str | None = None

    async def load(self) -> str | None:
        return self.uri

    async def save(self, uri: str) -> bool:
        if self.uri:
            return False
        self.uri = uri
        return True

    async def drop(self, uri: str) -> None:
        self.uri = None


async def main(mb: int, chunk_mib: int, drop: float) -> None:
    total = mb * 1024 * 1024
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "clip.mp4"
    with path.open("wb") as f:
        for _ in range(mb):
            f.write(os.urandom(1024 * 1024))
    sb_port, file_port = free_port(), free_port()
    sandbox = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(sb_port)])
    files = subprocess.Popen([sys.executable, "-c", FILE_SERVER, str(path), str(file_port)])
    sb, video = f"http://127.0.0.1:{sb_port}", f"http://127.0.0.1:{file_port}/clip.mp4"
    try:
        await wait_up(sb + "/_sandbox/health")
        await wait_up(video)
        timeout = httpx.Timeout(120.0)
        async with httpx.AsyncClient(base_url=sb, timeout=timeout) as yts, \
                httpx.AsyncClient(timeout=timeout) as http:
            tokens = await login(yts)
            resource = {"snippet": {"title": "bench", "categoryId": "22"}, "status": {"privacyStatus": "private"}}

            # 1. plain streamed PUT, whole file in one request
            init = await yts.post(UPLOAD_URL, params={"uploadType": "resumable", "part": "snippet,status"},
                                  headers={**tokens.headers, "X-Upload-Content-Length": str(total)}, json=resource)
            session = init.headers["location"]
            source = http_source(http, video)
            with PeakRss() as plain_rss:
                t0 = time.perf_counter()
                r = await http.put(session, content=source(0), headers={
                    "Content-Range": f"bytes 0-{total - 1}/{total}", "Content-Length": str(total)})
                plain_s = time.perf_counter() - t0
            assert r.status_code == 200, r.text

            # 2. ours: chunked resumable with a drop at `drop`
            drop_at = int(total * drop) // BLOCK * BLOCK
            await yts.post("/_sandbox/youtube/uploads/drop", json={"after_bytes": drop_at})
            upload = ResumableUpload(http, sb + UPLOAD_URL, lambda: tokens.access_token, Sessions(),
                                     total=total, chunk_bytes=chunk_mib * 1024 * 1024)
            with PeakRss() as ours_rss:
                t0 = time.perf_counter()
                result = await upload.run(http_source(http, video), resource)
                ours_s = time.perf_counter() - t0
            published = (await yts.get("/_sandbox/youtube/published")).json()["published"]
        chunk = chunk_mib * 1024 * 1024
        resent = result.bytes_sent - total
        print(f"file {mb} MB, chunk {chunk_mib} MiB, drop once the session held {drop_at / total:.0%}")
        print(f"{'':28}{'plain PUT':>14}{'resumable (ours)':>20}")
        print(f"{'MB/s':28}{mb / plain_s:>14.1f}{mb / ours_s:>20.1f}")
        print(f"{'seconds':28}{plain_s:>14.2f}{ours_s:>20.2f}")
        print(f"{'peak RSS growth (MiB)':28}{plain_rss.growth_mib:>14.1f}{ours_rss.growth_mib:>20.1f}")
        print(f"bytes re-sent: {resent:,} ({resent / chunk:.2f} chunks); resumed from {result.resumed_from}; "
              f"sessions {result.sessions}; videos published {len(published)} (1 plain + 1 ours)")
        print(f"goals: re-sent <= 1 chunk: {resent <= chunk}; RSS growth < 2 chunks: "
              f"{ours_rss.growth_mib < 2 * chunk_mib}")
    finally:
        for proc in (sandbox, files):
            proc.terminate()
            proc.wait(10)
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--chunk-mib", type=int, default=8)
    parser.add_argument("--drop", type=float, default=0.6)
    args = parser.parse_args()
    asyncio.run(main(args.mb, args.chunk_mib, args.drop))
