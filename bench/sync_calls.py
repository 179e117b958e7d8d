"""API calls of a full sync of one account with 1,000 media (40 % images, 20 % carousels of 3
children, 35 % reels, 5 % with insight errors), next to the per-item approach (1 + N + children)
on the same data, with insights field expansion accepted and refused; then an incremental sync
with 5 new posts.  Run: ``python bench/sync_calls.py`` (about a minute)."""

from __future__ import annotations

import asyncio
from collections import Counter

from sync_harness import Bench, system

from sandbox.config import SandboxConfig

MEDIA = 1000


def media_calls(requests: list[dict], ig_user_id: str | None = None) -> int:
    """Calls of the media part (listing + per-item insights), not profile/account insights/stories."""
    return sum(1 for r in requests if r["endpoint"].endswith("/{node}/media")
               or (r["endpoint"].endswith("/{node}/insights") and not r["path"].split("/")[-2].startswith("178414")))


async def full_sync(bench: Bench, username: str, disable_expansion: bool) -> dict:
    await bench.sandbox.post("/_sandbox/media/settings", json={
        "expansion_disabled_hosts": ["graph.instagram.com"] if disable_expansion else []})
    await bench.services.redis.delete("sync:expansion_off:graph.instagram.com")
    account_id = await bench.ig_account(username, media=MEDIA)
    seeded = (await bench.sandbox.get("/_sandbox/media", params={"account": username})).json()["media"]
    children = sum(len(m["children"]) for m in seeded)
    before = await bench.requests()
    run = await bench.sync(account_id)
    seconds = await bench.run_worker()
    doc = await bench.run_doc(run["_id"])
    after = (await bench.requests())[len(before):]
    return {"account_id": account_id, "username": username, "run": doc, "seconds": seconds,
            "per_item": 1 + len(seeded) + children, "media_calls": media_calls(after),
            "by_endpoint": Counter(r["endpoint"] for r in after)}


async def main() -> None:
    async with system(in_process_sandbox=SandboxConfig(request_log_size=100_000)) as bench:
        await bench.sandbox.post("/_sandbox/reset")
        print(f"full sync of one account, {MEDIA} media (mix 40/20/35 + 5 % before business conversion)")
        results = {}
        for label, refused in (("expansion accepted", False), ("expansion refused", True)):
            r = await full_sync(bench, f"bench_{'refused' if refused else 'ok'}", refused)
            results[label] = r
            ratio = r["per_item"] / r["media_calls"]
            print(f"  {label:20s}: {r['run']['status']}, media calls {r['media_calls']:5d} "
                  f"(all calls of the run {r['run']['api_calls']}), per-item approach {r['per_item']} "
                  f"→ {ratio:.1f}x fewer, {r['seconds']:.1f} s")
        ok = results["expansion accepted"]
        await bench.sandbox.post("/_sandbox/media/settings", json={"expansion_disabled_hosts": []})
        await bench.services.redis.delete("sync:expansion_off:graph.instagram.com")  # the host accepts it again
        await bench.seed(ok["username"], count=5, before_conversion=0, spacing_hours=0.05, newest_age_hours=0.6)
        for kind in ("media", "recent"):
            before = len(await bench.requests())
            run = await bench.sync(ok["account_id"], kind)
            await bench.run_worker()
            doc = await bench.run_doc(run["_id"])
            spent = len(await bench.requests()) - before
            print(f"  incremental '{kind}' sync after 5 new posts: {spent} calls ({doc['status']}, items {doc['items']})")


if __name__ == "__main__":
    asyncio.run(main())
