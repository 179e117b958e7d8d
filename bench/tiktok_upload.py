"""FILE_UPLOAD throughput and memory: a 300 MB video through the sandbox, our chunked uploader
(32 MiB chunks by default, each a ranged GET from the file host piped into one PUT) next to a plain streamed
PUT of the same bytes (one GET piped into one PUT), in the same run, against the same sandbox
process. Also the uploader's peak RSS growth (sampled every 10 ms from /proc/self/status).
Run: ``python bench/tiktok_upload.py [--mb 300] [--rounds 2]``."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path

import httpx

from socialsync.devservers import free_port
from socialsync.platforms.tiktok.upload import ChunkPlan, upload_from

MIB = 1024 * 1024
REPO = Path(__file__).resolve().parent.parent
API = "/open.tiktokapis.com"


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class PeakRss:
    def __init__(self) -> None:
        self.base = rss_bytes()
        self.peak = self.base
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, rss_bytes())
            await asyncio.sleep(0.01)

    def __enter__(self) -> PeakRss:
        self._task = asyncio.get_running_loop().create_task(self._sample())
        return self

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()

    @property
    def growth(self) -> int:
        return self.peak - self.base


async def init(http: httpx.AsyncClient, token: str, plan: ChunkPlan) -> dict:
    r = await http.post(f"{API}/v2/post/publish/video/init/", headers={"Authorization": f"Bearer {token}"}, json={
        "post_info": {"title": "bench", "privacy_level": "SELF_ONLY"},
        "source_info": {"source": "FILE_UPLOAD", "video_size": plan.video_size, "chunk_size": plan.chunk_size,
                        "total_chunk_count": plan.total_chunks}})
    body = r.json()
    assert body["error"]["code"] == "ok", body
    return body["data"]


async def plain_put(http: httpx.AsyncClient, source: str, upload_url: str, size: int) -> None:
    async with http.stream("GET", source) as src:
        r = await http.put(upload_url, content=src.aiter_raw(256 * 1024), headers={
            "Content-Type": "video/mp4", "Content-Length": str(size), "Content-Range": f"bytes 0-{size - 1}/{size}"})
    assert r.status_code == 201, r.text


async def main(mb: int, rounds: int, chunk_mb: int) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(port)], cwd=REPO,  # noqa: S603
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    size = mb * MIB
    try:
        async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(120.0)) as http:
            for _ in range(100):
                try:
                    if (await http.get("/_sandbox/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            # The baseline sends the file as one chunk: let the sandbox accept that size.
            await http.post("/_sandbox/tiktok/limits", json={"max_chunk_bytes": 2 * size, "max_last_chunk_bytes": 2 * size, "init_per_minute": 1000})
            token = (await http.post("/_sandbox/tiktok/tokens", json={"account": "tt_creator"})).json()["access_token"]
            source = f"{base}/files.sandbox.test/videos/bench.mp4?size={size}"
            print(f"{mb} MiB video, sandbox on {base} (separate process), chunk {chunk_mb} MiB")
            for i in range(1, rounds + 1):
                one = ChunkPlan(size, size, 1)
                target = await init(http, token, one)
                t0 = time.perf_counter()
                await plain_put(http, source, target["upload_url"], size)
                plain = time.perf_counter() - t0
                plan = ChunkPlan.for_size(size, chunk_mb * MIB)
                target = await init(http, token, plan)
                with PeakRss() as rss:
                    t0 = time.perf_counter()
                    done = await upload_from(http, source, target["upload_url"], plan, start_chunk=0,
                                             tries=3, budget_seconds=3600)
                    ours = time.perf_counter() - t0
                assert done == plan.total_chunks
                log = (await http.get("/_sandbox/tiktok/publishes")).json()["publishes"]
                assert log[-1]["uploaded_bytes"] == size and log[-2]["sha256"] == log[-1]["sha256"]
                print(f"  round {i}: plain streamed PUT {mb / plain:6.1f} MiB/s | chunked uploader "
                      f"{mb / ours:6.1f} MiB/s ({plan.total_chunks} chunks) | ratio {plain / ours:.2f} | "
                      f"peak RSS growth {rss.growth / MIB:.1f} MiB (2 chunks = {2 * plan.chunk_size / MIB:.0f} MiB)")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--chunk-mb", type=int, default=32, help="5-64 (the setting UPLOAD_CHUNK_BYTES defaults to 32)")
    args = parser.parse_args()
    asyncio.run(main(args.mb, args.rounds, args.chunk_mb))
