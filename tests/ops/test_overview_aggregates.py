"""The overview's aggregates match the stored documents (seeded directly, counted in Python)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from socialsync.store import ops as ops_store
from tests.conftest import Env

NOW = datetime.now(UTC).replace(microsecond=0)


def ago(**delta: float) -> datetime:
    """A past moment at MongoDB's millisecond precision (so Python and the server agree)."""
    at = NOW - timedelta(**delta)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


async def _seed(env: Env, rng: random.Random) -> dict[str, list[dict]]:
    store = env.services.store
    accounts = [
        {"_id": f"acc_{i:04d}", "tenant_id": f"ten_{i % 3}", "platform": rng.choice(["instagram", "tiktok", "youtube"]),
         "external_id": str(i), "status": rng.choice(["active", "active", "needs_reconnect", "disconnected"])}
        for i in range(60)
    ]
    accounts.append({"_id": "acc_old", "tenant_id": "ten_0", "external_id": "x", "status": "active"})  # no platform
    runs = [
        {"_id": f"run_{i:05d}", "account_id": rng.choice(accounts)["_id"], "tenant_id": "ten_0", "kind": "full",
         "status": rng.choice(["success", "partial", "failed", "skipped", "running"]),
         "created_at": ago(hours=rng.uniform(0, 48)), "api_calls": rng.randint(0, 30)}
        for i in range(300)
    ]
    states = ["scheduled", "creating", "processing", "ready", "publishing", "published", "failed", "cancelled"]
    posts = []
    for i in range(200):
        state = rng.choice(states)
        posts.append({
            "_id": f"post_{i:05d}", "account_id": "acc_0001", "tenant_id": "ten_1", "state": state,
            "idempotency_key": f"k{i}", "request": {"type": "image"}, "next_check_at": ago(seconds=rng.uniform(-600, 600)),
            "updated_at": ago(seconds=rng.uniform(0, 9999)),
            **({"error": {"code": "media_url_unreachable", "message": "m", "caller_can_fix": True}} if state == "failed" else {}),
        })
    events = []
    for i in range(150):
        status = rng.choice(["pending", "processed", "processed", "failed"])
        events.append({
            "_id": f"whe_{i:04d}", "status": status, "received_at": ago(hours=rng.uniform(0, 40)),
            "body": "{}", "accounts": [], "fields": {"comments": 1},
            **({"result": {"comments": 1, "rejected": rng.randint(0, 2)}} if status == "processed" else {}),
        })
    crm = [{"_id": f"evt_{i:04d}", "tenant_id": f"ten_{i % 3}", "type": "comment.created", "data": {},
            "created_at": NOW, "delivery": {"status": rng.choice(["pending", "delivered", "failed", "no_endpoint"])}}
           for i in range(80)]
    deliveries = [{"_id": f"evt_{i:04d}:{a}", "tenant_id": f"ten_{i % 3}", "event_id": f"evt_{i:04d}",
                   "attempt": a, "url": f"https://crm{i % 3}.example.com/hook",
                   "error": rng.choice([None, "HTTP 500", "ConnectTimeout"]),
                   "at": ago(hours=rng.uniform(0, 30))}
                  for i in range(40) for a in (1, 2)]
    await store.accounts.insert_many(accounts)
    await store["sync_runs"].insert_many(runs)
    await store["publish_jobs"].insert_many(posts)
    await store["webhook_events"].insert_many(events)
    await store["crm_events"].insert_many(crm)
    await store["crm_deliveries"].insert_many(deliveries)
    return {"accounts": accounts, "runs": runs, "posts": posts, "events": events, "crm": crm, "deliveries": deliveries}


