"""The ops console's overview at scale: 10,000 accounts, 100,000 sync runs and 50,000 posts
(plus 5,000 webhook events, 5,000 CRM events and 10,000 delivery attempts) seeded directly into
a fresh MongoDB-wire server. Prints, side by side in one run:

- ours: ``socialsync.store.ops.overview`` (indexes + one aggregation per figure, concurrent),
  and the whole ``GET /ops/`` page (logged in, rendered, over HTTP);
- plain baseline: the same figures computed the obvious way, reading the documents into Python
  and counting there (what a console without aggregations would do).

Target: the overview < 300 ms. Run: ``python bench/ops_overview.py [--repeat 15]`` (~1–2 min,
most of it seeding).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402
from pymongo import AsyncMongoClient  # noqa: E402

from socialsync.config import Settings  # noqa: E402
from socialsync.crypto import generate_key  # noqa: E402
from socialsync.devservers import free_port, mongo_process, redis_process  # noqa: E402
from socialsync.store import Store  # noqa: E402
from socialsync.store import ops as ops_store  # noqa: E402
from webhooks.console import snapshot  # noqa: E402
from webhooks.app import build_app  # noqa: E402
from webhooks.keys import SERVICES  # noqa: E402

ACCOUNTS, RUNS, POSTS, EVENTS, CRM, DELIVERIES = 10_000, 100_000, 50_000, 5_000, 5_000, 10_000
BATCH = 1_000
ADMIN = "bench-admin-token-0123456789"


def patient_store(settings: Settings) -> Store:
    """A client that waits for a busy single-process server instead of timing out."""
    client: AsyncMongoClient = AsyncMongoClient(
        settings.mongodb_dsn, tz_aware=True, serverSelectionTimeoutMS=600_000, connectTimeoutMS=600_000,
        socketTimeoutMS=None, heartbeatFrequencyMS=600_000,
    )
    return Store(client=client, db=client[settings.mongodb_db])


def _ms(at: datetime) -> datetime:
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


async def seed(store, now: datetime, rng: random.Random) -> None:  # noqa: ANN001
    async def insert(name: str, docs: list[dict]) -> None:
        for i in range(0, len(docs), BATCH):
            await store[name].insert_many(docs[i:i + BATCH], ordered=False)

    platforms = ["instagram"] * 6 + ["tiktok"] * 2 + ["youtube"] * 2
    statuses = ["active"] * 8 + ["needs_reconnect", "disconnected"]
    await insert("accounts", [
        {"_id": f"acc_{i:06d}", "tenant_id": f"ten_{i % 40:03d}", "platform": rng.choice(platforms),
         "external_id": str(10_000_000 + i), "username": f"creator_{i}", "status": rng.choice(statuses),
         "login": "instagram", "connected_at": now - timedelta(days=rng.uniform(0, 300))}
        for i in range(ACCOUNTS)
    ])
    run_status = ["success"] * 14 + ["partial", "failed", "skipped", "running"]
    await insert("sync_runs", [
        {"_id": f"run_{i:08d}", "account_id": f"acc_{rng.randrange(ACCOUNTS):06d}", "tenant_id": "ten_000",
         "kind": rng.choice(["full", "recent", "media", "insights"]), "trigger": "schedule",
         "status": rng.choice(run_status), "created_at": _ms(now - timedelta(hours=rng.uniform(0, 24 * 7))),
         "api_calls": rng.randint(1, 40), "items": {"media": rng.randint(0, 50)}, "errors": []}
        for i in range(RUNS)
    ])
    states = ["published"] * 10 + ["scheduled"] * 3 + ["failed", "cancelled", "processing", "creating", "ready"]
    await insert("publish_jobs", [
        {"_id": f"post_{i:08d}", "account_id": f"acc_{rng.randrange(ACCOUNTS):06d}", "tenant_id": "ten_000",
         "idempotency_key": f"k{i}", "state": (state := rng.choice(states)), "tick": 1,
         "request": {"type": "image", "caption": "hello", "media": [{"url": "https://cdn.example.com/a.jpg"}]},
         "next_check_at": _ms(now + timedelta(seconds=rng.uniform(-3600, 86400))),
         "updated_at": _ms(now - timedelta(seconds=rng.uniform(0, 86400 * 30))),
         **({"error": {"code": "media_url_unreachable", "message": "404", "caller_can_fix": True}} if state == "failed" else {})}
        for i in range(POSTS)
    ])
    await insert("webhook_events", [
        {"_id": f"whe_{i:06d}", "status": rng.choice(["processed"] * 18 + ["pending", "failed"]), "body": "{}",
         "accounts": [], "fields": {"comments": 1}, "received_at": _ms(now - timedelta(hours=rng.uniform(0, 48))),
         "expires_at": now + timedelta(days=14), "result": {"comments": 1}}
        for i in range(EVENTS)
    ])
    await insert("crm_events", [
        {"_id": f"evt_{i:06d}", "tenant_id": f"ten_{i % 40:03d}", "type": "comment.created", "data": {},
         "created_at": now, "delivery": {"status": rng.choice(["delivered"] * 8 + ["pending", "failed"]), "attempts": 1}}
        for i in range(CRM)
    ])
    await insert("crm_deliveries", [
        {"_id": f"evt_{i // 2:06d}:{i % 2 + 1}", "tenant_id": f"ten_{i % 40:03d}", "event_id": f"evt_{i // 2:06d}",
         "attempt": i % 2 + 1, "url": f"https://crm{i % 40}.example.com/hook", "status_code": 500,
         "error": rng.choice([None] * 5 + ["HTTP 500"]), "at": _ms(now - timedelta(hours=rng.uniform(0, 48))),
         "expires_at": now + timedelta(days=30), "duration_ms": 12.0}
        for i in range(DELIVERIES)
    ])


async def baseline(store, now: datetime, stuck_after: timedelta) -> dict:  # noqa: ANN001
    """The same figures, the plain way: read the documents, count in Python."""
    since = now - timedelta(hours=24)
    accounts = Counter([(d.get("platform"), d.get("status")) async for d in store.accounts.find({}, {"platform": 1, "status": 1})])
    runs = [d async for d in store["sync_runs"].find({}, {"status": 1, "created_at": 1, "api_calls": 1})]
    recent = [d for d in runs if d["created_at"] >= since]
    posts = [d async for d in store["publish_jobs"].find({}, {"state": 1, "next_check_at": 1, "updated_at": 1})]
    active = set(ops_store.ACTIVE_POST_STATES)
    stuck = sorted((p for p in posts if p["state"] in active and p["next_check_at"] < now - stuck_after),
                   key=lambda p: p["next_check_at"])[:10]
    events = [d async for d in store["webhook_events"].find({}, {"status": 1, "received_at": 1})]
    crm = Counter([d["delivery"]["status"] async for d in store["crm_events"].find({}, {"delivery.status": 1})])
    deliveries = [d async for d in store["crm_deliveries"].find({"at": {"$gte": since}}, {"tenant_id": 1, "url": 1, "error": 1})]
    return {
        "accounts": accounts, "runs": Counter(d["status"] for d in recent), "calls": sum(d["api_calls"] for d in recent),
        "posts": Counter(p["state"] for p in posts), "stuck": [p["_id"] for p in stuck],
        "hooks": Counter(e["status"] for e in events if e["received_at"] >= since), "crm": crm,
        "failing": Counter((d["tenant_id"], d["url"]) for d in deliveries if d.get("error")),
    }


def summary(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"median {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   max {ms[-1]:7.1f} ms"


async def main(repeat: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="ops-bench-"))
    mongo = mongo_process(tmp / "mongo").start()
    redis = redis_process(tmp / "redis").start()
    port = free_port()
    settings = Settings(redis_url=redis.url, mongodb_url=mongo.url, mongodb_db="ops_bench", sandbox=True,
                        token_keys=generate_key(), admin_token=ADMIN, web_port=port,
                        public_url=f"http://127.0.0.1:{port}", log_level="WARNING")
    now = datetime.now(UTC)
    started = time.perf_counter()
    raw = patient_store(settings)  # seed first, index after (faster)
    await seed(raw, now, random.Random(13))
    print(f"seeded {ACCOUNTS:,} accounts, {RUNS:,} sync runs, {POSTS:,} posts, {EVENTS:,} webhook events, "
          f"{CRM:,} CRM events, {DELIVERIES:,} deliveries in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    app = build_app(settings)  # creates every index at start-up
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"indexes built in {time.perf_counter() - started:.0f} s")
    try:
        store = raw
        # The same services with the patient client: the MongoDB-wire server answers nothing else
        # while it runs a long aggregation, and the app's 3 s timeouts would drop the connection.
        services = dataclasses.replace(app[SERVICES], store=raw)
        stuck_after = timedelta(seconds=settings.publish_stuck_after_seconds)
        ours, plain, pages = [], [], []
        o = await ops_store.overview(store, now=now, stuck_after=stuck_after)  # warm-up and cross-check
        b = await baseline(store, now, stuck_after)
        assert dict(o.posts) == dict(b["posts"]) and o.sync_runs_24h == dict(b["runs"]), "ours and plain disagree"
        assert [p["_id"] for p in o.stuck_posts] == b["stuck"], "stuck posts disagree"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            r = await client.post("/ops/login", data={"token": ADMIN, "name": "bench"})
            assert r.status_code == 303, r.text
            await snapshot.compute(services)  # what the first view (or a refresh) stores
            for _ in range(repeat):
                t = time.perf_counter()
                await snapshot.compute(services)  # the aggregations a refresh runs
                ours.append(time.perf_counter() - t)
                t = time.perf_counter()
                r = await client.get("/ops/")  # what a person waits for: the page from the snapshot
                pages.append(time.perf_counter() - t)
                assert r.status_code == 200 and "Overview" in r.text
                t = time.perf_counter()
                await baseline(store, now, stuck_after)
                plain.append(time.perf_counter() - t)
        since = now - timedelta(hours=24)
        parts = {
            "accounts by platform x status": lambda: ops_store.accounts_by_platform_status(store),
            "sync runs 24 h": lambda: ops_store.sync_runs_since(store, since),
            "posts by state": lambda: ops_store.posts_by_state(store),
            "stuck posts": lambda: ops_store.stuck_posts(store, before=now - stuck_after),
            "failed posts": lambda: ops_store.recent_failed_posts(store),
            "webhook intake": lambda: ops_store.webhook_intake(store, since=since, now=now),
            "crm health": lambda: ops_store.crm_health(store, since=since),
        }
        for label, call in parts.items():
            t = time.perf_counter()
            await call()
            print(f"  part: {label:32s}{(time.perf_counter() - t) * 1000:8.1f} ms (alone)")
        print(f"{'':34s}{repeat} runs each, interleaved")
        print(f"{'ours: GET /ops/ (page, snapshot)':34s}{summary(pages)}")
        print(f"{'ours: refresh (aggregations)':34s}{summary(ours)}")
        print(f"{'plain: read documents, count':34s}{summary(plain)}")
        print(f"aggregations vs plain (median): {statistics.median(plain) / statistics.median(ours):.1f}x faster; "
              f"target page < 300 ms: {'met' if statistics.median(pages) < 0.3 else 'NOT met'}; "
              f"aggregations < 300 ms: {'met' if statistics.median(ours) < 0.3 else 'NOT met'}")
    finally:
        await raw.close()
        await runner.cleanup()
        mongo.stop()
        redis.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every seeded count (quick checks)")
    args = parser.parse_args()
    if args.scale != 1.0:
        ACCOUNTS, RUNS, POSTS, EVENTS, CRM, DELIVERIES = (
            max(10, int(n * args.scale)) for n in (ACCOUNTS, RUNS, POSTS, EVENTS, CRM, DELIVERIES))
    asyncio.run(main(args.repeat))
