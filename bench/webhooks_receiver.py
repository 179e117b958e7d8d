"""Meta webhook receiver benchmarks (issue 4 §7), on this machine, traffic on 127.0.0.1 only.

1. Throughput: signed one-comment deliveries/s through the real receiver (signature check,
   validation, MongoDB insert, arq enqueue) vs a bare aiohttp handler answering 200, same run,
   same load generator (N concurrent keep-alive clients for a fixed time); p50/p99 latency.
2. End to end: a steady 200 deliveries/s for 60 s into the receiver with a real worker running;
   delay from POST to the comment document in MongoDB (its created_at), p50/p99; lost = posted
   and acknowledged but never stored.

Run: python bench/webhooks_receiver.py [--seconds 15] [--e2e-seconds 60] [--rate 200]
Starts its own Redis and MongoDB-wire server (socialsync.devservers); servers run as child
processes so the load generator does not share their event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402
import httpx  # noqa: E402

from socialsync.crypto import generate_key  # noqa: E402
from socialsync.devservers import free_port, mongo_process, redis_process  # noqa: E402
from tests.webhooks_helpers import sign  # noqa: E402

IG_ID = "17841400000000101"


def settings_for(redis_url: str, mongo_url: str, key: str, port: int):  # noqa: ANN201
    from socialsync.config import Settings  # noqa: PLC0415

    return Settings(redis_url=redis_url, mongodb_url=mongo_url, mongodb_db="bench", queue_name="bench:queue",
                    sandbox=True, web_port=port, token_keys=key, log_level="WARNING", log_json=True)


def run_receiver(redis_url: str, mongo_url: str, key: str, port: int) -> None:
    import logging  # noqa: PLC0415

    from aiohttp import web  # noqa: PLC0415

    from webhooks.app import build_app  # noqa: PLC0415

    logging.disable(logging.WARNING)
    web.run_app(build_app(settings_for(redis_url, mongo_url, key, port)), host="127.0.0.1", port=port,
                print=None, access_log=None)


def run_bare(port: int) -> None:
    from aiohttp import web  # noqa: PLC0415

    async def ok(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/webhooks/meta", ok)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def run_worker(redis_url: str, mongo_url: str, key: str) -> None:
    import logging  # noqa: PLC0415

    from worker.main import run  # noqa: PLC0415

    logging.disable(logging.WARNING)
    run(settings_for(redis_url, mongo_url, key, 0))


def body_for(n: int, run: str) -> bytes:
    change = {"field": "comments", "value": {"id": f"{run}{n:09d}", "text": f"comment {n}",
              "from": {"id": "1", "username": "fan"}, "media": {"id": "18000000000000001", "media_product_type": "FEED"}}}
    return json.dumps({"object": "instagram", "entry": [{"id": IG_ID, "time": int(time.time()), "changes": [change]}]}).encode()


async def wait_port(port: int) -> None:
    async with httpx.AsyncClient() as c:
        for _ in range(200):
            try:
                await c.get(f"http://127.0.0.1:{port}/healthz")
                return
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"port {port} never answered")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")


async def load(port: int, seconds: float, concurrency: int, run: str) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(10**9))
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            while time.perf_counter() < deadline:
                body = body_for(next(counter), run)
                t0 = time.perf_counter()
                r = await c.post("/webhooks/meta", content=body, headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)})
                latencies.append(time.perf_counter() - t0)
                errors += r.status_code != 200

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    return {"rps": len(latencies) / elapsed, "p50_ms": pct(latencies, 0.5) * 1000, "p99_ms": pct(latencies, 0.99) * 1000, "errors": errors, "n": len(latencies)}


async def seed_account(redis_url: str, mongo_url: str, key: str) -> None:
    from socialsync.context import open_services  # noqa: PLC0415
    from socialsync.store.accounts import ConnectedAccount, StoredToken, upsert_connected  # noqa: PLC0415

    async with open_services(settings_for(redis_url, mongo_url, key, 0)) as s:
        await s.store.db.client.drop_database("bench")
        from socialsync.store import ensure_indexes  # noqa: PLC0415

        await ensure_indexes(s.store)
        await upsert_connected(s.store, ConnectedAccount(
            tenant_id="ten_bench", platform="instagram", login="instagram", external_id=IG_ID, username="bench", scopes=[],
            token=StoredToken(ciphertext=s.cipher.encrypt("IGAAbench"), kind="ig_long_lived", issued_at=datetime.now(UTC))))


async def drop_backlog(redis_url: str, mongo_url: str) -> None:
    from pymongo import AsyncMongoClient  # noqa: PLC0415
    from redis.asyncio import Redis  # noqa: PLC0415

    r = Redis.from_url(redis_url)
    await r.delete("bench:queue")
    await r.aclose()
    client = AsyncMongoClient(mongo_url)
    await client["bench"]["webhook_events"].update_many({"status": "pending"}, {"$set": {"status": "processed"}})
    await client.close()


async def end_to_end(port: int, mongo_url: str, seconds: float, rate: float) -> dict[str, float]:
    from pymongo import AsyncMongoClient  # noqa: PLC0415

    from socialsync.store.webhook_events import event_id  # noqa: PLC0415

    sent: dict[str, float] = {}
    event_of: dict[str, str] = {}
    acks: list[float] = []
    acked = 0
    run = "e2e"
    interval = 1.0 / rate
    # aiohttp's client here, not httpx: at 200/s httpx kept a whole core busy in this process, and
    # its own queueing (requests waiting for the event loop) showed up as end-to-end delay.
    url = f"http://127.0.0.1:{port}/webhooks/meta"
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as c:
        async def one(n: int) -> None:
            nonlocal acked
            body = body_for(n, run)
            cid = f"{run}{n:09d}"
            headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)}
            event_of[cid] = event_id(body)
            sent[cid] = time.time()
            async with c.post(url, data=body, headers=headers) as r:
                await r.read()
                acked += r.status == 200
            acks.append(time.time() - sent[cid])

        tasks = []
        start = time.perf_counter()
        n = 0
        while (now := time.perf_counter()) - start < seconds:
            target = start + n * interval
            if now < target:
                await asyncio.sleep(target - now)
            tasks.append(asyncio.create_task(one(n)))
            n += 1
        await asyncio.gather(*tasks)
    client = AsyncMongoClient(mongo_url, tz_aware=True)
    col = client["bench"]["comments"]
    deadline = time.time() + 60
    while time.time() < deadline and await col.count_documents({"comment_id": {"$regex": f"^{run}"}}) < acked:
        await asyncio.sleep(0.5)
    created = {d["comment_id"]: d["created_at"].timestamp() async for d in col.find({"comment_id": {"$regex": f"^{run}"}}, {"comment_id": 1, "created_at": 1})}
    received = {e["_id"]: e["received_at"].timestamp() async for e in client["bench"]["webhook_events"].find(
        {"_id": {"$in": [event_of[c] for c in created]}}, {"received_at": 1})}
    delays = [at - sent[cid] for cid, at in created.items()]
    if len(created) < acked:  # say why, rather than only how many
        events = client["bench"]["webhook_events"]
        by_status = {s: await events.count_documents({"status": s}) for s in ("pending", "processed")}
        results: dict[str, int] = {}
        async for e in events.find({"status": "processed", "result.comments_new": {"$ne": 1}}, {"result": 1}):
            for k, v in (e.get("result") or {}).items():
                results[k] = results.get(k, 0) + v
        accounts = [(a.get("status"), a.get("status_reason")) async for a in client["bench"]["accounts"].find({})]
        print(f"  not stored: events by status {by_status}, results without a new comment {results}, accounts {accounts}")
    to_store = [received[event_of[cid]] - sent[cid] for cid in created if event_of[cid] in received]
    to_comment = [at - received[event_of[cid]] for cid, at in created.items() if event_of[cid] in received]
    await client.close()
    return {"posted": n, "acked": acked, "stored": len(delays), "lost": acked - len(delays),
            "rate_achieved": n / seconds, "p50_ms": pct(delays, 0.5) * 1000, "p99_ms": pct(delays, 0.99) * 1000,
            "ack_p50_ms": pct(acks, 0.5) * 1000, "ack_p99_ms": pct(acks, 0.99) * 1000,
            "store_p50_ms": pct(to_store, 0.5) * 1000, "store_p99_ms": pct(to_store, 0.99) * 1000,
            "work_p50_ms": pct(to_comment, 0.5) * 1000, "work_p99_ms": pct(to_comment, 0.99) * 1000}


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--e2e-seconds", type=float, default=60)
    ap.add_argument("--rate", type=float, default=200)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    redis, mongo = redis_process(tmp / "redis").start(), mongo_process(tmp / "mongo").start()
    key = generate_key()
    ctx = mp.get_context("spawn")
    procs: list[mp.Process] = []
    try:
        await seed_account(redis.url, mongo.url, key)
        bare_port, recv_port = free_port(), free_port()
        bare = ctx.Process(target=run_bare, args=(bare_port,), daemon=True)
        recv = ctx.Process(target=run_receiver, args=(redis.url, mongo.url, key, recv_port), daemon=True)
        procs += [bare, recv]
        bare.start()
        recv.start()
        await wait_port(recv_port)
        await asyncio.sleep(0.5)
        print(f"== receiver throughput ({args.seconds:.0f} s each, {args.concurrency} concurrent clients, 2-core machine)")
        base = await load(bare_port, args.seconds, args.concurrency, "bare")
        print(f"bare aiohttp 200:   {base['rps']:7.0f} req/s  p50 {base['p50_ms']:6.1f} ms  p99 {base['p99_ms']:6.1f} ms  errors {base['errors']}")
        real = await load(recv_port, args.seconds, args.concurrency, "thr")
        print(f"socialsync receiver:{real['rps']:7.0f} req/s  p50 {real['p50_ms']:6.1f} ms  p99 {real['p99_ms']:6.1f} ms  errors {real['errors']}")
        print(f"ratio receiver/bare: {real['rps'] / base['rps']:.2f}")
        bare.terminate()
        worker = ctx.Process(target=run_worker, args=(redis.url, mongo.url, key), daemon=True)
        procs.append(worker)
        worker.start()
        await drop_backlog(redis.url, mongo.url)  # the throughput run's events are not part of this
        print(f"== end to end: {args.rate:.0f} deliveries/s for {args.e2e_seconds:.0f} s, receiver + 1 worker")
        e2e = await end_to_end(recv_port, mongo.url, args.e2e_seconds, args.rate)
        print(f"posted {e2e['posted']} ({e2e['rate_achieved']:.0f}/s), acknowledged {e2e['acked']}, stored {e2e['stored']}, lost {e2e['lost']}")
        print(f"POST → comment in MongoDB: p50 {e2e['p50_ms']:.0f} ms  p99 {e2e['p99_ms']:.0f} ms")
        print(f"  of which POST → 200:           p50 {e2e['ack_p50_ms']:.0f} ms  p99 {e2e['ack_p99_ms']:.0f} ms")
        print(f"  of which POST → event stored:  p50 {e2e['store_p50_ms']:.0f} ms  p99 {e2e['store_p99_ms']:.0f} ms")
        print(f"  of which stored → comment:     p50 {e2e['work_p50_ms']:.0f} ms  p99 {e2e['work_p99_ms']:.0f} ms")
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join(5)
        redis.stop()
        mongo.stop()


if __name__ == "__main__":
    asyncio.run(main())
