"""The Meta webhook receiver: a 200 means the event is kept (ARCHITECTURE.md §4.1)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx

from socialsync import queue
from socialsync.devservers import free_port, mongo_process
from tests.conftest import Env, make_settings, serve
from tests.webhooks_helpers import (
    CREATOR_IG_ID,
    IG_SECRET,
    comment_change,
    comment_docs,
    connected,
    payload,
    post_event,
    post_raw,
    sign,
)
from webhooks.app import build_app


async def stored_events(env: Env) -> int:
    return await env.services.store["webhook_events"].count_documents({})


async def test_handshake_echoes_the_challenge_only_for_the_verify_token(env: Env) -> None:
    ok = await env.http.get("/webhooks/meta", params={"hub.mode": "subscribe", "hub.verify_token": "sandbox-verify-token", "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.text == "1158201444"
    wrong = await env.http.get("/webhooks/meta", params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "verification_failed"
    bad_mode = await env.http.get("/webhooks/meta", params={"hub.mode": "unsubscribe", "hub.verify_token": "sandbox-verify-token", "hub.challenge": "1"})
    assert bad_mode.status_code == 403


async def test_delivery_without_signature_is_refused_and_nothing_is_stored(env: Env) -> None:
    r = await post_event(env, payload(CREATOR_IG_ID, [comment_change("1790")]), signature=None)
    assert r.status_code == 401 and r.json()["error"]["code"] == "signature_missing"
    assert await stored_events(env) == 0


async def test_delivery_with_a_wrong_signature_is_refused(env: Env) -> None:
    body = json.dumps(payload(CREATOR_IG_ID, [comment_change("1790")])).encode()
    r = await post_raw(env, body, signature=sign(body, b"another-app-secret"))
    assert r.status_code == 401 and r.json()["error"]["code"] == "signature_invalid"
    assert await stored_events(env) == 0


async def test_signature_over_reserialised_json_does_not_match_the_raw_bytes(env: Env) -> None:
    body = b'{"object": "instagram",  "entry": [{"id": "17841400000000101", "time": 1, "changes": []}]}'
    reserialised = json.dumps(json.loads(body), separators=(",", ":")).encode()
    r = await post_raw(env, body, signature=sign(reserialised))
    assert r.status_code == 401
    # the sandbox's Meta-like sender can do the same mistake on purpose
    r = await env.sandbox.post("/_sandbox/webhooks/send", json={
        "url": f"{env.url}/webhooks/meta", "signature": "reserialized",
        "changes": [{"account": CREATOR_IG_ID, **comment_change("1790")}],
    })
    assert r.json()["posts"][0]["status"] == 401
    assert await stored_events(env) == 0


async def test_either_app_secret_signs_a_valid_delivery(env: Env) -> None:
    assert (await post_event(env, payload(CREATOR_IG_ID, [comment_change("1")]))).status_code == 200
    assert (await post_event(env, payload(CREATOR_IG_ID, [comment_change("2")]), secret=IG_SECRET)).status_code == 200
    assert await stored_events(env) == 2


async def test_oversize_body_is_refused_with_413(env: Env) -> None:
    big = json.dumps(payload(CREATOR_IG_ID, [comment_change("1", text="x" * (5 * 1024 * 1024))])).encode()
    r = await post_raw(env, big)
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"
    assert await stored_events(env) == 0
    # just under the limit is fine
    env.settings.webhook_max_body_bytes = len(big)
    assert (await post_raw(env, big)).status_code == 200


async def test_bad_json_and_bad_shapes_get_400_with_the_reason(env: Env) -> None:
    r = await post_raw(env, b'{"object": "instagram", "entry": [')
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_payload"
    r = await post_event(env, {"object": "instagram"})
    assert r.status_code == 400 and "entry" in r.json()["error"]["message"]
    r = await post_event(env, {"object": "instagram", "entry": [{"time": 1, "changes": []}]})
    assert r.status_code == 400 and "entry.0.id" in r.json()["error"]["message"]
    assert await stored_events(env) == 0


async def test_both_entry_shapes_store_the_comment(env: Env) -> None:
    acc = await connected(env)
    assert (await post_event(env, payload(acc.ig_id, [comment_change("17900000000000011", "wrapped")]))).status_code == 200
    assert (await post_event(env, payload(acc.ig_id, [comment_change("17900000000000012", "flat")], flat=True))).status_code == 200
    await env.run_worker()
    docs = {d["comment_id"]: d for d in await comment_docs(env, account_id=acc.account_id)}
    assert docs["17900000000000011"]["text"] == "wrapped" and docs["17900000000000012"]["text"] == "flat"
    assert docs["17900000000000011"]["media_id"] == "18000000000009001"
    assert docs["17900000000000011"]["source"] == "webhook"
    assert docs["17900000000000011"]["from_username"] == "fan"


async def test_a_batch_of_1000_changes_is_accepted_and_stored_and_1001_is_refused(env: Env) -> None:
    acc = await connected(env)
    changes = [comment_change(str(17900000000100000 + i), f"c{i}") for i in range(1000)]
    r = await post_event(env, payload(acc.ig_id, changes))
    assert r.status_code == 200
    await env.run_worker()
    assert await env.services.store["comments"].count_documents({"account_id": acc.account_id}) == 1000
    r = await post_event(env, payload(acc.ig_id, changes + [comment_change("1", "one too many")]))
    assert r.status_code == 400 and "1000" in r.json()["error"]["message"]


async def test_duplicates_and_redeliveries_leave_one_document_per_comment(env: Env) -> None:
    acc = await connected(env)
    change = {"account": acc.ig_id, **comment_change("17900000000000077", "twice")}
    r = await env.sandbox.post("/_sandbox/webhooks/send", json={"url": f"{env.url}/webhooks/meta", "changes": [change], "duplicates": 3})
    assert [p["status"] for p in r.json()["posts"]] == [200, 200, 200]
    # the same comment again inside a different batch, and in the other shape
    other = {"account": acc.ig_id, **comment_change("17900000000000078", "other")}
    await env.sandbox.post("/_sandbox/webhooks/send", json={"url": f"{env.url}/webhooks/meta", "changes": [other, change], "shape": "flat"})
    await env.run_worker()
    docs = await comment_docs(env, comment_id="17900000000000077")
    assert len(docs) == 1
    events = await env.services.store["crm_events"].count_documents({"type": "comment.created", "data.comment_id": "17900000000000077"})
    assert events == 1


async def test_an_event_for_an_unknown_account_is_recorded_and_counted_not_an_error(env: Env) -> None:
    r = await post_event(env, payload("17841499999999999", [comment_change("17900000000000031"), {"field": "story_insights", "value": {"x": 1}}]))
    assert r.status_code == 200
    await env.run_worker()
    event = await env.services.store["webhook_events"].find_one({})
    assert event["status"] == "processed"
    assert event["result"]["unknown_account"] == 1 and event["result"]["unknown_field"] == 1
    assert await env.services.store["comments"].count_documents({}) == 0
    metrics = (await env.http.get("/metrics")).text
    assert 'socialsync_meta_webhook_changes_total{field="other"} 1.0' in metrics


async def test_raw_events_expire_by_ttl_index(env: Env) -> None:
    await post_event(env, payload(CREATOR_IG_ID, [comment_change("1")]))
    event = await env.services.store["webhook_events"].find_one({})
    assert event["expires_at"] - event["received_at"] == timedelta(days=14)
    indexes = await env.services.store["webhook_events"].index_information()
    ttl = [i for i in indexes.values() if i["key"] == [("expires_at", 1)]]
    assert ttl and ttl[0]["expireAfterSeconds"] == 0


async def test_mongodb_down_answers_503_and_enqueues_nothing(tmp_path: Path, redis_url: str, mongodb_url: str, sandbox_url: str, token_key: str) -> None:
    proc = mongo_process(tmp_path).start()
    port = free_port()
    settings = make_settings(redis_url=redis_url, mongodb_url=proc.url, sandbox_url=sandbox_url, token_key=token_key, web_port=port)
    app = build_app(settings)
    runner, url = await serve(app, port)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            body = json.dumps(payload(CREATOR_IG_ID, [comment_change("17900000000000041")])).encode()
            headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)}
            assert (await client.post("/webhooks/meta", content=body, headers=headers)).status_code == 200
            proc.kill()
            r = await client.post("/webhooks/meta", content=body.replace(b"41", b"42"), headers={**headers, "X-Hub-Signature-256": sign(body.replace(b"41", b"42"))})
            assert r.status_code == 503 and r.json()["error"]["code"] == "store_unavailable"
            from webhooks.keys import SERVICES
            queued = await app[SERVICES].redis.zcard(queue.queue_name_for(settings.queue_name, queue.WEBHOOKS))
            assert queued == 1  # only the first, acknowledged delivery
    finally:
        proc.kill()
        await runner.cleanup()


async def test_events_whose_jobs_were_lost_are_stored_by_the_sweeper(env: Env) -> None:
    """A worker killed mid-processing, or a Redis that lost its queue: every acknowledged
    delivery still ends up stored, because the sweeper re-enqueues unprocessed events."""
    acc = await connected(env)
    await env.run_worker()  # connect's own jobs
    ids = [str(17900000000200000 + i) for i in range(20)]
    for cid in ids:
        assert (await post_event(env, payload(acc.ig_id, [comment_change(cid)]))).status_code == 200
    # Half were processed before the worker "died"; the other jobs are gone with it.
    from socialsync import queue
    from worker.jobs.webhooks import process_event
    events = [e async for e in env.services.store["webhook_events"].find({}).sort("received_at", 1)]
    for e in events[:10]:
        await process_event({"services": env.services}, e["_id"])
    await env.redis.delete(*queue.all_queue_names(env.settings.queue_name).values())
    await env.run_worker()
    assert len(await comment_docs(env, account_id=acc.account_id)) == 10
    env.settings.webhook_sweep_after_seconds = 0
    await env.services.redis.enqueue_job(queue.WEBHOOKS_SWEEP, _job_id="sweep-test")
    await env.run_worker()
    stored = {d["comment_id"] for d in await comment_docs(env, account_id=acc.account_id)}
    assert stored == set(ids)
    assert await env.services.store["webhook_events"].count_documents({"status": "pending"}) == 0


async def test_a_rerun_after_a_crash_between_upsert_and_completion_writes_nothing_twice(env: Env) -> None:
    acc = await connected(env)
    await post_event(env, payload(acc.ig_id, [comment_change("17900000000000051"), comment_change("17900000000000052")]))
    event = await env.services.store["webhook_events"].find_one({})
    from worker.jobs.webhooks import process_event
    await process_event({"services": env.services}, event["_id"])
    # pretend the job died before recording completion: arq runs it again
    await env.services.store["webhook_events"].update_one({"_id": event["_id"]}, {"$set": {"status": "pending"}})
    await process_event({"services": env.services}, event["_id"])
    assert len(await comment_docs(env, account_id=acc.account_id)) == 2
    assert await env.services.store["crm_events"].count_documents({"type": "comment.created"}) == 2


# --- batch processing (drain jobs) ---------------------------------------------------------------
async def queued_job_ids(env: Env) -> list[str]:
    return [m.decode() for m in await env.redis.zrange(queue.queue_name_for(env.settings.queue_name, queue.WEBHOOKS), 0, -1)]


async def pages_of_processed(env: Env) -> dict[str, int]:
    """Processed events by the drain page that processed them."""
    out: dict[str, int] = {}
    async for e in env.services.store["webhook_events"].find({"status": "processed"}, {"page": 1}):
        out[e["page"]] = out.get(e["page"], 0) + 1
    return out


async def test_a_burst_of_deliveries_is_processed_in_few_jobs(env: Env) -> None:
    """The receiver queues one drain per 100 ms bucket, not one job per delivery, and a drain
    processes every pending event together."""
    import time

    from socialsync import queue

    acc = await connected(env)
    await env.run_worker()  # connect's own jobs
    ids = [str(17900000000300000 + i) for i in range(40)]
    first = int(time.time() / queue.WEBHOOK_DRAIN_BUCKET_SECONDS)
    for cid in ids:
        assert (await post_event(env, payload(acc.ig_id, [comment_change(cid)]))).status_code == 200
    last = int(time.time() / queue.WEBHOOK_DRAIN_BUCKET_SECONDS)
    jobs = await queued_job_ids(env)
    assert jobs and all(j.startswith("webhooks:drain:") for j in jobs)
    assert len(jobs) <= last - first + 1  # at most one job per bucket the burst spanned
    await env.run_worker()
    assert {d["comment_id"] for d in await comment_docs(env, account_id=acc.account_id)} == set(ids)
    # every event stored before the drains ran was processed in one single page
    assert list((await pages_of_processed(env)).values()) == [len(ids)]
    assert await env.services.store["crm_events"].count_documents({"type": "comment.created"}) == len(ids)
    event = await env.services.store["webhook_events"].find_one({})
    assert event["result"] == {"comments": 1, "comments_new": 1}


async def test_a_drain_reads_in_pages_and_hands_over_when_its_time_budget_is_spent(env: Env, monkeypatch) -> None:  # noqa: ANN001
    from socialsync import queue
    from worker.jobs import webhooks as jobs

    acc = await connected(env)
    await env.run_worker()
    ids = [str(17900000000400000 + i) for i in range(20)]
    for cid in ids:
        assert (await post_event(env, payload(acc.ig_id, [comment_change(cid)]))).status_code == 200
    await env.redis.delete(*queue.all_queue_names(env.settings.queue_name).values())  # leave a single drain to do it all
    await queue.enqueue(env.services.redis, queue.WEBHOOKS_DRAIN, job_id="drain-test")
    monkeypatch.setattr(jobs, "DRAIN_BATCH", 7)
    monkeypatch.setattr(jobs, "DRAIN_BUDGET_SECONDS", -1.0)  # one page per job, then hand over
    await env.run_worker(max_jobs=1)
    assert {d["comment_id"] for d in await comment_docs(env, account_id=acc.account_id)} == set(ids)
    assert sorted((await pages_of_processed(env)).values()) == [6, 7, 7]


async def test_a_worker_that_died_holding_a_claim_is_recovered_by_the_sweeper(env: Env) -> None:
    """The claim is the drain lease (one drain at a time). A drain that died holding it, after
    writing some comments but before marking its page processed, leaves its events pending;
    once the lease has lapsed, the sweeper's drain processes them all, and nothing twice."""
    import asyncio

    from socialsync import queue
    from socialsync.store import webhook_events
    from worker.jobs.webhooks import drain_keys, process_batch

    acc = await connected(env)
    await env.run_worker()
    ids = [str(17900000000500000 + i) for i in range(12)]
    for cid in ids:
        assert (await post_event(env, payload(acc.ig_id, [comment_change(cid)]))).status_code == 200
    # The dying drain: takes the lease, processes half a page up to the comments, then dies
    # (its job gone with it; marking processed never happens).
    lease, _ = drain_keys(env.services)
    await env.redis.set(lease, "dead-worker", px=60_000)
    page = await webhook_events.pending_page(env.services.store, limit=500)
    await env.redis.delete(*queue.all_queue_names(env.settings.queue_name).values())
    store = env.services.store
    original = webhook_events.mark_processed_many
    try:
        async def die(*_a: object, **_k: object) -> int:
            raise ConnectionError("worker killed")
        webhook_events.mark_processed_many = die  # type: ignore[assignment]
        try:
            await process_batch(env.services, page[:6], "pg_dead")
        except ConnectionError:
            pass
    finally:
        webhook_events.mark_processed_many = original  # type: ignore[assignment]
    assert len(await comment_docs(env, account_id=acc.account_id)) == 6
    # While the lease is held, other drains stand aside (and the sweeper has nothing to do yet).
    await queue.enqueue(env.services.redis, queue.WEBHOOKS_DRAIN, job_id="drain-while-held")
    await env.services.redis.enqueue_job(queue.WEBHOOKS_SWEEP, _job_id="sweep-early")
    await env.run_worker()
    assert await store["webhook_events"].count_documents({"status": "pending"}) == len(ids)
    # The lease lapses (its holder is dead and never renews it); the sweeper queues a drain.
    await env.redis.pexpire(lease, 1)
    while await env.redis.exists(lease):
        await asyncio.sleep(0.01)
    env.settings.webhook_sweep_after_seconds = 0
    await env.services.redis.enqueue_job(queue.WEBHOOKS_SWEEP, _job_id="sweep-late")
    await env.run_worker()
    assert {d["comment_id"] for d in await comment_docs(env, account_id=acc.account_id)} == set(ids)
    assert await store["webhook_events"].count_documents({"status": {"$ne": "processed"}}) == 0
    assert await store["crm_events"].count_documents({"type": "comment.created"}) == len(ids)
    assert "pg_dead" not in await pages_of_processed(env)


