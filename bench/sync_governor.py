"""The governor against a tight budget: 50 accounts whose Business Use Case budget is half of
what their full sync needs (window 60 s). Prints the throttle errors the sandbox answered
(target 0), whether every account completed, the wall time, and the share of the allowed
budget actually used (target ≥ 85 %). Run: ``python bench/sync_governor.py`` (~2–3 minutes)."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter

from sync_harness import system

from sandbox.config import SandboxConfig

ACCOUNTS = 50
MEDIA = 40
WINDOW = 60


async def main() -> None:
    async with system(in_process_sandbox=SandboxConfig(request_log_size=200_000),
                      ratelimit_pace_seconds=1.0) as bench:
        # 1. What one full sync of this shape costs (a probe account with a generous budget).
        probe = await bench.ig_account("probe", media=MEDIA, before_conversion=0)
        run = await bench.sync(probe)
        await bench.run_worker()
        need = (await bench.run_doc(run["_id"]))["api_calls"]
        budget = max(2, need // 2)
        print(f"a full sync of one account ({MEDIA} media) needs {need} calls; budget per {WINDOW} s window: {budget}")
        # 2. 50 accounts on that budget.
        await bench.sandbox.post("/_sandbox/reset")
        await bench.services.redis.flushdb()
        ids = []
        for i in range(ACCOUNTS):
            name = f"gov_{i:02d}"
            ids.append(await bench.ig_account(name, media=MEDIA, before_conversion=0))
            await bench.sandbox.post("/_sandbox/usage", json={"account": name, "buc_calls_per_window": budget,
                                                             "buc_window_seconds": WINDOW})
        runs = [await bench.sync(a) for a in ids]
        started = time.perf_counter()
        await bench.run_worker()
        seconds = time.perf_counter() - started
        docs = [await bench.run_doc(r["_id"]) for r in runs]
        log = await bench.requests(200_000)
        throttled = [r for r in log if r["status"] == 400 and r["account"] and r["endpoint"] != "(unmatched)"]
        codes = Counter(r["status"] for r in log)
        complete = sum(1 for d in docs if d["status"] == "success")
        calls = sum(d["api_calls"] for d in docs)
        first_window = []
        for d in docs:
            ig = (await bench.services.store.accounts.find_one({"_id": d["account_id"]}))["external_id"]
            times = sorted(r["at"] for r in log if r["account"] == ig)
            first = times[0]
            # calls made before the first window closed, against the budget of that window
            in_first = sum(1 for t in times if (time.mktime(time.strptime(t, "%Y-%m-%dT%H:%M:%S+0000"))
                                                - time.mktime(time.strptime(first, "%Y-%m-%dT%H:%M:%S+0000"))) < WINDOW)
            first_window.append(min(in_first, budget) / budget)
        windows = math.ceil(seconds / WINDOW)
        waited = sum(d["rate_limit_wait_seconds"] for d in docs)
        print(f"accounts complete: {complete}/{ACCOUNTS}; wall time {seconds:.1f} s; calls {calls}")
        print(f"throttle errors answered by the sandbox: {len(throttled)} (HTTP statuses {dict(codes)})")
        print(f"share of the first window's budget used before pausing: {100 * sum(first_window) / len(first_window):.1f} %")
        print(f"share of the budget of the {windows} windows elapsed that was used: "
              f"{100 * calls / (budget * windows * ACCOUNTS):.1f} %")
        print(f"deferrals {sum(d['deferrals'] for d in docs)}, time deferred in total {waited:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
