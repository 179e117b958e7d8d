"""Where a full sync's storage time goes: N accounts × M media synced by the real worker (in this
process, burst mode), every MongoDB command counted by pymongo's command monitoring: per command
and collection, the round trips, the documents written and the time the MongoDB-wire server took
(as the client saw it). Used to find what limits bench/scale_sync.py (the storage server, a single
process, not the workers).

Run: python bench/sync_storage_ops.py [accounts] [media]     (default 20 50)
"""

from __future__ import annotations

import asyncio
import sys
import time

from mongo_ops import Counter
from pymongo import monitoring
from sync_harness import system


async def main(accounts: int, media: int) -> None:
    counter = Counter()
    monitoring.register(counter)
    async with system() as bench:
        ids = [await bench.ig_account(f"ops_{i:03d}", media=media) for i in range(accounts)]
        runs = [await bench.sync(a) for a in ids]
        counter.on = True
        started = time.perf_counter()
        await bench.run_worker()
        wall = time.perf_counter() - started
        counter.on = False
        docs = [await bench.run_doc(r["_id"]) for r in runs]
    statuses = {s: sum(1 for d in docs if d["status"] == s) for s in {d["status"] for d in docs}}
    print(f"{accounts} accounts × {media} media, full syncs {statuses}, worker wall {wall:.1f} s")
    print(counter.table(accounts, "run"))


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    asyncio.run(main(n, m))
