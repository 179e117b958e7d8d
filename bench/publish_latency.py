"""Latency from a container reaching FINISHED to the post being live, p50/p99: socialsync's
adaptive polling next to a fixed 20-second poll, on the same processing-time distribution
(reels, lognormal median 8 s). Then API calls per post by type.

    python bench/publish_latency.py [--posts 40]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from publish_common import body, stack

from sandbox.meta.publishing import publishing_of
from socialsync.store import posts as post_store
from worker.main import build_worker

DISTRIBUTION = {"kind": "lognormal", "median": 8.0, "sigma": 0.7, "cap": 90}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def run_batch(kind: str, posts: int, seed: int, **timings: float) -> tuple[list[float], float, float]:
    """Publish ``posts`` posts of ``kind``; returns (FINISHED→live latencies, API calls per post, seconds)."""
    async with stack(**timings) as s:
        await s.sandbox.post("/_sandbox/publishing", json={
            "video_processing": DISTRIBUTION, "quota_total": 1000, "seed": seed})
        accounts = await s.accounts(2)
        calls_before = (await s.sandbox.get("/_sandbox/stats")).json()["total"]
        worker = build_worker(s.settings, burst=True, poll_delay=0.05, handle_signals=False, max_jobs=200)
        started = time.monotonic()
        for i in range(posts):
            await s.post(accounts[i % 2], body(kind, i))
        try:
            await worker.main()
        finally:
            await worker.close()
        elapsed = time.monotonic() - started
        col = s.services.store[post_store.COLLECTION]
        assert await col.count_documents({"state": "published"}) == posts
        calls = (await s.sandbox.get("/_sandbox/stats")).json()["total"] - calls_before
        publishing = publishing_of(s.sandbox_state)
        latencies = []
        for record in s.published():
            container = publishing.containers[record.details["container_id"]]
            ready = max([container.ready_at] + [publishing.containers[c].ready_at for c in container.children])
            latencies.append(record.at - ready)
        return latencies, calls / posts, elapsed


async def main(posts: int) -> None:
    adaptive = {"publish_poll_first_seconds": 2.0, "publish_poll_growth": 1.5, "publish_poll_cap_seconds": 15.0}
    fixed20 = {"publish_poll_first_seconds": 20.0, "publish_poll_growth": 1.0, "publish_poll_cap_seconds": 20.0}
    print(f"reels, processing lognormal(median {DISTRIBUTION['median']} s, sigma {DISTRIBUTION['sigma']}), {posts} posts")
    for name, timings in (("adaptive (socialsync defaults)", adaptive), ("fixed 20 s poll", fixed20)):
        lat, per_post, elapsed = await run_batch("reel", posts, seed=11, **timings)
        print(f"  {name:32s} FINISHED→live p50 {statistics.median(lat):5.1f} s  p99 {pct(lat, 0.99):5.1f} s  "
              f"calls/post {per_post:.1f}  run {elapsed:.0f} s")
    print("API calls per post by type (adaptive polling, same distribution):")
    for kind in ("image", "reel", "carousel", "story"):
        _, per_post, _ = await run_batch(kind, max(4, posts // 4), seed=3, **adaptive)
        print(f"  {kind:9s} {per_post:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=40)
    args = parser.parse_args()
    asyncio.run(main(args.posts))
