"""Webhook capacity as a ratio (issue 14 §3), on this machine, traffic on 127.0.0.1 only.

Steps the rate of signed one-comment deliveries (50, 100, 200, 400, 800/s…, each for a fixed
time) into one receiver process with 1, then 2 worker processes, until the p99 of POST → comment
stored exceeds 1 s (or an acknowledged delivery is not stored, or the generator cannot send at
the rate). In the same run it measures the MongoDB-wire server's own bulk-insert rate (and, for
the record, its bulk-update rate) with nothing else running, and reports the highest sustained
delivery rate against that storage limit divided by the writes each delivery needs.

Writes per delivery (from the code, a delivery carrying one new comment, tenant without a CRM
endpoint): the receiver's insert of the event (store/webhook_events.record); the drain's insert of
the comment (store/comments.upsert_many), its insert of the comment.created outbox record
(crm_events/outbox.record_many), its update marking the event processed
(store/webhook_events.mark_processed_many); the sequencer's update giving the outbox record its
ledger number (crm_events/ledger._sequence_batch). 3 inserts + 2 updates = 5, plus one counter
update per numbering batch (amortized, not counted).

Run: python bench/scale_webhooks.py [--rates 10,25,50,100,200,400,800,1600] [--step-seconds 20]
    [--workers 1,2]
Servers and workers run as child processes; the load generator is this process (aiohttp).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp  # noqa: E402
from pymongo import AsyncMongoClient, UpdateOne  # noqa: E402
from webhooks_receiver import (  # noqa: E402
    body_for, pct, run_receiver, run_worker, seed_account, wait_port,
)

from proc_cpu import CpuMeter  # noqa: E402
from socialsync.crypto import generate_key  # noqa: E402
from socialsync.devservers import free_port, mongo_process, redis_process  # noqa: E402
from socialsync.store.webhook_events import event_id  # noqa: E402
from tests.webhooks_helpers import sign  # noqa: E402

WRITES_PER_EVENT = 5
P99_LIMIT_S = 1.0


async def storage_rates(mongo_url: str, seconds: float, batch: int = 500) -> dict[str, float]:
    """Documents/s the MongoDB-wire server takes in ``insert_many`` batches (shaped like a stored
    webhook event), then updating the same documents the two ways the drain and the ledger do: an
    ``update_many`` with ``_id $in`` a batch (webhook_events.mark_processed_many), and a
    ``bulk_write`` of one ``UpdateOne`` by ``_id`` each (ledger._sequence_batch)."""
    client = AsyncMongoClient(mongo_url)
    col = client["bench_storage"]["probe"]
    await col.drop()
    payload = body_for(0, "probe").decode()
    inserted: list[list[str]] = []
    n = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        ids = [uuid.uuid4().hex for _ in range(batch)]
        now = datetime.now(UTC)
        await col.insert_many([{"_id": i, "source": "meta", "body": payload, "status": "pending",
                                "received_at": now, "deliveries": 1} for i in ids], ordered=False)
        inserted.append(ids)
        n += batch
    insert_rate = n / (time.perf_counter() - started)
    u = 0
    started = time.perf_counter()
    for ids in inserted:
        if time.perf_counter() - started >= seconds:
            break
        await col.update_many({"_id": {"$in": ids}}, {"$set": {"status": "processed", "processed_at": datetime.now(UTC)}})
        u += len(ids)
    update_rate = u / (time.perf_counter() - started)
    rest = inserted[len(inserted) * u // max(1, n):] or inserted
    v = 0
    started = time.perf_counter()
    for ids in rest:
        if time.perf_counter() - started >= seconds:
            break
        await col.bulk_write([UpdateOne({"_id": i}, {"$set": {"seq": k}}) for k, i in enumerate(ids)], ordered=True)
        v += len(ids)
    update_one_rate = v / (time.perf_counter() - started)
    await client.drop_database("bench_storage")
    await client.close()
    return {"insert": insert_rate, "update": update_rate, "update_one": update_one_rate}


async def step(port: int, mongo_url: str, seconds: float, rate: float, run: str) -> dict[str, float]:
    """``rate`` deliveries/s for ``seconds``; then wait (≤ 60 s) for every acknowledged one to be
    stored as a comment. Delay = the comment's created_at − the moment its POST was sent."""
    sent: dict[str, float] = {}
    event_of: dict[str, str] = {}
    acks: list[float] = []
    acked = 0
    url = f"http://127.0.0.1:{port}/webhooks/meta"
    interval = 1.0 / rate
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as c:
        async def one(n: int) -> None:
            nonlocal acked
            body = body_for(n, run)
            cid = f"{run}{n:09d}"
            event_of[cid] = event_id(body)
            sent[cid] = time.time()
            try:
                async with c.post(url, data=body, headers={"Content-Type": "application/json",
                                                           "X-Hub-Signature-256": sign(body)}) as r:
                    await r.read()
                    acked += r.status == 200
                acks.append(time.time() - sent[cid])
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass  # not acknowledged: Meta would retry; not counted as lost

        tasks = []
        start = time.perf_counter()
        n = 0
        while (now := time.perf_counter()) - start < seconds:
            target = start + n * interval
            if now < target:
                await asyncio.sleep(target - now)
            tasks.append(asyncio.create_task(one(n)))
            n += 1
        sending = time.perf_counter() - start
        await asyncio.gather(*tasks)
    client = AsyncMongoClient(mongo_url, tz_aware=True)
    col = client["bench"]["comments"]
    query = {"comment_id": {"$regex": f"^{run}"}}
    deadline = time.time() + 60
    while time.time() < deadline and await col.count_documents(query) < acked:
        await asyncio.sleep(0.5)
    created = {d["comment_id"]: d["created_at"].timestamp() async for d in col.find(query, {"comment_id": 1, "created_at": 1})}
    await client.close()
    delays = [at - sent[cid] for cid, at in created.items()]
    return {"rate": rate, "posted": n, "sent_rate": n / sending, "acked": acked, "stored": len(created),
            "lost": acked - len(created), "p50": pct(delays, 0.5), "p99": pct(delays, 0.99),
            "ack_p99": pct(acks, 0.99)}


