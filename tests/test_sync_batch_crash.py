"""Instagram's stages yield records and the core stores each batch, then its checkpoint: a crash
between the two re-does that one batch on the re-run and changes nothing twice."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from socialsync.store import accounts as account_store
from socialsync.store import sync_runs
from socialsync.sync import runner
from tests.conftest import Env
from tests.sync_helpers import CREATOR_IG, connected, graph_calls, seed_media, stored_media


class Crash(Exception):
    """The process dies right after a batch's records are stored, before its checkpoint."""


def _media_pages(calls: list[dict[str, Any]]) -> list[str | None]:
    return [c["query"].get("after") for c in calls if c["path"].endswith(f"/{CREATOR_IG}/media")]


async def test_a_crash_between_a_batch_and_its_checkpoint_redoes_only_that_batch(
    env: Env, monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = await seed_media(env, count=30, before_conversion=0)
    env.settings.sync_page_size = 10
    tenant, account_id = await connected(env)
    await env.run_worker()  # the first full sync
    gone = ids[3]
    assert (await env.sandbox.delete(f"/_sandbox/media/{gone}")).status_code == 200
    store = env.services.store
    before = {k: {f: v for f, v in d.items() if f not in ("updated_at", "synced_at", "last_seen_run",
                                                             "insights_updated_at", "extras_run")}
              for k, d in (await stored_media(env, account_id)).items()}
    calls_before = len(await graph_calls(env))

    real_update = sync_runs.update
    crashed: list[str] = []

    async def crashing_update(store_: Any, run_id: str, *, set_: dict[str, Any] | None = None,
                              inc: dict[str, Any] | None = None) -> None:
        listing = ((set_ or {}).get("checkpoint") or {}).get("media_all") or {}
        if listing.get("pages") == 1 and "first page" not in crashed:
            crashed.append("first page")
            raise Crash
        if listing.get("listed") and "last page" not in crashed:
            crashed.append("last page")  # its records: the page's media and the listing's end
            raise Crash
        await real_update(store_, run_id, set_=set_, inc=inc)

    monkeypatch.setattr(sync_runs, "update", crashing_update)
    run, _ = await sync_runs.start_or_join(store, await account_store.get(store, account_id), "full", "test")
    plugin = env.services.platforms.get("instagram")

    async def heartbeat() -> None:
        pass

    marked_before: datetime | None = None
    status = None
    for _ in range(3):  # each crash: a re-run of the same run from what was stored
        doc = await sync_runs.get(store, run["_id"])
        account = await account_store.get(store, account_id)
        try:
            status = await runner.execute(env.services, plugin, account, doc, heartbeat)
            break
        except Crash:
            if crashed[-1] == "last page":
                marked_before = datetime.now(UTC)
    assert crashed == ["first page", "last page"] and status == "success"

    stored = await stored_media(env, account_id)
    assert set(stored) == set(ids)  # nothing lost, nothing added
    assert [k for k, d in stored.items() if d["deleted"]] == [gone]
    assert marked_before is not None and stored[gone]["deleted_at"] < marked_before  # marked once
    for media_id, doc in stored.items():  # the re-done batches changed nothing twice
        kept = {f: v for f, v in doc.items() if f in before[media_id] and f not in ("deleted", "deleted_at")}
        assert kept == {f: v for f, v in before[media_id].items() if f not in ("deleted", "deleted_at")}
        assert media_id == gone or doc["last_seen_run"] == run["_id"]
    points = [d async for d in store["metrics"].find({"account_id": account_id, "metric": "followers_count"})]
    assert len(points) == 2  # one per run, the crashed run's once

    # Only the two pages whose checkpoint was lost were read twice.
    calls = (await graph_calls(env))[calls_before:]
    pages = Counter(_media_pages(calls))
    assert sorted(pages.values()) == [1, 2, 2] and pages[None] == 2, pages
    done = await sync_runs.get(store, run["_id"])
    assert done["checkpoint"]["media_all"]["listed"] is True


async def test_a_run_the_previous_release_left_mid_listing_continues_from_its_checkpoint(env: Env) -> None:
    """Upgrade path: a run whose stages wrote through the store themselves (the release before)
    left its checkpoint in the same shape (``checkpoint.<stage>``, ``stages_done``): the new
    stages continue it - no page read again, nothing of it marked deleted."""
    await seed_media(env, count=30, before_conversion=0)
    env.settings.sync_page_size = 10
    tenant, account_id = await connected(env)
    await env.run_worker()  # the first full sync, three pages
    cursors = [a for a in _media_pages(await graph_calls(env)) if a]
    assert len(cursors) == 2
    store = env.services.store
    run, _ = await sync_runs.start_or_join(store, await account_store.get(store, account_id), "full", "test")
    # As the previous release left it: profile done, the listing's first page stored with the
    # run's id and checkpointed, then the worker died.
    newest = [d["_id"] async for d in store["media"].find({"account_id": account_id}).sort("timestamp", -1).limit(10)]
    await store["media"].update_many({"_id": {"$in": newest}}, {"$set": {"last_seen_run": run["_id"]}})
    await sync_runs.update(store, run["_id"], set_={"status": "running", "stages_done": ["profile"], "checkpoint": {
        "media_all": {"expand": True, "cursors": [cursors[0]], "pages": 1, "read": 10, "size": 10,
                      "after": cursors[0]}}})
    calls_before = len(await graph_calls(env))
    r = await env.http.post(f"/v1/accounts/{account_id}/sync", headers=env.auth(tenant), json={"kind": "full"})
    assert r.status_code == 202 and r.json()["run_id"] == run["_id"], r.text  # joins the run in flight
    await env.run_worker()
    done = await sync_runs.get(store, run["_id"])
    assert done["status"] == "success", done
    assert _media_pages((await graph_calls(env))[calls_before:]) == cursors  # pages 2 and 3 only
    stored = await stored_media(env, account_id)
    assert len(stored) == 30 and not any(d["deleted"] for d in stored.values())
    assert all(d["last_seen_run"] == run["_id"] for d in stored.values())
