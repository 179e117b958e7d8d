"""The platform-package contract (sandbox/app.py): a package with ``HOSTS`` and ``mount`` plugs
into the shared parts - state registered and rebuilt on reset, stats/request log/faults/publish
log per platform - beside Meta, without touching any shared module."""

from __future__ import annotations

import sys
import types
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from aiohttp import web

from sandbox import SandboxConfig, build_sandbox_app
from sandbox.app import PLATFORMS
from sandbox.context import Sandbox, sandbox_of
from sandbox.dispatch import path_param
from sandbox.mounting import mount_hosts
from sandbox.stats import ACCOUNT_ID

TOY_HOST = "api.toy.example"


@dataclass
class ToyState:
    calls: int = 0


def _toy_module() -> types.ModuleType:
    routes = web.RouteTableDef()

    @routes.get(f"/{TOY_HOST}/v1/users/{{user}}/count")
    async def count(request: web.Request) -> web.Response:
        state = sandbox_of(request).platform("toy")
        state.calls += 1
        request[ACCOUNT_ID] = path_param(request, "user")
        return web.json_response({"calls": state.calls})

    @routes.post(f"/{TOY_HOST}/v1/users/{{user}}/videos")
    async def publish(request: web.Request) -> web.Response:
        sandbox = sandbox_of(request)
        record = sandbox.published.record("toy", path_param(request, "user"), "v-1", title="hi")
        return web.json_response({"id": record.media_id})

    @routes.get("/_sandbox/toy/state")
    async def control(request: web.Request) -> web.Response:
        return web.json_response({"calls": sandbox_of(request).platform("toy").calls})

    def mount(root: web.Application, sandbox: Sandbox) -> None:
        sandbox.register("toy", lambda _sandbox: ToyState())
        mount_hosts(root, HOSTS, [routes])

    HOSTS = (TOY_HOST,)
    module = types.ModuleType("tests_toy_platform.toy")
    module.HOSTS = HOSTS  # type: ignore[attr-defined]
    module.mount = mount  # type: ignore[attr-defined]
    return module


@pytest.fixture
async def toy_http() -> AsyncIterator[httpx.AsyncClient]:
    app = build_sandbox_app(SandboxConfig(), platforms=(*PLATFORMS, _toy_module()))
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5.0) as http:
            yield http
    finally:
        await runner.cleanup()


async def test_a_platform_package_gets_its_state_stats_log_and_reset(
    toy_http: httpx.AsyncClient,
) -> None:
    http = toy_http
    assert sys.modules.get("tests_toy_platform.toy") is None  # nothing global was touched
    for expected in (1, 2):
        r = await http.get(f"/{TOY_HOST}/v1/users/u1/count")
        assert r.json() == {"calls": expected}
    await http.get("/graph.instagram.com/v24.0/me", params={"access_token": "nope"})

    assert (await http.get("/_sandbox/stats", params={"platform": "toy"})).json() == {
        "total": 2,
        "by_endpoint": {f"GET /{TOY_HOST}/v1/users/{{user}}/count": 2},
        "by_account": {"u1": 2},
    }
    assert (await http.get("/_sandbox/stats", params={"platform": "meta"})).json()["total"] == 1
    assert (await http.get("/_sandbox/stats")).json()["total"] == 3
    log = (await http.get("/_sandbox/requests")).json()["requests"]
    assert [e["platform"] for e in log] == ["toy", "toy", "meta"]
    toy_log = (await http.get("/_sandbox/requests", params={"platform": "toy"})).json()
    assert len(toy_log["requests"]) == 2
    platforms = (await http.get("/_sandbox/platforms")).json()["platforms"]
    assert {"name": "toy", "hosts": [TOY_HOST]} in platforms
    assert "meta" in [p["name"] for p in platforms]
    assert (await http.get("/_sandbox/toy/state")).json() == {"calls": 2}

    await http.post(f"/{TOY_HOST}/v1/users/u1/videos")
    published = (await http.get("/_sandbox/published", params={"platform": "toy"})).json()
    assert [(p["platform"], p["account"], p["media_id"], p["title"]) for p in published["published"]] == [
        ("toy", "u1", "v-1", "hi")
    ]
    assert (await http.get("/_sandbox/published", params={"platform": "meta"})).json() == {
        "published": []
    }

    assert (await http.post("/_sandbox/reset")).status_code == 200
    assert (await http.get("/_sandbox/toy/state")).json() == {"calls": 0}  # state rebuilt
    assert (await http.get("/_sandbox/published")).json() == {"published": []}
    assert (await http.get("/_sandbox/stats", params={"platform": "toy"})).json()["total"] == 0


async def test_faults_reach_a_platform_sub_app_in_the_default_shape(
    toy_http: httpx.AsyncClient,
) -> None:
    http = toy_http
    add = await http.post(
        "/_sandbox/faults",
        json={"path": f"/{TOY_HOST}/*", "status": 429,
              "error": {"code": "rate_limit_exceeded", "message": "slow down", "log_id": "x1"}},
    )
    assert add.status_code == 201
    r = await http.get(f"/{TOY_HOST}/v1/users/u1/count")
    assert r.status_code == 429
    assert r.json() == {"error": {"code": "rate_limit_exceeded", "message": "slow down", "log_id": "x1"}}
    assert (await http.get("/_sandbox/toy/state")).json() == {"calls": 0}  # answered instead
    entry = (await http.get("/_sandbox/requests", params={"platform": "toy"})).json()["requests"][-1]
    assert (entry["status"], entry["fault"]) == (429, add.json()["id"])
    # The same rule shape on a Meta path answers in Graph's shape (Meta's renderer).
    await http.post("/_sandbox/faults", json={"path": "/graph.instagram.com/*", "status": 500})
    meta = await http.get("/graph.instagram.com/v24.0/me", params={"access_token": "x"})
    assert meta.status_code == 500 and meta.json()["error"]["code"] == 2
    assert "fbtrace_id" in meta.json()["error"]


async def test_unknown_paths_under_a_platform_host_are_404_and_counted(
    toy_http: httpx.AsyncClient,
) -> None:
    r = await toy_http.get(f"/{TOY_HOST}/v1/nothing")
    assert r.status_code == 404
    stats = (await toy_http.get("/_sandbox/stats", params={"platform": "toy"})).json()
    assert stats["total"] == 1