async def test_two_drains_at_once_do_not_both_process_the_same_events(env: Env) -> None:
    """The second drain finds the lease held, leaves its mark and returns; the first sees the
    mark and takes another pass, so events stored meanwhile are processed too."""
    import asyncio

    from worker.jobs import webhooks as jobs

    acc = await connected(env)
    await env.run_worker()
    for cid in ("17900000000700001", "17900000000700002"):
        await post_event(env, payload(acc.ig_id, [comment_change(cid)]))
    await env.redis.delete(*queue.all_queue_names(env.settings.queue_name).values())
    ctx = {"services": env.services}
    results = await asyncio.gather(jobs.drain(ctx), jobs.drain(ctx), jobs.drain(ctx))
    assert sum(r.get("events", 0) for r in results) == 2  # each event processed once
    assert sum(r.get("lease_busy", 0) for r in results) >= 1
    assert await env.services.store["webhook_events"].count_documents({"status": "pending"}) == 0


async def test_an_event_whose_drain_found_the_lease_held_is_processed_by_the_holder(env: Env, monkeypatch) -> None:  # noqa: ANN001
    """The narrowest window: the holder has read its last page and is releasing the lease when
    an event arrives and its drain finds the lease still held. The holder looks again after
    releasing, so the event is not left for the sweeper."""
    from worker.jobs import webhooks as jobs

    acc = await connected(env)
    await env.run_worker()
    await post_event(env, payload(acc.ig_id, [comment_change("17900000000800001")]))
    await env.redis.delete(*queue.all_queue_names(env.settings.queue_name).values())
    ctx = {"services": env.services}
    redis = env.services.redis
    release = redis.eval
    late: list[dict[str, int]] = []

    async def arrive_then_release(*args: object) -> object:
        if not late:  # once: a delivery lands and its drain runs, just before the release
            await post_event(env, payload(acc.ig_id, [comment_change("17900000000800002")]))
            await env.redis.delete(*queue.all_queue_names(env.settings.queue_name).values())
            late.append(await jobs.drain(ctx))
        return await release(*args)

    monkeypatch.setattr(redis, "eval", arrive_then_release)
    first = await jobs.drain(ctx)
    assert late == [{"lease_busy": 1}]
    assert first["events"] == 2 and first["pages"] == 2
    assert await env.services.store["webhook_events"].count_documents({"status": "pending"}) == 0


