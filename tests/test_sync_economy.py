"""Call economy of the everyday syncs of a small account (issue 12 §1): the demo mix of 24 posts
(one from before the business conversion) and 3 live stories."""

from __future__ import annotations

from typing import Any

from socialsync.sync.schedule import request_sync
from tests.conftest import Env
from tests.sync_helpers import connected, graph_calls, runs, seed_media, stored_media


async def _run(env: Env, account_id: str, kind: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    before = len(await graph_calls(env))
    account = await env.services.store.accounts.find_one({"_id": account_id})
    run, _ = await request_sync(env.services, account, kind, "test")
    await env.run_worker()
    doc = await env.services.store["sync_runs"].find_one({"_id": run["_id"]})
    return doc, (await graph_calls(env))[before:]


async def test_a_small_account_syncs_in_few_calls(env: Env) -> None:
    await seed_media(env, count=24, stories=3, quiet_stories=1)
    tenant, account_id = await connected(env)
    await env.run_worker()
    (full,) = await runs(env, account_id)
    calls = await graph_calls(env)
    assert full["status"] == "success" and full["api_calls"] <= 20, [c["path"] for c in calls]
    stored = await stored_media(env, account_id)
    assert sum(1 for d in stored.values() if d.get("insights_error", {}) and d["insights_error"]["subcode"] == 2108006) == 1
    media_pages = [c for c in calls if c["path"].endswith("/media")]
    assert len(media_pages) <= 3  # no 100 → 50 → … → 1 cascade around the old post

    recent, calls = await _run(env, account_id, "recent")
    assert recent["status"] == "success" and len(calls) <= 2, [(c["path"], c["query"].get("limit")) for c in calls]
    assert not [c for c in calls if c["path"].endswith("/insights")]  # the old post is not asked again

    fresh = await seed_media(env, count=5, before_conversion=0, spacing_hours=0.05, newest_age_hours=0.6)
    new, calls = await _run(env, account_id, "media")
    assert new["status"] == "success" and len(calls) <= 2
    assert set(fresh) <= set(await stored_media(env, account_id))
    recent, calls = await _run(env, account_id, "recent")
    assert recent["status"] == "success" and len(calls) <= 2
    assert not [d for d in (await stored_media(env, account_id)).values() if d["deleted"]]
