"""Ops endpoints: liveness, readiness against the real servers, metrics, OpenAPI."""

from __future__ import annotations

from pathlib import Path

import httpx

from socialsync.devservers import free_port, mongo_process, redis_process
from tests.conftest import Env, make_settings, serve
from webhooks.app import build_app


async def test_healthz_and_readyz(env: Env) -> None:
    assert (await env.http.get("/healthz")).json() == {"status": "ok"}
    r = await env.http.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "checks": {"mongodb": "ok", "redis": "ok"}}


async def _ready_after_killing(tmp_path: Path, which: str, redis_url: str, mongodb_url: str, sandbox_url: str, token_key: str) -> httpx.Response:
    proc = (mongo_process(tmp_path) if which == "mongodb" else redis_process(tmp_path)).start()
    urls = {"redis_url": redis_url, "mongodb_url": mongodb_url, f"{which}_url": proc.url}
    port = free_port()
    settings = make_settings(sandbox_url=sandbox_url, token_key=token_key, web_port=port, **urls)
    runner, url = await serve(build_app(settings), port)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=15) as client:
            assert (await client.get("/readyz")).status_code == 200
            proc.kill()
            return await client.get("/readyz")
    finally:
        proc.kill()
        await runner.cleanup()


async def test_readyz_fails_when_mongodb_is_down(tmp_path: Path, redis_url: str, mongodb_url: str, sandbox_url: str, token_key: str) -> None:
    r = await _ready_after_killing(tmp_path, "mongodb", redis_url, mongodb_url, sandbox_url, token_key)
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["mongodb"].startswith("error") and body["checks"]["redis"] == "ok"


async def test_readyz_fails_when_redis_is_down(tmp_path: Path, redis_url: str, mongodb_url: str, sandbox_url: str, token_key: str) -> None:
    r = await _ready_after_killing(tmp_path, "redis", redis_url, mongodb_url, sandbox_url, token_key)
    assert r.status_code == 503
    assert r.json()["checks"]["redis"].startswith("error") and r.json()["checks"]["mongodb"] == "ok"


async def test_metrics_count_requests_by_route(env: Env) -> None:
    await env.http.get("/healthz")
    await env.http.get("/v1/accounts")  # 401
    text = (await env.http.get("/metrics")).text
    assert 'socialsync_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'route="/v1/accounts",status="401"' in text


async def test_openapi_describes_every_v1_route_and_resolves_refs(env: Env) -> None:
    spec = (await env.http.get("/v1/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    assert {"/v1/connect", "/v1/accounts", "/v1/accounts/{account_id}", "/v1/admin/tenants"} <= set(spec["paths"])
    registered = {
        r.resource.canonical for r in build_app(env.settings).router.routes()
        if r.resource is not None and r.resource.canonical.startswith("/v1/") and r.resource.canonical != "/v1/openapi.json"
    }
    assert registered <= set(spec["paths"]), registered - set(spec["paths"])
    text = str(spec)
    for name in spec["components"]["schemas"]:
        assert name in text
    import re
    for ref in re.findall(r"#/components/schemas/(\w+)", text):
        assert ref in spec["components"]["schemas"], ref


async def test_unknown_v1_route_is_a_json_404(env: Env) -> None:
    tenant = await env.tenant()
    r = await env.http.get("/v1/nope", headers=env.auth(tenant))
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
