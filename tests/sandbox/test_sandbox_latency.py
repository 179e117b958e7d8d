"""The latency setting: platform calls are answered late, the control API is not."""

from __future__ import annotations

import time

import httpx

from sandbox import SandboxConfig


async def test_platform_calls_wait_the_configured_latency_and_control_calls_do_not(start_sandbox) -> None:  # noqa: ANN001
    async with start_sandbox(SandboxConfig(latency_seconds=0.3)) as url, httpx.AsyncClient(base_url=url) as http:
        started = time.perf_counter()
        graph = await http.get("/v21.0/me", params={"access_token": "nope"})
        graph_seconds = time.perf_counter() - started
        started = time.perf_counter()
        control = await http.get("/_sandbox/stats")
        control_seconds = time.perf_counter() - started
    assert graph.status_code in (400, 401, 404) and control.status_code == 200
    assert graph_seconds >= 0.3 and control_seconds < 0.25
