"""Where a webhook delivery's storage time goes: one-comment deliveries at a steady rate into the
receiver (a child process), processed by the real worker in this process, every MongoDB command
of the worker counted by pymongo's command monitoring (bench/mongo_ops.py), per delivery. The
receiver's own write (one insert of the event) is not in the table.

Run: python bench/webhook_storage_ops.py [--rate 50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing as mp
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mongo_ops import Counter  # noqa: E402
from pymongo import monitoring  # noqa: E402
from scale_webhooks import step  # noqa: E402
from webhooks_receiver import run_receiver, seed_account, settings_for, wait_port  # noqa: E402

from socialsync.crypto import generate_key  # noqa: E402
from socialsync.devservers import free_port, mongo_process, redis_process  # noqa: E402
from worker.main import build_worker  # noqa: E402


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--seconds", type=float, default=20)
    args = ap.parse_args()
    counter = Counter()
    monitoring.register(counter)
    tmp = Path(tempfile.mkdtemp(prefix="bench-webhook-ops-"))
    redis, mongo = redis_process(tmp / "redis").start(), mongo_process(tmp / "mongo").start()
    key = generate_key()
    port = free_port()
    receiver = mp.get_context("spawn").Process(target=run_receiver, args=(redis.url, mongo.url, key, port), daemon=True)
    try:
        await seed_account(redis.url, mongo.url, key)
        receiver.start()
        await wait_port(port)
        logging.disable(logging.WARNING)
        group = build_worker(settings_for(redis.url, mongo.url, key, 0), handle_signals=False)
        worker = asyncio.create_task(group.async_run())
        await asyncio.sleep(2)
        counter.on = True
        r = await step(port, mongo.url, args.seconds, args.rate, "ops")
        counter.on = False
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        await group.close()
        print(f"{r['stored']} of {r['acked']} acknowledged deliveries stored at {r['sent_rate']:.0f}/s; "
              f"POST → comment p50 {r['p50'] * 1000:.0f} ms, p99 {r['p99'] * 1000:.0f} ms")
        print("the worker's MongoDB commands (the receiver's insert of each event is not counted):")
        print(counter.table(max(1, r["stored"]), "delivery"))
    finally:
        receiver.terminate()
        receiver.join(5)
        redis.stop()
        mongo.stop()


if __name__ == "__main__":
    asyncio.run(main())
