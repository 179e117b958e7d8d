"""Sync scaling over worker *processes*: N accounts × M media, full syncs, with 1, 2 and 4
`socialsync worker` OS processes, the sandbox answering every platform call after a fixed latency
(100 ms, like the Graph API; `socialsync sandbox --latency-ms`). Prints, per worker count: wall
time from enqueue to every run final, speed-up against 1 worker, calls/s, and duplicate or
overlapping runs (must be 0). Each count runs on a fresh database and a reset sandbox.

Run: ``python bench/scale_sync.py [accounts] [media] [workers,...]`` (default 200 50 1,2,4).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sync_harness import Bench  # noqa: E402

from socialsync.config import Settings  # noqa: E402
from socialsync.context import open_services  # noqa: E402
from socialsync.crypto import generate_key  # noqa: E402
from socialsync.devservers import free_port, mongo_process, redis_process  # noqa: E402

LATENCY_MS = 100


def child_env(settings: Settings, **extra: str) -> dict[str, str]:
    values = {
        "REDIS_URL": settings.redis_url, "MONGODB_URL": settings.mongodb_url, "MONGODB_DB": settings.mongodb_db,
        "QUEUE_NAME": settings.queue_name, "SANDBOX": "true", "SANDBOX_URL": settings.sandbox_url,
        "TOKEN_KEYS": ",".join(k.get_secret_value() for k in settings.token_keys), "LOG_LEVEL": "WARNING",
        **extra,
    }
    return {**os.environ, "PYTHONPATH": str(ROOT), **{f"SOCIALSYNC_{k}": str(v) for k, v in values.items()}}


async def one_round(workers: int, accounts: int, media: int, redis_url: str, mongo_url: str, sandbox_url: str) -> dict:
    settings = Settings(
        redis_url=redis_url, mongodb_url=mongo_url, mongodb_db=f"bench_scale_{workers}",
        queue_name=f"bench:scale:{workers}", sandbox=True, sandbox_url=sandbox_url, token_keys=generate_key(),
        log_level="WARNING",
    )
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=60) as sandbox, open_services(settings) as services:
        await services.redis.flushdb()
        await sandbox.post("/_sandbox/reset")
        bench = Bench(settings, services, sandbox)
        ids = [await bench.ig_account(f"scale_{workers}_{i:04d}", media=media) for i in range(accounts)]
        procs = [subprocess.Popen([sys.executable, "-m", "socialsync.cli", "worker"], cwd=ROOT,  # noqa: S603
                                  env=child_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for _ in range(workers)]
        try:
            await asyncio.sleep(3)  # the workers start (imports, connections) before the clock runs
            started = time.perf_counter()
            runs = [await bench.sync(a) for a in ids]
            run_ids = [r["_id"] for r in runs]
            while await services.store["sync_runs"].count_documents(
                    {"_id": {"$in": run_ids}, "status": {"$in": ["success", "partial", "failed", "skipped"]}}) < len(run_ids):
                await asyncio.sleep(0.2)
            wall = time.perf_counter() - started
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(60)
        docs = [d async for d in services.store["sync_runs"].find({"account_id": {"$in": ids}})]
        by_account: dict[str, list[dict]] = defaultdict(list)
        for d in docs:
            by_account[d["account_id"]].append(d)
        duplicates = sum(len(v) - 1 for v in by_account.values())
        calls = sum(d["api_calls"] for d in docs)
        statuses = defaultdict(int)
        for d in docs:
            statuses[d["status"]] += 1
        return {"workers": workers, "wall": wall, "calls": calls, "duplicates": duplicates, "statuses": dict(statuses)}


async def main(accounts: int, media: int, counts: list[int]) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="socialsync-scale-"))
    redis = redis_process(tmp / "redis").start()
    mongo = mongo_process(tmp / "mongo").start()
    port = free_port()
    sandbox = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "socialsync.cli", "sandbox", "--port", str(port), "--latency-ms", str(LATENCY_MS)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as client:
            for _ in range(200):
                try:
                    if (await client.get("/_sandbox/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        print(f"{accounts} accounts × {media} media, full syncs, sandbox latency {LATENCY_MS} ms per call, "
              f"{os.cpu_count()} cores")
        results = []
        for n in counts:
            r = await one_round(n, accounts, media, redis.url, mongo.url, url)
            results.append(r)
            base = results[0]["wall"]
            print(f"  {n} worker process(es): wall {r['wall']:.1f} s, speed-up {base / r['wall']:.2f}x, "
                  f"{r['calls'] / r['wall']:.0f} calls/s ({r['calls']} calls), duplicate runs {r['duplicates']}, "
                  f"runs {r['statuses']}", flush=True)
    finally:
        sandbox.terminate()
        sandbox.wait(10)
        mongo.stop()
        redis.stop()


if __name__ == "__main__":
    a = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    c = [int(x) for x in sys.argv[3].split(",")] if len(sys.argv) > 3 else [1, 2, 4]
    asyncio.run(main(a, m, c))
