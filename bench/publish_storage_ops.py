"""What publishing costs the storage: N posts of each Instagram type published by the real worker
(in this process, burst mode), every MongoDB command counted by pymongo's command monitoring
(bench/mongo_ops.py). Containers finish at once in the sandbox (no processing polls), so the
count is the same from run to run: a load-independent figure to compare two versions of the
publish run side by side (run this file with each version's checkout).

Run: python bench/publish_storage_ops.py [posts per type]     (default 10)
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta

from mongo_ops import Counter
from post_bodies import body
from pymongo import monitoring
from sync_harness import system

from socialsync import queue
from socialsync.platforms.instagram.publish_validation import PostRequest
from socialsync.store import accounts as account_store
from socialsync.store import posts as post_store
from socialsync.store.accounts import ConnectedAccount, StoredToken

KINDS = ("image", "reel", "carousel", "story")


async def main(per_type: int) -> None:
    counter = Counter()
    monitoring.register(counter)
    async with system() as bench:
        r = await bench.sandbox.post("/_sandbox/publishing", json={
            "image_processing": {"kind": "fixed", "low": 0.0}, "video_processing": {"kind": "fixed", "low": 0.0}})
        r.raise_for_status()
        r = await bench.sandbox.post("/_sandbox/accounts", json={"login": "instagram", "username": "ops_pub"})
        r.raise_for_status()
        ig_user_id = r.json()["ig_user_id"]
        token = (await bench.sandbox.post("/_sandbox/tokens", json={"username": "ops_pub"})).json()["access_token"]
        now = datetime.now(UTC)
        account_id = await account_store.upsert_connected(bench.services.store, ConnectedAccount(
            tenant_id="ten_bench", platform="instagram", login="instagram", external_id=ig_user_id, username="ops_pub",
            scopes=["instagram_business_basic", "instagram_business_content_publish"],
            token=StoredToken(ciphertext=bench.services.cipher.encrypt(token), kind="ig_long_lived",
                              issued_at=now, expires_at=now + timedelta(days=60)),
        ))
        ids = []
        for i in range(per_type * len(KINDS)):
            request = PostRequest.model_validate(body(KINDS[i % len(KINDS)], i)).model_dump(mode="python")
            # The shape both releases accept (the newer run derives the first step from the state).
            doc = {"_id": post_store.new_post_id(), "tenant_id": "ten_bench", "account_id": account_id,
                   "platform": "instagram", "external_id": ig_user_id, "idempotency_key": f"k{i}",
                   "fingerprint": f"f{i}", "request": request, "state": "scheduled", "state_reason": None,
                   "tick": 0, "next_check_at": now, "publish_attempts": 0, "attempts": [],
                   "created_at": now, "updated_at": now}
            await post_store.insert_or_existing(bench.services.store, doc)
            await queue.enqueue(bench.services.redis, queue.PUBLISH_ADVANCE, doc["_id"], 0,
                                job_id=queue.publish_job_id(doc["_id"], 0))
            ids.append(doc["_id"])
        counter.on = True
        started, cpu = time.perf_counter(), time.process_time()
        await bench.run_worker()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        counter.on = False
        states = [(await post_store.get(bench.services.store, p))["state"] for p in ids]
        calls = (await bench.stats())["total"]
    n = len(ids)
    print(f"{n} posts ({per_type} of each of {', '.join(KINDS)}): {states.count('published')} published, "
          f"worker wall {wall:.1f} s, worker CPU {cpu / n * 1000:.0f} ms per post, {calls / n:.1f} platform calls per post")
    print(counter.table(n, "post"))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10))