async def test_overview_counts_match_the_stored_documents(env: Env) -> None:
    seeded = await _seed(env, random.Random(7))
    stuck_after = timedelta(seconds=30)
    o = await ops_store.overview(env.services.store, now=NOW, stuck_after=stuck_after)
    since = NOW - timedelta(hours=24)

    assert o.accounts == Counter((a.get("platform", "unknown"), a["status"]) for a in seeded["accounts"])
    recent = [r for r in seeded["runs"] if r["created_at"] >= since]
    assert o.sync_runs_24h == Counter(r["status"] for r in recent)
    assert o.sync_calls_24h == sum(r["api_calls"] for r in recent)
    assert o.posts == Counter(p["state"] for p in seeded["posts"])
    assert list(o.posts)[0] == "failed"  # the states needing a person come first

    active = ("scheduled", "creating", "processing", "ready", "publishing")
    stuck = sorted((p for p in seeded["posts"] if p["state"] in active and p["next_check_at"] < NOW - stuck_after),
                   key=lambda p: p["next_check_at"])
    assert [p["_id"] for p in o.stuck_posts] == [p["_id"] for p in stuck[:10]]
    failed = sorted((p for p in seeded["posts"] if p["state"] == "failed"), key=lambda p: p["updated_at"], reverse=True)
    assert [p["_id"] for p in o.failed_posts] == [p["_id"] for p in failed[:10]]

    hooks = [e for e in seeded["events"] if e["received_at"] >= since]
    pending = [e for e in seeded["events"] if e["status"] == "pending"]
    assert o.webhooks["received"] == len(hooks)
    assert o.webhooks["processed"] == sum(e["status"] == "processed" for e in hooks)
    assert o.webhooks["failed"] == sum(e["status"] == "failed" for e in hooks)
    assert o.webhooks["rejected_changes"] == sum(e.get("result", {}).get("rejected", 0) for e in hooks)
    assert o.webhooks["backlog"] == len(pending)
    assert o.webhooks["failed_total"] == sum(e["status"] == "failed" for e in seeded["events"])
    oldest = min(e["received_at"] for e in pending)
    assert abs(o.webhooks["oldest_pending_seconds"] - (NOW - oldest).total_seconds()) < 0.01

    assert o.crm["by_status"] == Counter(e["delivery"]["status"] for e in seeded["crm"])
    window = [d for d in seeded["deliveries"] if d["at"] >= since]
    expected = Counter()
    tries = Counter()
    for d in window:
        tries[(d["tenant_id"], d["url"])] += 1
        expected[(d["tenant_id"], d["url"])] += d["error"] is not None
    got = {(e["tenant_id"], e["url"]): (e["failures"], e["attempts"]) for e in o.crm["failing_endpoints"]}
    assert got == {k: (n, tries[k]) for k, n in expected.items() if n}


async def test_overview_of_an_empty_database(env: Env) -> None:
    o = await ops_store.overview(env.services.store, now=NOW, stuck_after=timedelta(seconds=30))
    assert o.accounts == {} and o.sync_runs_24h == {} and o.posts == {}
    assert o.webhooks["backlog"] == 0 and o.webhooks["oldest_pending_seconds"] is None
    assert o.crm == {"by_status": {}, "failing_endpoints": []}


async def test_lists_filter_and_page(env: Env) -> None:
    seeded = await _seed(env, random.Random(3))
    store = env.services.store
    active = sorted(a["_id"] for a in seeded["accounts"] if a["status"] == "active" and a.get("platform") == "tiktok")
    first = await ops_store.list_accounts(store, {"status": "active", "platform": "tiktok"}, page=1, per_page=5)
    assert [a["_id"] for a in first.rows] == active[:5] and first.has_next == (len(active) > 5)
    second = await ops_store.list_accounts(store, {"status": "active", "platform": "tiktok"}, page=2, per_page=5)
    assert [a["_id"] for a in second.rows] == active[5:10]
    failed = await ops_store.list_webhook_events(store, {"status": "failed"}, page=1, per_page=500)
    assert {e["_id"] for e in failed.rows} == {e["_id"] for e in seeded["events"] if e["status"] == "failed"}
    assert all("body" not in e for e in failed.rows)


async def test_overview_page_serves_a_snapshot_and_refreshes_it(env: Env) -> None:
    from tests.ops.console_helpers import operator, page_csrf  # noqa: PLC0415
    from webhooks.console import snapshot  # noqa: PLC0415

    store = env.services.store
    await store.accounts.insert_one({"_id": "acc_a", "tenant_id": "t", "platform": "tiktok", "status": "active", "external_id": "1"})
    async with operator(env) as client:
        first, csrf = await page_csrf(client, "/ops/")  # no snapshot yet: computed in the request
        assert ">tiktok</a>" in first.text and ">youtube</a>" not in first.text
        await store.accounts.insert_one({"_id": "acc_b", "tenant_id": "t", "platform": "youtube", "status": "active", "external_id": "2"})
        assert ">youtube</a>" not in (await client.get("/ops/")).text  # fresh snapshot: served as it is
        # "Refresh now" recomputes it.
        r = await client.post("/ops/overview/refresh", data={"csrf": csrf})
        assert r.status_code == 303
        assert ">youtube</a>" in (await client.get("/ops/")).text
        # A stale snapshot is served at once and refreshed in the background.
        await store.accounts.insert_one({"_id": "acc_c", "tenant_id": "t", "platform": "twitch", "status": "active", "external_id": "3"})
        stale = ops_store.overview_from_json(await env.redis.get(snapshot.KEY))
        stale.generated_at -= timedelta(seconds=snapshot.FRESH_SECONDS + 5)
        await env.redis.set(snapshot.KEY, ops_store.overview_to_json(stale))
        assert ">twitch</a>" not in (await client.get("/ops/")).text
        for _ in range(100):
            if ">twitch</a>" in (await client.get("/ops/")).text:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the stale snapshot was never refreshed")


async def test_snapshot_round_trips(env: Env) -> None:
    await _seed(env, random.Random(5))
    o = await ops_store.overview(env.services.store, now=NOW, stuck_after=timedelta(seconds=30))
    assert ops_store.overview_from_json(ops_store.overview_to_json(o)) == o
