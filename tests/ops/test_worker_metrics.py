"""The worker's Prometheus /metrics on its own port: jobs by name and outcome, durations, queue
depth, API calls by platform and endpoint, rate-limit refusals, publish outcomes; and the
liveness record the console shows."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from socialsync import worker_status
from socialsync.devservers import free_port
from socialsync.platforms.instagram.limits import account_scope
from tests.conftest import Env
from tests.ops.console_helpers import operator
from tests.publish_helpers import BODIES, fast, post
from tests.webhooks_helpers import connected
from worker.main import build_worker


def value(text: str, name: str, **labels: str) -> float:
    """The sample of ``name`` whose labels include ``labels`` (0 when there is none)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', line[: line.rindex("}")]))
        if all(got.get(k) == v for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def scrape_until(url: str, ready, timeout: float = 60.0) -> str:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(timeout=5) as client:
        while True:
            try:
                text = (await client.get(url)).text
                if ready(text):
                    return text
            except httpx.HTTPError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"metrics never became ready; last scrape:\n{text[-3000:]}")
            await asyncio.sleep(0.3)


@pytest.mark.slow
async def test_worker_metrics_count_jobs_calls_refusals_and_publishes(env: Env) -> None:
    fast(env)
    port = free_port()
    env.settings.worker_metrics_port = port
    c = await connected(env)  # queues the first full sync
    # One account blocked by the governor: its subscribe job is refused (deferred), not called.
    post_id = await post(env, c.tenant, c.account_id, BODIES["image"])
    worker = build_worker(env.settings, poll_delay=0.05, handle_signals=False)
    task = asyncio.create_task(worker.async_run())
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        text = await scrape_until(url, lambda t: value(t, "socialsync_publish_outcomes_total", outcome="published") >= 1
                                  and value(t, "socialsync_worker_jobs_total", job="sync.run", outcome="success") >= 1)
        assert value(text, "socialsync_worker_job_duration_seconds_count", job="sync.run") >= 1
        assert value(text, "socialsync_api_calls_total", platform="instagram", status="200") >= 5
        assert value(text, "socialsync_api_calls_total", platform="instagram", endpoint="/{v}/me", status="200") >= 1
        assert 'socialsync_worker_queue_depth{queue="%s"}' % env.settings.queue_name in text
        # Now block the account's scope and ask for a sync: the governor refuses, the job retries.
        await env.services.governor.block(account_scope(c.ig_id), 600)
        r = await env.http.post(f"/v1/accounts/{c.account_id}/sync", headers=env.auth(c.tenant), json={"kind": "recent"})
        assert r.status_code == 202, r.text
        # The refusal is counted when the governor refuses, the job's retry when the job ends after it.
        text = await scrape_until(url, lambda t: value(t, "socialsync_ratelimit_refusals_total", reason="blocked") >= 1
                                  and value(t, "socialsync_worker_jobs_total", job="sync.run", outcome="retry") >= 1)
        assert value(text, "socialsync_ratelimit_refusals_total", platform="instagram", reason="blocked") >= 1
        assert value(text, "socialsync_ratelimit_scope_blocked_seconds", scope=account_scope(c.ig_id)) > 500
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await worker.close()
    stored = await env.services.store["publish_jobs"].find_one({"_id": post_id})
    assert stored["state"] == "published"
    seen = await worker_status.workers(env.redis)
    assert seen and seen[0].worker == worker_status.worker_id() and seen[0].job
    async with operator(env) as client:
        page = (await client.get("/ops/")).text
    assert worker_status.worker_id() in page


async def test_metrics_port_off_by_default(env: Env) -> None:
    assert env.settings.worker_metrics_port == 0
    await connected(env)
    await env.run_worker()  # runs its jobs with no server started (nothing to connect to)
    seen = await worker_status.workers(env.redis)
    assert seen and seen[0].outcome in ("success", "retry")


def test_endpoint_names_have_no_ids() -> None:
    from worker.metrics import endpoint_of  # noqa: PLC0415

    assert endpoint_of("/v24.0/17841400000000101/media") == "/{v}/{id}/media"
    assert endpoint_of("/v24.0/me") == "/{v}/me"
    assert endpoint_of("/oauth/access_token") == "/oauth/access_token"
