"""Stories are read to the end of Meta's paging (``paging.next`` absent), with the repeated-cursor
guard the media listing has."""

from __future__ import annotations

from typing import Any

from socialsync.sync.schedule import request_sync
from tests.conftest import Env
from tests.sync_helpers import connected, read_settings, runs, sandbox_media, seed_media, stored_media


async def _stories_run(env: Env, account_id: str) -> dict[str, Any]:
    account = await env.services.store.accounts.find_one({"_id": account_id})
    run, _ = await request_sync(env.services, account, "stories", "test")
    await env.run_worker()
    return await env.services.store["sync_runs"].find_one({"_id": run["_id"]})


async def test_every_page_of_stories_is_read(env: Env) -> None:
    await seed_media(env, count=0, stories=30)  # the stories edge answers 25 per page
    tenant, account_id = await connected(env)
    await env.run_worker()
    (full,) = await runs(env, account_id)
    truth = {m["id"] for m in await sandbox_media(env) if m["media_product_type"] == "STORY"}
    stored = await stored_media(env, account_id)
    assert {k for k, d in stored.items() if d["media_product_type"] == "STORY"} == truth
    assert full["items"]["stories"] == 30 and full["status"] == "success"
    run = await _stories_run(env, account_id)
    assert run["status"] == "success" and run["items"]["stories"] == 30


async def test_a_repeated_stories_cursor_stops_the_listing_and_is_recorded(env: Env) -> None:
    await seed_media(env, count=0, stories=60)
    tenant, account_id = await connected(env)
    await env.run_worker()
    await read_settings(env, loop_cursor=True)
    run = await _stories_run(env, account_id)
    assert run["status"] == "partial"
    assert [e["reason"] for e in run["errors"] if e["stage"] == "stories"] == ["repeated_cursor"]
    assert run["items"]["stories"] == 50  # page 2 answers page 1's cursor again: stopped there
