"""Many accounts on one worker process: N accounts × M media (default 200 × 200), full syncs
through the real arq worker. Prints wall time, peak RSS of this process (the worker; the sandbox
runs as a child process), calls spent and documents written.
Run: ``python bench/sync_scale.py [accounts] [media]``."""

from __future__ import annotations

import asyncio
import resource
import sys
import time

from sync_harness import system


async def main(accounts: int, media: int) -> None:
    async with system() as bench:
        started = time.perf_counter()
        ids = [await bench.ig_account(f"scale_{i:03d}", media=media) for i in range(accounts)]
        print(f"set-up: {accounts} accounts × {media} media seeded in {time.perf_counter() - started:.1f} s")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        runs = [await bench.sync(a) for a in ids]
        seconds = await bench.run_worker()
        docs = [await bench.run_doc(r["_id"]) for r in runs]
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        calls = sum(d["api_calls"] for d in docs)
        stored = await bench.services.store["media"].count_documents({})
        statuses = {s: sum(1 for d in docs if d["status"] == s) for s in {d["status"] for d in docs}}
        print(f"full syncs: {statuses}; wall time {seconds:.1f} s ({accounts / seconds:.1f} accounts/s, "
              f"{calls / seconds:.0f} calls/s)")
        print(f"calls {calls} ({calls / accounts:.1f} per account); media documents {stored}")
        print(f"peak RSS of the worker process: {rss / 1024:.0f} MiB (before the syncs: {rss_before / 1024:.0f} MiB)")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    asyncio.run(main(n, m))
