"""One arq queue per workload (socialsync/queue.py): jobs land on their workload's queue, and a
webhook drain does not wait behind a sync backlog that holds every job slot."""

from __future__ import annotations

import pytest

from socialsync import queue
from tests.conftest import Env
from tests.publish_helpers import run_worker_until
from tests.webhooks_helpers import comment_change, comment_docs, connected, payload, post_event, seed_media


def test_each_job_name_has_its_workload_queue() -> None:
    base = "q"
    assert queue.queue_name_for(base, queue.workload_of(queue.WEBHOOKS_DRAIN)) == "q:webhooks"
    assert queue.queue_name_for(base, queue.workload_of(queue.SYNC_RUN)) == "q:sync"
    assert queue.queue_name_for(base, queue.workload_of(queue.PUBLISH_ADVANCE)) == "q:publish"
    assert queue.queue_name_for(base, queue.workload_of(queue.EVENTS_DELIVER)) == "q"  # default
    assert set(queue.all_queue_names(base)) == {"webhooks", "sync", "publish", "default"}
    with pytest.raises(ValueError, match="unknown workload"):
        queue.queue_name_for(base, "nope")


async def test_a_webhook_drain_does_not_wait_behind_a_sync_backlog(env: Env) -> None:
    # Three accounts with slow media listings: their full syncs (queued by connecting) hold both
    # of the worker's job slots for many seconds.
    accounts = []
    for n in range(3):
        username = f"backlog_{n}"
        r = await env.sandbox.post("/_sandbox/accounts", json={"login": "instagram", "username": username})
        assert r.status_code == 201, r.text
        await seed_media(env, username, count=150)
        accounts.append(await connected(env, username))
    r = await env.sandbox.post("/_sandbox/faults", json={
        "method": "GET", "path": "*/media", "delay_seconds": 2.0, "count": 10_000})
    assert r.status_code == 201, r.text
    sync_queue = queue.queue_name_for(env.settings.queue_name, queue.SYNC)
    assert await env.redis.zcard(sync_queue) == 3
    acc = accounts[0]
    assert (await post_event(env, payload(acc.ig_id, [comment_change("17900000000990001")]))).status_code == 200

    async def comment_stored() -> bool:
        return bool(await comment_docs(env, account_id=acc.account_id))

    # A bound, not a benchmark: with one shared queue the drain gets a slot only once a sync job
    # ends or hands over (~40 s here); on its own queue it runs at once (a few seconds, most of it
    # the worker's start-up on a loaded machine).
    await run_worker_until(env, comment_stored, within=30, max_jobs=2)
    unfinished = await env.services.store["sync_runs"].count_documents({"status": {"$in": ["queued", "running"]}})
    assert unfinished == 3, unfinished  # it did not wait for a sync to finish
