"""API calls of the everyday syncs of a small account: a full sync of a 24-post account (the demo
mix: 10 images, 5 carousels of 3 with a video child, 8 reels, 1 post from before the business
conversion, 3 live stories of which 1 has < 5 viewers), then an hourly ``recent`` run with
nothing new, then a ``media`` run after 5 new posts, each next to the per-item approach on the
same data.  Run: ``python bench/sync_small.py`` (about 20 s)."""

from __future__ import annotations

import asyncio
from collections import Counter

from sync_harness import Bench, system

from sandbox.config import SandboxConfig

POSTS, STORIES, QUIET = 24, 3, 1


async def spend(bench: Bench, account_id: str, kind: str) -> tuple[int, dict, Counter[str]]:
    before = len(await bench.requests())
    run = await bench.sync(account_id, kind)
    await bench.run_worker()
    doc = await bench.run_doc(run["_id"])
    after = (await bench.requests())[before:]
    return len(after), doc, Counter(r["endpoint"].split("/{version}")[-1] for r in after)


async def main() -> None:
    async with system(in_process_sandbox=SandboxConfig(request_log_size=100_000)) as bench:
        await bench.sandbox.post("/_sandbox/reset")
        account_id = await bench.ig_account("bench_small", media=POSTS, stories=STORIES, quiet_stories=QUIET)
        seeded = (await bench.sandbox.get("/_sandbox/media", params={"account": "bench_small"})).json()["media"]
        posts = [m for m in seeded if m["media_product_type"] != "STORY"]
        children = sum(len(m["children"]) for m in posts)
        # Reading each post alone: the listing, one insights call per post and per child, as the
        # issue counts it (1 + N + children), plus the stories and the account parts.
        per_item = 1 + len(posts) + children
        calls, doc, by_endpoint = await spend(bench, account_id, "full")
        print(f"full sync, {len(posts)} posts + {STORIES} stories: {calls} calls ({doc['status']}); "
              f"per-item reading of the posts alone: {per_item}")
        print("   ", dict(by_endpoint))
        calls, doc, by_endpoint = await spend(bench, account_id, "recent")
        print(f"hourly 'recent', nothing new: {calls} calls ({doc['status']})", dict(by_endpoint))
        await bench.seed("bench_small", count=5, before_conversion=0, spacing_hours=0.05, newest_age_hours=0.6)
        calls, doc, by_endpoint = await spend(bench, account_id, "media")
        print(f"'media' after 5 new posts: {calls} calls ({doc['status']})", dict(by_endpoint))
        calls, doc, by_endpoint = await spend(bench, account_id, "recent")
        print(f"hourly 'recent' after those: {calls} calls ({doc['status']})", dict(by_endpoint))


if __name__ == "__main__":
    asyncio.run(main())
