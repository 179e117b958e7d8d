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
from collections import defaultdict

from pymongo import monitoring
from sync_harness import system


class Counter(monitoring.CommandListener):
    def __init__(self) -> None:
        self.pending: dict[int, tuple[str, str, int]] = {}
        self.rows: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0.0])
        self.on = False

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not self.on:
            return
        name = event.command_name
        cmd = event.command
        collection = str(cmd.get(name, "")) if name not in ("commitTransaction", "abortTransaction") else ""
        docs = len(cmd.get("documents", ())) or len(cmd.get("updates", ())) or len(cmd.get("deletes", ()))
        if name == "findAndModify":
            docs = 1
        self.pending[event.request_id] = (name, collection, docs)

    def _done(self, event: monitoring.CommandSucceededEvent | monitoring.CommandFailedEvent) -> None:
        found = self.pending.pop(event.request_id, None)
        if found is None:
            return
        name, collection, docs = found
        row = self.rows[(name, collection)]
        row[0] += 1
        row[1] += docs
        row[2] += event.duration_micros / 1e6

    succeeded = _done
    failed = _done


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
    print(f"{'command':<16} {'collection':<14} {'round trips/run':>16} {'docs/run':>9} {'server ms/run':>14}")
    total = [0.0, 0.0, 0.0]
    for (name, collection), (n, d, secs) in sorted(counter.rows.items(), key=lambda kv: -kv[1][2]):
        print(f"{name:<16} {collection:<14} {n / accounts:16.1f} {d / accounts:9.1f} {secs * 1000 / accounts:14.1f}")
        total = [total[0] + n, total[1] + d, total[2] + secs]
    print(f"{'all':<31} {total[0] / accounts:16.1f} {total[1] / accounts:9.1f} {total[2] * 1000 / accounts:14.1f}")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    asyncio.run(main(n, m))