async def one_round(workers: int, args: argparse.Namespace, redis_url: str, mongo_url: str, key: str,
                    pids: dict[str, list[int]]) -> list[dict[str, float]]:
    ctx = mp.get_context("spawn")
    await seed_account(redis_url, mongo_url, key)  # drops the database: a fresh start per round
    port = free_port()
    receiver = ctx.Process(target=run_receiver, args=(redis_url, mongo_url, key, port), daemon=True)
    receiver.start()
    procs = [receiver]
    results = []
    try:
        for _ in range(workers):
            procs.append(ctx.Process(target=run_worker, args=(redis_url, mongo_url, key), daemon=True))
            procs[-1].start()
        await wait_port(port)
        await asyncio.sleep(3)  # workers import and connect
        for rate in args.rates:
            meter = CpuMeter({"receiver": [receiver.pid], "workers": [p.pid for p in procs[1:]], **pids}).start()
            t0 = time.perf_counter()
            r = await step(port, mongo_url, args.step_seconds, rate, f"w{workers}r{rate}x")
            meter.stop()
            wall = time.perf_counter() - t0
            ok = r["p99"] <= P99_LIMIT_S and r["lost"] == 0 and r["sent_rate"] >= 0.95 * rate
            r["ok"] = ok
            results.append(r)
            print(f"  {workers} worker(s), {rate:5.0f}/s: sent {r['posted']} ({r['sent_rate']:.0f}/s), acked "
                  f"{r['acked']}, stored {r['stored']}, lost {r['lost']}; POST → comment stored p50 "
                  f"{r['p50'] * 1000:.0f} ms, p99 {r['p99'] * 1000:.0f} ms {'ok' if ok else 'OVER THE LIMIT'} (POST → 200 "
                  f"p99 {r['ack_p99'] * 1000:.0f} ms)",
                  flush=True)
            print(f"      load average {os.getloadavg()[0]:.1f}; CPU over {wall:.0f} s (sending + catching up): {meter.line(wall)}", flush=True)
            if not ok:
                break
            await asyncio.sleep(2)
    finally:
        for p in procs:
            p.terminate()
            p.join(10)
    return results


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rates", default="10,25,50,100,200,400,800,1600")
    ap.add_argument("--step-seconds", type=float, default=20)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--storage-seconds", type=float, default=8)
    args = ap.parse_args()
    args.rates = [float(x) for x in args.rates.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-webhooks-"))
    redis, mongo = redis_process(tmp / "redis").start(), mongo_process(tmp / "mongo").start()
    pids = {"mongodb-wire": [mongo.proc.pid], "redis": [redis.proc.pid]}
    key = generate_key()
    try:
        storage = await storage_rates(mongo.url, args.storage_seconds)
        limit = storage["insert"] / WRITES_PER_EVENT
        print(f"MongoDB-wire server alone: bulk insert {storage['insert']:.0f} docs/s; update_many by _id $in "
              f"{storage['update']:.0f} docs/s; bulk UpdateOne by _id {storage['update_one']:.0f} docs/s (batches of "
              f"500, ≤ {args.storage_seconds:g} s each)")
        mixed = 1 / (3 / storage["insert"] + 1 / storage["update"] + 1 / storage["update_one"])
        print(f"storage limit ÷ {WRITES_PER_EVENT} writes per delivery = {limit:.0f} deliveries/s (the issue's "
              f"figure: every write at the bulk-insert rate); at the rates of the writes a delivery really "
              f"makes (3 inserts, 1 update_many, 1 UpdateOne): {mixed:.0f} deliveries/s", flush=True)
        best: dict[int, float] = {}
        for w in (int(x) for x in args.workers.split(",")):
            print(f"== receiver × 1, worker × {w}, {args.step_seconds:g} s per step", flush=True)
            results = await one_round(w, args, redis.url, mongo.url, key, pids)
            best[w] = max((r["rate"] for r in results if r["ok"]), default=0.0)
        after = await storage_rates(mongo.url, args.storage_seconds)
        print(f"MongoDB-wire server alone, after the steps: bulk insert {after['insert']:.0f} docs/s, "
              f"bulk update {after['update']:.0f} docs/s")
        for w, rate in best.items():
            print(f"highest sustained rate with {w} worker(s): {rate:.0f}/s; ratio to the storage limit ÷ "
                  f"writes: {rate / limit:.2f} (goal ≥ 0.5); to the limit at the real write mix: {rate / mixed:.2f}")
    finally:
        redis.stop()
        mongo.stop()


if __name__ == "__main__":
    asyncio.run(main())
