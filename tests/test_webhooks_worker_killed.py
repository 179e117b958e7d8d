"""A real worker process SIGKILLed while it drains webhook events: every delivery that got a 200
ends up stored, each comment once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from socialsync import queue
from tests.conftest import Env
from tests.webhooks_helpers import comment_change, connected, payload, post_event
from worker.jobs.webhooks import drain_keys

REPO = Path(__file__).resolve().parent.parent
DELIVERIES = 600


def start_worker(env: Env) -> subprocess.Popen[bytes]:
    s = env.settings
    values = {
        "REDIS_URL": s.redis_url, "MONGODB_URL": s.mongodb_url, "MONGODB_DB": s.mongodb_db,
        "QUEUE_NAME": s.queue_name, "SANDBOX": "true", "SANDBOX_URL": s.sandbox_url,
        "TOKEN_KEYS": ",".join(k.get_secret_value() for k in s.token_keys),
        "WEBHOOK_SWEEP_AFTER_SECONDS": "0", "LOG_LEVEL": "WARNING",
    }
    env_vars = {**os.environ, **{f"SOCIALSYNC_{k}": str(v) for k, v in values.items()}}
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "socialsync.cli", "worker"], cwd=REPO, env=env_vars,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


async def stored_count(env: Env, account_id: str) -> int:
    return await env.services.store["comments"].count_documents({"account_id": account_id})


def kill(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGKILL)
    worker.wait()


# Starts a worker OS process and 600 deliveries: slow, and slower on a loaded machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


async def test_worker_killed_mid_drain_loses_no_acknowledged_comment(env: Env) -> None:
    acc = await connected(env)
    await env.run_worker()  # the jobs a connect starts (first sync, subscription) are done

    acknowledged: list[str] = []

    async def deliver(i: int) -> None:
        comment_id = f"1790000000{i:06d}"
        r = await post_event(env, payload(acc.ig_id, [comment_change(comment_id, text=f"c{i}")]))
        if r.status_code == 200:
            acknowledged.append(comment_id)

    # Deliveries arrive while no worker runs: every one is acknowledged and waits in MongoDB.
    for start in range(0, DELIVERIES, 25):
        await asyncio.gather(*(deliver(i) for i in range(start, min(start + 25, DELIVERIES))))
    assert len(acknowledged) == DELIVERIES

    # A worker starts draining and is SIGKILLed as soon as it has stored something: mid-drain,
    # holding the drain lease.
    worker = start_worker(env)
    deadline = time.monotonic() + 30
    while await stored_count(env, acc.account_id) == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    kill(worker)
    left_behind = await env.services.store["webhook_events"].count_documents({"status": {"$ne": "processed"}})
    assert left_behind > 0  # the kills really left acknowledged work undone (else this test proves nothing)

    # The killed holder's drain lease lapses (its 15 s TTL, shortened here); the sweeper and a
    # fresh worker take over without any new delivery.
    lease, _wanted = drain_keys(env.services)
    await env.redis.delete(lease)
    worker = start_worker(env)
    try:
        deadline = time.monotonic() + 180  # ends as soon as all is processed; a loaded machine is slow
        while time.monotonic() < deadline:
            await env.services.redis.enqueue_job(queue.WEBHOOKS_SWEEP, _job_id=f"test-sweep-{time.monotonic()}")
            await asyncio.sleep(1.0)
            unprocessed = await env.services.store["webhook_events"].count_documents({"status": {"$ne": "processed"}})
            if await stored_count(env, acc.account_id) >= DELIVERIES and unprocessed == 0:
                break
    finally:
        kill(worker)

    docs = [d async for d in env.services.store["comments"].find({"account_id": acc.account_id}, {"comment_id": 1})]
    assert sorted(d["comment_id"] for d in docs) == sorted(acknowledged)  # all of them, each once
    pending = await env.services.store["webhook_events"].count_documents({"status": {"$ne": "processed"}})
    assert pending == 0
