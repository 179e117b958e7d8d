"""Chaos run: 500 posts of mixed types, the worker process SIGKILLed every few seconds, and
~10 % of media_publish answers lost after Meta published. Prints duplicates (target 0), posts
not final (target 0) and the total time.

    python bench/publish_chaos.py [--posts 500] [--accounts 5]
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

from sandbox.publishing import publishing_of
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


async def main(posts: int, accounts: int, budget_seconds: float, kill_every: tuple[float, float]) -> None:
    rng = random.Random(7)
    timings = {"PUBLISH_POLL_FIRST_SECONDS": "0.5", "PUBLISH_POLL_CAP_SECONDS": "3",
               "PUBLISH_RETRY_BASE_SECONDS": "0.5", "PUBLISH_STUCK_AFTER_SECONDS": "8",
               "PUBLISH_SWEEP_EVERY_SECONDS": "3", "HTTP_TIMEOUT_SECONDS": "2", "WORKER_MAX_JOBS": "40"}
    async with stack() as s:
        await s.sandbox.post("/_sandbox/publishing", json={
            "video_processing": {"kind": "lognormal", "median": 2.0, "sigma": 0.6, "cap": 15}, "quota_total": 1000, "seed": 7})
        await s.sandbox.post("/_sandbox/faults", json={
            "method": "POST", "path": "*/media_publish", "phase": "after", "delay_seconds": 3.0, "count": posts // 10})
        account_ids = await s.accounts(accounts)
        started = time.monotonic()
        ids = [await s.post(account_ids[i % accounts], body(KINDS[i % 4], i)) for i in range(posts)]
        col = s.services.store[post_store.COLLECTION]

        async def unsettled() -> int:
            return await col.count_documents({"state": {"$nin": list(post_store.FINAL_STATES)}})

        kills = 0
        deadline = started + budget_seconds
        proc = worker(s.settings, timings)
        while time.monotonic() < deadline and await unsettled():
            await asyncio.sleep(rng.uniform(*kill_every))
            if await unsettled():
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
                proc = worker(s.settings, timings)
        # Let it settle without kills (the last posts may need one sweep).
        while time.monotonic() < deadline + 60 and await unsettled():
            await asyncio.sleep(0.5)
        total = time.monotonic() - started
        proc.send_signal(signal.SIGKILL)
        proc.wait()

        log = publishing_of(s.sandbox_state).log
        by_caption = Counter(r.caption for r in log if r.media_product_type != "STORY")
        by_container = Counter(r.container_id for r in log)
        states = Counter([d["state"] async for d in col.find({"_id": {"$in": ids}}, {"state": 1})])
        published_docs = await col.count_documents({"state": "published"})
        duplicates = sum(n - 1 for n in by_caption.values() if n > 1) + sum(n - 1 for n in by_container.values() if n > 1)
        print(f"posts: {posts} on {accounts} accounts, worker kills: {kills}, lost publish answers: {posts // 10}")
        print(f"states: {dict(states)}")
        print(f"published in sandbox: {len(log)}, published in socialsync: {published_docs}")
        print(f"duplicates: {duplicates} (target 0)")
        print(f"not final after the run: {await unsettled()} (target 0)")
        print(f"total time: {total:.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--accounts", type=int, default=5)
    parser.add_argument("--budget-seconds", type=float, default=200)
    parser.add_argument("--kill-min", type=float, default=5.0)
    parser.add_argument("--kill-max", type=float, default=10.0)
    args = parser.parse_args()
    asyncio.run(main(args.posts, args.accounts, args.budget_seconds, (args.kill_min, args.kill_max)))
