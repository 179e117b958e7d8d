"""Graceful shutdown of real `socialsync worker` and `socialsync web` processes.

A worker on SIGTERM takes no new job, lets its running jobs finish for
``worker_shutdown_grace_seconds`` (arq's ``job_completion_wait``) and hands back the ones still
running after that (cancelled; arq puts them back in the queue for another worker). A web process
on SIGTERM stops accepting, lets requests in flight finish (``web_shutdown_timeout_seconds``) and
exits; with SO_REUSEPORT another web process on the same port keeps answering.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from aiohttp import web

from socialsync import crm_events
from socialsync.devservers import free_port
from socialsync.processes import listeners
from tests.conftest import Env, serve
from tests.scale.procs import Proc, service_env, stop_all

pytestmark = pytest.mark.slow


@dataclass
class SlowCrm:
    url: str = ""
    delays: list[float] = field(default_factory=list)  # per request, then 0
    started: list[float] = field(default_factory=list)
    finished: list[float] = field(default_factory=list)


@pytest_asyncio.fixture
async def slow_crm() -> AsyncIterator[SlowCrm]:
    crm = SlowCrm()

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        crm.started.append(time.monotonic())
        await asyncio.sleep(crm.delays.pop(0) if crm.delays else 0)
        crm.finished.append(time.monotonic())
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hooks", handle)
    runner, base = await serve(app)
    crm.url = f"{base}/hooks"
    try:
        yield crm
    finally:
        await runner.cleanup()


async def until(predicate, seconds: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not await predicate():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def _event_pending_delivery(env: Env, crm_url: str) -> str:
    tenant = await env.tenant()
    r = await env.http.put("/v1/webhook-endpoint", json={"url": crm_url}, headers=env.auth(tenant))
    assert r.status_code == 200, r.text
    return await crm_events.emit(env.services, tenant.id, "post.published", {"post_id": "p1"}, event_key="p1")


async def _status(env: Env, eid: str) -> dict:
    return (await env.services.store["crm_events"].find_one({"_id": eid}))["delivery"]


async def test_a_worker_on_sigterm_finishes_its_running_job_then_exits(env: Env, slow_crm: SlowCrm, tmp_path: Path) -> None:
    slow_crm.delays = [3.0]
    eid = await _event_pending_delivery(env, slow_crm.url)
    worker = Proc("worker", service_env(env.settings, worker_shutdown_grace_seconds=20), tmp_path).start()
    try:
        async def request_in_flight() -> bool:
            return bool(slow_crm.started)
        await until(request_in_flight, 30, "the worker never started the delivery")
        seconds = await asyncio.to_thread(worker.terminate, 20)
        assert worker.popen is not None and worker.popen.returncode == 0, worker.output()
        assert slow_crm.finished, "the worker exited before its job finished"
        assert 2.0 < seconds < 10.0, seconds  # it waited for the job (3 s), then exited promptly
        assert (await _status(env, eid))["status"] == "delivered"
    finally:
        stop_all([worker])


async def test_a_worker_hands_back_a_job_still_running_after_the_grace(env: Env, slow_crm: SlowCrm, tmp_path: Path) -> None:
    slow_crm.delays = [8.0]
    eid = await _event_pending_delivery(env, slow_crm.url)
    first = Proc("worker", service_env(env.settings, worker_shutdown_grace_seconds=1), tmp_path).start()
    second = Proc("worker", service_env(env.settings), tmp_path)
    try:
        async def request_in_flight() -> bool:
            return bool(slow_crm.started)
        await until(request_in_flight, 30, "the worker never started the delivery")
        seconds = await asyncio.to_thread(first.terminate, 15)
        assert seconds < 5.0, seconds  # the 1 s grace, not the 8 s job
        assert (await _status(env, eid))["status"] == "pending"  # not given up, not lost
        second.start()

        async def delivered() -> bool:
            return (await _status(env, eid))["status"] == "delivered"
        await until(delivered, 40, f"the handed-back job was not run again:\n{second.output()}")
        assert len(slow_crm.started) == 2
    finally:
        stop_all([first, second])


async def test_a_web_process_on_sigterm_drains_in_flight_requests_while_its_twin_keeps_serving(
    env: Env, tmp_path: Path
) -> None:
    """Requests in flight are slow handlers here: ``GET /v1/events?wait=1.5`` long-polls a
    ledger with nothing new. (aiohttp ignores request bytes that arrive after shutdown began,
    so a request still *uploading* its body is cut; webhook and API bodies are small, and the
    platforms and CRMs retry.)"""
    tenant = await env.tenant()
    port = free_port()
    settings = env.settings.model_copy(update={"web_port": port, "public_url": f"http://127.0.0.1:{port}"})
    webs = [Proc("web", service_env(settings, web_reuse_port=True), tmp_path).start() for _ in range(2)]
    base = f"http://127.0.0.1:{port}"
    try:
        async def both_listening() -> bool:
            return listeners(port) == 2
        await until(both_listening, 60, "the two web processes did not both listen on the port")

        async with AsyncExitStack() as stack:
            # one open connection per client (a fresh connect each, so the kernel spreads them
            # over both processes), made before the requests so that they are all in flight
            clients = [await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=15)) for _ in range(8)]
            for client in clients:
                assert (await client.get("/readyz")).status_code == 200
            in_flight = [
                asyncio.create_task(c.get("/v1/events", params={"wait": 1.5}, headers=env.auth(tenant)))
                for c in clients
            ]
            await asyncio.sleep(0.4)
            seconds = await asyncio.to_thread(webs[0].terminate, 20)
            answers = await asyncio.gather(*in_flight, return_exceptions=True)
        assert [getattr(a, "status_code", repr(a)) for a in answers] == [200] * 8, webs[0].output()
        assert webs[0].popen is not None and webs[0].popen.returncode == 0, webs[0].output()
        assert seconds < 8.0, seconds
        drained = [line for line in webs[0].output().splitlines() if "GET /v1/events" in line]
        assert drained, "the stopped process answered none of the requests: nothing was in flight there"
        for _ in range(10):  # the twin still answers on the same port
            async with httpx.AsyncClient(timeout=5) as one:
                assert (await one.get(f"{base}/readyz")).status_code == 200
        await asyncio.sleep(0.2)
        assert listeners(port) == 1
    finally:
        stop_all(webs)
