"""Publishing throughput over worker *processes* (issue 14 §3): 1,000 posts of mixed types
(image, reel, carousel, story) across 200 accounts, published by N `socialsync worker` OS
processes; the baseline is 1 worker, in the same run, on a fresh database and a reset sandbox.

Everything is a child process: Redis, the MongoDB-wire server, the sandbox (`socialsync sandbox`,
its default video processing: 1–3 s), one `socialsync web` (the posts go through the real API)
and the workers. Every post is submitted with no worker running; the clock starts when the
workers start, and stops when every post is final. Prints, per worker count: time to all-final,
posts/s, states, duplicates in the sandbox's publish log (a container or a caption published
twice; must be 0), platform calls (sandbox stats) and the CPU each process used.

Run: python bench/scale_publish.py [--posts 1000] [--accounts 200] [--workers 1,3]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from post_bodies import body  # noqa: E402
from proc_cpu import CpuMeter  # noqa: E402

from socialsync.config import Settings  # noqa: E402
from socialsync.context import open_services  # noqa: E402
from socialsync.crypto import generate_key  # noqa: E402
from socialsync.devservers import child_env, free_port, mongo_process, redis_process  # noqa: E402
from socialsync.store import posts as post_store  # noqa: E402
from socialsync.store.accounts import ConnectedAccount, StoredToken, upsert_connected  # noqa: E402
from socialsync.store.tenants import create_tenant  # noqa: E402
from tests.scale.procs import Proc, service_env, stop_all  # noqa: E402

KINDS = ("image", "reel", "carousel", "story")


async def wait_http(url: str, path: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=5) as c:
        for _ in range(600):
            try:
                if (await c.get(path)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url}{path} never answered")


async def one_round(workers: int, args: argparse.Namespace, redis_url: str, mongo_url: str, sandbox_url: str,
                    pids: dict[str, list[int]], logs: Path) -> dict:
    port = free_port()
    settings = Settings(
        redis_url=redis_url, mongodb_url=mongo_url, mongodb_db=f"bench_publish_{workers}",
        queue_name=f"bench:publish:{workers}", sandbox=True, sandbox_url=sandbox_url, web_port=port,
        token_keys=generate_key(), admin_token=secrets.token_urlsafe(24), log_level="WARNING",
    )
    env = service_env(settings, log_level="WARNING")
    web = Proc("web", env, logs).start()
    procs: list[Proc] = []
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=60) as sandbox, \
               httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as api, \
               open_services(settings) as services:
        try:
            await services.redis.flushdb()
            await sandbox.post("/_sandbox/reset")
            await wait_http(f"http://127.0.0.1:{port}", "/healthz")
            tenant = await create_tenant(services.store, "bench")
            auth = {"Authorization": f"Bearer {tenant.api_key}"}
            account_ids = []
            for n in range(args.accounts):
                username = f"pub_{workers}_{n:03d}"
                created = (await sandbox.post("/_sandbox/accounts", json={
                    "login": "instagram", "username": username})).json()
                token = (await sandbox.post("/_sandbox/tokens", json={"username": username, "kind": "ig_long"})).json()
                now = datetime.now(UTC)
                account_ids.append(await upsert_connected(services.store, ConnectedAccount(
                    tenant_id=tenant.id, platform="instagram", login="instagram", external_id=created["ig_user_id"], username=username,
                    scopes=list(settings.instagram_scopes),
                    token=StoredToken(ciphertext=services.cipher.encrypt(token["access_token"]), kind="ig_long_lived",
                                      issued_at=now, expires_at=now + timedelta(days=60)),
                )))
            submitted = time.perf_counter()
            gate = asyncio.Semaphore(8)

            async def submit(i: int) -> str:
                async with gate:
                    r = await api.post(f"/v1/accounts/{account_ids[i % args.accounts]}/posts",
                                       json=body(KINDS[i % len(KINDS)], i),
                                       headers={**auth, "Idempotency-Key": uuid.uuid4().hex})
                    r.raise_for_status()
                    return r.json()["id"]

            post_ids = await asyncio.gather(*(submit(i) for i in range(args.posts)))
            submitted = time.perf_counter() - submitted
            procs = [Proc("worker", env, logs).start() for _ in range(workers)]
            meter = CpuMeter({"workers": [p.pid for p in procs], "web": [web.pid], **pids}).start()
            started = time.perf_counter()
            col = services.store[post_store.COLLECTION]
            final = {"state": {"$in": list(post_store.FINAL_STATES)}, "_id": {"$in": post_ids}}
            deadline = started + args.limit_seconds
            while await col.count_documents(final) < len(post_ids) and time.perf_counter() < deadline:
                await asyncio.sleep(0.5)
            wall = time.perf_counter() - started
            meter.stop()
        finally:
            stop_all([*procs, web])
        states = Counter([d["state"] async for d in services.store[post_store.COLLECTION].find(
            {"_id": {"$in": post_ids}}, {"state": 1})])
        log = (await sandbox.get("/_sandbox/published")).json()["published"]
        stats = (await sandbox.get("/_sandbox/stats")).json()
    by_container = Counter(r["container_id"] for r in log)
    by_caption = Counter(r["caption"] for r in log if r["media_product_type"] != "STORY")
    duplicates = sum(n - 1 for n in by_container.values()) + sum(n - 1 for n in by_caption.values())
    return {"workers": workers, "wall": wall, "submitted": submitted, "states": dict(states),
            "published_log": len(log), "duplicates": duplicates, "stats": stats, "cpu": meter.line(wall),
            "cpu_total": sum(meter.used.values()) / wall, "all_final": sum(states.values()) == args.posts
            and set(states) <= set(post_store.FINAL_STATES)}


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=1000)
    ap.add_argument("--accounts", type=int, default=200)
    ap.add_argument("--workers", default="1,3")
    ap.add_argument("--limit-seconds", type=float, default=900)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-publish-"))
    redis, mongo = redis_process(tmp / "redis").start(), mongo_process(tmp / "mongo").start()
    sandbox_port = free_port()
    sandbox = Proc("sandbox", child_env(), tmp)
    sandbox.env = {**sandbox.env, "SOCIALSYNC_SANDBOX_PORT": str(sandbox_port)}
    sandbox.start()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    pids = {"sandbox": [sandbox.pid], "mongodb-wire": [mongo.proc.pid], "redis": [redis.proc.pid]}
    try:
        await wait_http(sandbox_url, "/_sandbox/health")
        print(f"{args.posts} posts ({', '.join(KINDS)} in turn) across {args.accounts} accounts; sandbox video "
              f"processing 1–3 s; publishing settings at their defaults; logs in {tmp}", flush=True)
        results = []
        for w in (int(x) for x in args.workers.split(",")):
            r = await one_round(w, args, redis.url, mongo.url, sandbox_url, pids, tmp)
            results.append(r)
            base = results[0]["wall"]
            print(f"  {w} worker process(es): all final {r['all_final']} in {r['wall']:.1f} s "
                  f"({args.posts / r['wall']:.1f} posts/s, speed-up {base / r['wall']:.2f}x); states {r['states']}; "
                  f"sandbox publish log {r['published_log']}, duplicates {r['duplicates']}; "
                  f"submitted through the API in {r['submitted']:.1f} s before the workers started", flush=True)
            print(f"      CPU: {r['cpu']}; all {r['cpu_total']:.2f} of 2 cores", flush=True)
            print(f"      sandbox stats: {r['stats']}", flush=True)
    finally:
        stop_all([sandbox])
        mongo.stop()
        redis.stop()


if __name__ == "__main__":
    asyncio.run(main())
