"""Where a full sync's storage time goes: N accounts × M media synced by the real worker (in this
process, burst mode), every MongoDB command counted by pymongo's command monitoring: per command
and collection, the round trips, the documents written and the time the MongoDB-wire server took
(as the client saw it). Used to find what limits bench/scale_sync.py (the storage server, a single
process, not the workers).

Run: python bench/sync_storage_ops.py [accounts] [media] [kind]     (default 20 50 full; another kind
is measured after a first full sync that is not counted). Also prints the worker's CPU per run.
"""

from __future__ import annotations

import asyncio
import sys
import time

from mongo_ops import Counter
from pymongo import monitoring
from sync_harness import system


async def main(accounts: int, media: int, kind: str) -> None:
    counter = Counter()
    monitoring.register(counter)
    async with system() as bench:
        ids = [await bench.ig_account(f"ops_{i:03d}", media=media) for i in range(accounts)]
        if kind != "full":  # the first (full) sync is not counted: the runs measured come after it
            for a in ids:
                await bench.sync(a)
            await bench.run_worker()
        runs = [await bench.sync(a, kind) for a in ids]
        counter.on = True
        started, cpu = time.perf_counter(), time.process_time()
        await bench.run_worker()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        counter.on = False
        docs = [await bench.run_doc(r["_id"]) for r in runs]
    statuses = {s: sum(1 for d in docs if d["status"] == s) for s in {d["status"] for d in docs}}
    calls = sum(d["api_calls"] for d in docs) / accounts
    print(f"{accounts} accounts × {media} media, {kind} syncs {statuses}, worker wall {wall:.1f} s, worker CPU "
          f"{cpu / accounts:.3f} s per run, {calls:.1f} calls per run")
    print(counter.table(accounts, "run"))


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    k = sys.argv[3] if len(sys.argv) > 3 else "full"
    asyncio.run(main(n, m, k))
