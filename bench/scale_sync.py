"""Sync scaling over worker *processes*: N accounts × M media, full syncs, with 1, 2 and 4
`socialsync worker` OS processes, the sandbox answering every platform call after a fixed latency
(100 ms, like the Graph API; `socialsync sandbox --latency-ms`). Prints, per worker count: wall
time from enqueue to every run final, speed-up against 1 worker, calls/s, and duplicate or
overlapping runs (must be 0). Each count runs on a fresh database and a reset sandbox.

Run: ``python bench/scale_sync.py [--accounts 200] [--media 50] [--workers 1,2,4] [--max-jobs N]
[--profile file]`` (with a profile path, the first worker of the largest count runs under cProfile). Also prints the CPU
seconds each process used per round (bench/proc_cpu.py), to say what limits the speed-up.
"""

from __future__ import annotations

import argparse
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

from proc_cpu import CpuMeter, wait_idle  # noqa: E402
from sync_harness import Bench  # noqa: E402

from socialsync.config import Settings  # noqa: E402
from socialsync.context import open_services  # noqa: E402
from socialsync.crypto import generate_key  # noqa: E402
from sandbox.meta.config import MetaConfig  # noqa: E402
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


async def one_round(workers: int, accounts: int, media: int, redis_url: str, mongo_url: str, sandbox_url: str,
                    pids: dict[str, list[int]], profile: Path | None = None, max_jobs: int | None = None) -> dict:
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
        # --profile: the first worker runs under cProfile (written when SIGTERM ends it).
        argv = [sys.executable, "-m", "socialsync.cli", "worker"]
        profiled = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "socialsync.cli", "worker"]
        procs = [subprocess.Popen(profiled if profile and i == 0 else argv, cwd=ROOT,  # noqa: S603
                                  env=child_env(settings, **({"WORKER_MAX_JOBS": str(max_jobs)} if max_jobs else {})), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for i in range(workers)]
        meter = CpuMeter({"workers": [p.pid for p in procs], **pids})
        try:
            await wait_idle([p.pid for p in procs])  # started (imports, connections) before the clock runs
            meter.start()
            started = time.perf_counter()
            runs = [await bench.sync(a) for a in ids]
            run_ids = [r["_id"] for r in runs]
            while await services.store["sync_runs"].count_documents(
                    {"_id": {"$in": run_ids}, "status": {"$in": ["success", "partial", "failed", "skipped"]}}) < len(run_ids):
                await asyncio.sleep(0.2)
            wall = time.perf_counter() - started
            meter.stop()
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(60)
        docs = [d async for d in services.store["sync_runs"].find({"account_id": {"$in": ids}})]
        # Runs of one account and kind: the bench asked for one full run each; the workers' own
        # scheduler may start scheduled kinds meanwhile (counted apart, never a duplicate).
        by_subject: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for d in docs:
            by_subject[(d["account_id"], d["kind"])].append(d)
        duplicates = sum(len(v) - 1 for (_a, kind), v in by_subject.items() if kind == "full")
        scheduled = sum(1 for d in docs if d["trigger"] == "schedule")
        calls = sum(d["api_calls"] for d in docs)
        statuses: dict[str, int] = defaultdict(int)
        for d in docs:
            statuses[d["status"]] += 1
        # No two runs of one account (any kind: the account's sync lease) overlapped in time.
        by_account: dict[str, list[dict]] = defaultdict(list)
        for d in docs:
            by_account[d["account_id"]].append(d)
        overlaps = sum(1 for v in by_account.values() for a in v for b in v
                       if a is not b and a.get("started_at") and b.get("started_at") and a.get("finished_at")
                       and a["started_at"] < b["started_at"] < a["finished_at"])
        return {"workers": workers, "wall": wall, "calls": calls, "duplicates": duplicates, "overlaps": overlaps,
                "scheduled": scheduled, "runs": len(docs),
                "statuses": dict(statuses), "cpu": meter.line(wall), "cpu_used": meter.used, "cpu_total": sum(meter.used.values()) / wall}


async def main(accounts: int, media: int, counts: list[int], profile: Path | None, max_jobs: int | None) -> None:
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
              f"{os.cpu_count()} cores, WORKER_MAX_JOBS {max_jobs or Settings.model_fields['worker_max_jobs'].default}; load average "
              f"{os.getloadavg()[0]:.1f} at the start")
        pids = {"sandbox": [sandbox.pid], "mongodb-wire": [mongo.proc.pid], "redis": [redis.proc.pid]}
        results = []
        for n in counts:
            r = await one_round(n, accounts, media, redis.url, mongo.url, url, pids,
                                profile if n == max(counts) else None, max_jobs)
            results.append(r)
            base = results[0]["wall"]
            print(f"  {n} worker process(es): wall {r['wall']:.1f} s, speed-up {base / r['wall']:.2f}x, "
                  f"{r['calls'] / r['wall']:.0f} calls/s ({r['calls']} calls), duplicate full runs {r['duplicates']}, "
                  f"overlapping runs {r['overlaps']}, runs {r['statuses']} ({r['scheduled']} started by the "
                  f"workers' scheduler)", flush=True)
            print(f"      CPU per run: workers {r['cpu_used']['workers'] / r['runs']:.2f} s, MongoDB-wire server "
                  f"{r['cpu_used']['mongodb-wire'] / r['runs']:.2f} s", flush=True)
            print(f"      CPU: {r['cpu']}; all {r['cpu_total']:.2f} of {os.cpu_count()} cores", flush=True)
        # The budgets these calls spend (sandbox defaults = Meta's documented figures, PLATFORM_FACTS.md §4).
        buc = MetaConfig().buc_calls_per_window
        app = MetaConfig().app_calls_per_hour
        calls = results[0]["calls"]
        print(f"rate budget: each account's Business Use Case budget is {buc} calls / 24 h; a full sync spent "
              f"{calls / accounts:.1f} calls per account ({100 * calls / accounts / buc:.1f} % of its day). "
              f"Sustained, {accounts} accounts may spend {accounts * buc / 86400:.1f} calls/s; the sandbox's "
              f"app budget is {app} calls / h ({app / 3600:.1f} calls/s sustained, {app} in any hour).")
    finally:
        sandbox.terminate()
        sandbox.wait(10)
        mongo.stop()
        redis.stop()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=200)
    ap.add_argument("--media", type=int, default=50)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--max-jobs", type=int, default=None, help="WORKER_MAX_JOBS of each worker (default: the setting's, 20)")
    ap.add_argument("--profile", type=Path, default=None, help="run the first worker of the largest count under cProfile")
    args = ap.parse_args()
    asyncio.run(main(args.accounts, args.media, [int(x) for x in args.workers.split(",")], args.profile, args.max_jobs))