async def test_an_event_that_cannot_be_processed_does_not_hold_back_the_others(env: Env, monkeypatch) -> None:  # noqa: ANN001
    """Pages are read oldest first: an event whose processing raises (a bug) would otherwise
    fail every page after it. It is marked failed with the error; the rest are processed."""
    from socialsync.comments import notify
    from worker.jobs import webhooks as jobs

    acc = await connected(env)
    await env.run_worker()
    for cid in ("17900000000900001", "17900000000900002", "17900000000900003"):
        assert (await post_event(env, payload(acc.ig_id, [comment_change(cid)]))).status_code == 200
    real = notify.comment_created_data

    def buggy(c):  # noqa: ANN001, ANN202
        if c.comment_id == "17900000000900001":
            raise ValueError("a bug for this one")
        return real(c)

    monkeypatch.setattr(notify, "comment_created_data", buggy)
    await env.run_worker()
    events = {e["status"]: e async for e in env.services.store["webhook_events"].find({})}
    assert await env.services.store["webhook_events"].count_documents({"status": "processed"}) == 2
    assert "a bug for this one" in events["failed"]["error"]
    assert await env.services.store["crm_events"].count_documents({"type": "comment.created"}) == 2
    monkeypatch.setattr(notify, "comment_created_data", real)  # fixed: a replay processes it
    assert (await jobs.process_event({"services": env.services}, events["failed"]["_id"]))["comments"] == 1
    assert await env.services.store["crm_events"].count_documents({"type": "comment.created"}) == 3


async def test_events_arriving_while_their_bucket_drain_is_queued_are_not_left_behind(env: Env) -> None:
    """An enqueue refused because the bucket's drain already exists is fine: the drain is
    deferred to the end of its bucket, so it claims every event of the bucket."""
    from socialsync import queue

    acc = await connected(env)
    await env.run_worker()
    job_id, defer = queue.webhook_drain_job(1_000_000.03)
    assert job_id == "webhooks:drain:10000000" and abs(defer - 0.07) < 1e-6  # runs at the bucket's end
    assert queue.webhook_drain_job(1_000_000.09)[0] == job_id
    ids = [str(17900000000600000 + i) for i in range(5)]
    for cid in ids:
        assert (await post_event(env, payload(acc.ig_id, [comment_change(cid)]))).status_code == 200
    await env.run_worker()
    assert {d["comment_id"] for d in await comment_docs(env, account_id=acc.account_id)} == set(ids)
    assert await env.services.store["webhook_events"].count_documents({"status": {"$ne": "processed"}}) == 0
