"""Chaos run: 500 posts of mixed types; for a chaos phase the worker process is SIGKILLed every
few seconds (uniform 3–8 s) and restarted, and the first 10 % of media_publish answers are lost
after Meta published; then the killing stops and the last worker finishes. Prints duplicates
(target 0), posts not final at the end (target 0), total time to all-final, kills, and the time
from the last kill to all-final. Bounded: gives up after --limit-seconds (default 300).

    python bench/publish_chaos.py [--posts 500] [--accounts 5] [--chaos-seconds 120]
        [--kill-min 3 --kill-max 8] [--stuck-after S --sweep-every S]   # default: the settings' defaults
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from publish_common import body, stack

from socialsync.store import posts as post_store

REPO = Path(__file__).resolve().parent.parent
KINDS = ("image", "reel", "carousel", "story")


def worker(settings, env_extra: dict[str, str]) -> subprocess.Popen[bytes]:  # noqa: ANN001
    values = {
        "REDIS_URL": settings.redis_url, "MONGODB_URL": settings.mongodb_url, "MONGODB_DB": settings.mongodb_db,
        "QUEUE_NAME": settings.queue_name, "SANDBOX": "true", "SANDBOX_URL": settings.sandbox_url,
        "TOKEN_KEYS": ",".join(k.get_secret_value() for k in settings.token_keys), "LOG_LEVEL": "ERROR",
        **env_extra,
    }
    env = {**os.environ, **{f"SOCIALSYNC_{k}": v for k, v in values.items()}}
    return subprocess.Popen([sys.executable, "-m", "socialsync.cli", "worker"], cwd=REPO, env=env,  # noqa: S603
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    posts = args.posts
    timings = {"PUBLISH_POLL_FIRST_SECONDS": "0.5", "PUBLISH_POLL_CAP_SECONDS": "3",
               "PUBLISH_RETRY_BASE_SECONDS": "0.5", "HTTP_TIMEOUT_SECONDS": "2", "WORKER_MAX_JOBS": "40"}
    if args.stuck_after is not None:
        timings["PUBLISH_STUCK_AFTER_SECONDS"] = str(args.stuck_after)
    if args.sweep_every is not None:
        timings["PUBLISH_SWEEP_EVERY_SECONDS"] = str(args.sweep_every)
    async with stack() as s:
        await s.sandbox.post("/_sandbox/publishing", json={
            "video_processing": {"kind": "lognormal", "median": 2.0, "sigma": 0.6, "cap": 15}, "quota_total": 1000, "seed": 7})
        await s.sandbox.post("/_sandbox/faults", json={
            "method": "POST", "path": "*/media_publish", "phase": "after", "delay_seconds": 3.0, "count": posts // 10})
        account_ids = await s.accounts(args.accounts)
        started = time.monotonic()
        deadline = started + args.limit_seconds
        ids = [await s.post(account_ids[i % args.accounts], body(KINDS[i % 4], i)) for i in range(posts)]
        posted = time.monotonic() - started
        col = s.services.store[post_store.COLLECTION]

        async def unsettled() -> int:
            return await col.count_documents({"state": {"$nin": list(post_store.FINAL_STATES)}})

        progress: list[tuple[float, int]] = []
        kills = 0
        last_kill: float | None = None
        proc = worker(s.settings, timings)
        chaos_until = min(deadline, time.monotonic() + args.chaos_seconds)
        while time.monotonic() < chaos_until and await unsettled():
            await asyncio.sleep(min(rng.uniform(args.kill_min, args.kill_max), max(0.0, chaos_until - time.monotonic())))
            if time.monotonic() >= chaos_until:
                break
            if await unsettled():
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
                last_kill = time.monotonic()
                progress.append((last_kill - started, posts - await unsettled()))
                proc = worker(s.settings, timings)
        chaos_ended = time.monotonic()
        # No more kills: let the last worker finish, within the overall limit.
        next_mark = time.monotonic() + 10
        while time.monotonic() < deadline and await unsettled():
            await asyncio.sleep(0.25)
            if time.monotonic() >= next_mark:
                progress.append((time.monotonic() - started, posts - await unsettled()))
                next_mark += 10
        left = await unsettled()
        finished = time.monotonic()
        proc.send_signal(signal.SIGKILL)
        proc.wait()

        log = s.published()
        by_caption = Counter(r.details["caption"] for r in log if r.details["media_product_type"] != "STORY")
        by_container = Counter(r.details["container_id"] for r in log)
        states = Counter([d["state"] async for d in col.find({"_id": {"$in": ids}}, {"state": 1})])
        errors = Counter([d["error"]["code"] async for d in col.find({"state": "failed"}, {"error": 1})])
        published_docs = await col.count_documents({"state": "published"})
        sweeps = await col.count_documents({"attempts.step": "sweep"})
        duplicates = sum(n - 1 for n in by_caption.values() if n > 1) + sum(n - 1 for n in by_container.values() if n > 1)
        print(f"posts: {posts} on {args.accounts} accounts (submitted in {posted:.1f} s); "
              f"lost publish answers: {posts // 10}; stuck-after/sweep-every: "
              f"{timings.get('PUBLISH_STUCK_AFTER_SECONDS', 'default')}/{timings.get('PUBLISH_SWEEP_EVERY_SECONDS', 'default')}")
        print(f"chaos phase: {chaos_ended - started:.1f} s, worker kills: {kills} "
              f"(every {args.kill_min:g}–{args.kill_max:g} s)")
        print(f"states: {dict(states)}" + (f"; failures: {dict(errors)}" if errors else ""))
        print(f"published in sandbox: {len(log)}, published in socialsync: {published_docs}; "
              f"posts rescued by the sweep at least once: {sweeps}")
        print(f"duplicates: {duplicates} (target 0)")
        print(f"not final at the end: {left} (target 0)")
        if left == 0:
            print(f"total time to all-final: {finished - started:.1f} s")
            if last_kill is not None:
                print(f"last kill to all-final: {finished - last_kill:.1f} s")
        else:
            print(f"gave up after {finished - started:.1f} s (limit {args.limit_seconds:g} s)")
        print("final posts over time (s → n): " + ", ".join(f"{t:.0f}→{n}" for t, n in progress))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--accounts", type=int, default=5)
    parser.add_argument("--chaos-seconds", type=float, default=120, help="how long the worker is killed")
    parser.add_argument("--limit-seconds", type=float, default=300, help="give up after this (from the first post)")
    parser.add_argument("--kill-min", type=float, default=3.0)
    parser.add_argument("--kill-max", type=float, default=8.0)
    parser.add_argument("--stuck-after", type=float, default=None, help="PUBLISH_STUCK_AFTER_SECONDS (default: setting's)")
    parser.add_argument("--sweep-every", type=int, default=None, help="PUBLISH_SWEEP_EVERY_SECONDS (default: setting's)")
    asyncio.run(main(parser.parse_args()))
