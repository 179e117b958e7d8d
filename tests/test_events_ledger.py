"""The CRM event ledger: per-tenant sequence numbers, ``GET /v1/events`` (pull beside push),
retention, and catching up after the CRM's receiver was down while several workers ran."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import pytest

from socialsync import crm_events
from socialsync import clock as service_clock
from socialsync.clock import ManualClock
from socialsync.context import open_services
from tests.conftest import Env
from tests.test_crm_events import CrmReceiver, crm, register  # noqa: F401 - fixture
from tests.webhooks_helpers import comment_change, connected, payload, post_event
from worker.main import build_worker


async def worker_until_cancelled(env: Env) -> None:
    """One real arq worker (not burst) in this process, like a `socialsync worker`."""
    worker = build_worker(env.settings, poll_delay=0.05, handle_signals=False)
    try:
        await worker.main()
    finally:
        await worker.close()


async def pull_all(env: Env, tenant, after: int = 0, limit: int = 50) -> list[dict]:  # noqa: ANN001
    got: list[dict] = []
    while True:
        r = await env.http.get("/v1/events", params={"after": after, "limit": limit}, headers=env.auth(tenant))
        assert r.status_code == 200, r.text
        page = r.json()
        got += page["data"]
        after = page["next_after"]
        if not page["has_more"]:
            return got


async def test_pulled_events_are_the_pushed_payloads_in_sequence(env: Env, crm: CrmReceiver) -> None:
    acc = await connected(env)
    await register(env, acc.tenant, crm.url)
    changes = [comment_change(f"1790000000001{i:04d}", f"c{i}") for i in range(5)]
    await post_event(env, payload(acc.ig_id, changes))
    await env.run_worker()
    pushed = sorted((json.loads(body) for _h, body in crm.received), key=lambda e: e["seq"])
    pulled = await pull_all(env, acc.tenant, limit=2)
    assert [e["seq"] for e in pulled] == [1, 2, 3, 4, 5]
    assert pulled == pushed  # the same payloads, byte for byte once parsed
    assert {h["X-Socialsync-Event-Seq"] for h, _b in crm.received} == {"1", "2", "3", "4", "5"}
    page = (await env.http.get("/v1/events", params={"after": 3}, headers=env.auth(acc.tenant))).json()
    assert [e["seq"] for e in page["data"]] == [4, 5] and page["next_after"] == 5 and not page["after_expired"]
    empty = (await env.http.get("/v1/events", params={"after": 5}, headers=env.auth(acc.tenant))).json()
    assert empty["data"] == [] and empty["next_after"] == 5 and empty["has_more"] is False
    # another tenant has its own ledger; bad input is a clear 400
    other = await env.tenant("Other CRM")
    assert (await env.http.get("/v1/events", headers=env.auth(other))).json()["data"] == []
    for bad in ({"after": "-1"}, {"after": "x"}, {"after": "9" * 30}, {"limit": "0"}, {"limit": "5000"},
                {"wait": "nan"}, {"wait": "-1"}, {"wait": "21"}, {"wait": "soon"}):
        r = await env.http.get("/v1/events", params=bad, headers=env.auth(acc.tenant))
        assert r.status_code == 400 and r.json()["error"]["code"] in ("invalid_after", "invalid_limit", "invalid_wait"), bad


async def test_a_pull_only_tenant_gets_every_event_without_an_endpoint(env: Env) -> None:
    acc = await connected(env)
    await post_event(env, payload(acc.ig_id, [comment_change("17900000000020001"), comment_change("17900000000020002")]))
    await env.run_worker()
    pulled = await pull_all(env, acc.tenant)
    assert [(e["seq"], e["data"]["comment_id"]) for e in pulled] == [(1, "17900000000020001"), (2, "17900000000020002")]


async def test_readers_never_skip_a_number_while_three_processes_emit(env: Env) -> None:
    """Three processes' worth of clients record events for one tenant at once, three workers
    number them, and a CRM pulls continuously: it collects every event exactly once, in sequence."""
    tenant = await env.tenant()
    per_writer = 25
    done = asyncio.Event()
    collected: list[dict] = []

    async def writer(n: int, services) -> None:  # noqa: ANN001
        for i in range(per_writer):
            await crm_events.emit(services, tenant.id, "comment.created", {"writer": n, "i": i}, event_key=f"w{n}:{i}")

    async def reader() -> None:
        after = 0
        deadline = asyncio.get_running_loop().time() + 60
        while len(collected) < 3 * per_writer or not done.is_set():
            assert asyncio.get_running_loop().time() < deadline, f"only {len(collected)} events pulled"
            r = await env.http.get("/v1/events", params={"after": after, "limit": 7, "wait": 0.5}, headers=env.auth(tenant))
            page = r.json()
            collected.extend(page["data"])
            after = page["next_after"]

    workers = [asyncio.create_task(worker_until_cancelled(env)) for _ in range(3)]  # they number
    try:
        async with AsyncExitStack() as stack:
            writers = [await stack.enter_async_context(open_services(env.settings)) for _ in range(3)]
            read = asyncio.create_task(reader())
            await asyncio.gather(*(writer(n, s) for n, s in enumerate(writers)))
            done.set()
            await read
        await asyncio.sleep(0.5)
        extra = (await env.http.get("/v1/events", params={"after": collected[-1]["seq"]}, headers=env.auth(tenant))).json()
        assert extra["data"] == []
    finally:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    seqs = [e["seq"] for e in collected]
    assert seqs == list(range(1, 3 * per_writer + 1))
    assert sorted((e["data"]["writer"], e["data"]["i"]) for e in collected) == [
        (n, i) for n in range(3) for i in range(per_writer)
    ]


async def test_retention_drops_old_events_and_a_pull_below_it_is_told(env: Env) -> None:
    tenant = await env.tenant()
    for i in range(3):
        await crm_events.emit(env.services, tenant.id, "post.published", {"i": i}, event_key=f"old{i}")
    assert await crm_events.ledger.sequence(env.services, tenant.id) == 3
    dropped = await crm_events.ledger.prune(
        env.services.store, env.settings.crm_event_retention_days, now=datetime.now(UTC) + timedelta(days=31)
    )
    assert dropped == 3
    await crm_events.emit(env.services, tenant.id, "post.published", {"i": 3}, event_key="new")
    await env.run_worker()  # numbers it
    page = (await env.http.get("/v1/events", params={"after": 1}, headers=env.auth(tenant))).json()
    assert page["after_expired"] is True and page["retained_after"] == 3
    assert [e["seq"] for e in page["data"]] == [4]
    current = (await env.http.get("/v1/events", params={"after": 3}, headers=env.auth(tenant))).json()
    assert current["after_expired"] is False and [e["seq"] for e in current["data"]] == [4]
    # within the retention nothing is dropped
    assert await crm_events.ledger.prune(env.services.store, env.settings.crm_event_retention_days) == 0


@pytest.mark.slow
async def test_crm_down_for_a_day_of_the_clock_then_pull_catches_up_and_push_resumes(
    env: Env, crm: CrmReceiver
) -> None:
    """The CRM's receiver answers 503 for a whole day of the test clock (a ManualClock made the
    process's clock, so the three in-process workers share it; the production backoff: 30 s
    doubling to 1 h, a 24 h retry window) while comments arrive all day long. The clock moves in hours (the backoff's cap); at each step every
    retry due by then is made. After the day, pulling returns every event exactly once, in
    sequence; the first hour's events were given up on (failed after their 24 h, pull-only);
    when the receiver is back, every event still inside its window is pushed, once."""
    clock = ManualClock()
    acc = await connected(env)
    await register(env, acc.tenant, crm.url)
    crm.answers = [503] * 1_000_000
    events = env.services.store["crm_events"]
    loop = asyncio.get_running_loop()
    previous = service_clock.use(clock)
    workers = [asyncio.create_task(worker_until_cancelled(env)) for _ in range(3)]
    born: dict[str, float] = {}  # comment id -> hour of the day it arrived

    async def settled(expected: int) -> None:
        """Every event recorded and numbered, and every retry due on the clock made."""
        deadline = loop.time() + 180  # a bound for a loaded machine, not a speed check
        due = {"delivery.status": "pending", "delivery.next_attempt_at": {"$lte": clock.now()}}
        while (await events.count_documents({"seq": {"$ne": None}}) < expected
               or await events.count_documents(due)):
            assert loop.time() < deadline, "retries due on the clock were not made"
            assert not any(w.done() for w in workers), [w.exception() for w in workers if w.done()]
            await asyncio.sleep(0.05)

    try:
        for hour in range(25):  # 24 h in hours: one attempt per step once the backoff reaches its cap
            if hour in (0, 5, 11, 17, 23):
                batch = [f"1790000000003{len(born) + i:04d}" for i in range(6)]
                born.update(dict.fromkeys(batch, hour))
                await post_event(env, payload(acc.ig_id, [comment_change(c) for c in batch + batch[:1]]))
                await post_event(env, payload(acc.ig_id, [comment_change(batch[0])]))  # Meta re-delivers
            await settled(len(born))
            clock.advance(3600)
        assert await events.count_documents({"delivery.status": "delivered"}) == 0
        first_hour = {c for c, h in born.items() if h == 0}
        failed = {d["data"]["comment_id"]: d["delivery"] async for d in events.find({"delivery.status": "failed"})}
        assert set(failed) == first_hour  # their 24 h ended while the receiver was still down
        # a day of retries on the backoff schedule of the clock (30 s doubling to 1 h), at most one per
        # hour-long step: ~24, not a few and not one per wake-up of the job
        assert all(20 <= d["attempts"] <= 35 for d in failed.values()), failed
        pulled = await pull_all(env, acc.tenant, limit=7)
        assert [e["seq"] for e in pulled] == list(range(1, len(born) + 1))
        assert sorted(e["data"]["comment_id"] for e in pulled) == sorted(born)
        crm.answers.clear()  # the receiver is back
        failed_attempts = len(crm.received)
        # Every pending event's next attempt is due within the hour (the backoff's cap). A delivery
        # in flight when the receiver came back may still record its 503 after the clock moved,
        # and so wait one more backoff: move the clock again until nothing is pending.
        for _ in range(3):
            clock.advance(3600)
            await settled(len(born))
            if not await events.count_documents({"delivery.status": "pending"}):
                break
    finally:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        service_clock.use(previous)
    delivered = [json.loads(body) for _h, body in crm.received[failed_attempts:]]
    by_id = {e["id"]: e for e in pulled}
    assert len(delivered) == len({e["id"] for e in delivered})  # each pushed once
    assert {e["data"]["comment_id"] for e in delivered} == set(born) - first_hour
    assert all(by_id[e["id"]] == e for e in delivered)  # the payloads the pull returned
    assert await events.count_documents({"delivery.status": "pending"}) == 0
