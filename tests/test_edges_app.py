"""Issue 8: the receiver is a root app with sub-apps for /v1, /oauth and /webhooks; platform
routes nobody serves answer from the platform registry's point of view, in the JSON shape."""

from __future__ import annotations

from aiohttp import web

from tests.conftest import Env
from webhooks.app import SUBAPPS, build_app


def test_the_api_oauth_and_webhooks_are_sub_apps(env: Env) -> None:
    app = build_app(env.settings)
    mounted = {r.canonical for r in app.router.resources() if isinstance(r, web.PrefixedSubAppResource)}
    assert set(SUBAPPS) == {"/v1", "/oauth", "/webhooks"}
    assert mounted == set(SUBAPPS) | {"/ops"}  # the ops console is mounted beside them
    plain = {r.canonical for r in app.router.resources() if not isinstance(r, web.PrefixedSubAppResource)}
    assert not any(p.startswith(("/v1/", "/oauth/", "/webhooks/")) for p in plain)


async def test_platform_routes_dispatch_by_name(env: Env) -> None:
    for method in ("GET", "POST"):
        r = await env.http.request(method, "/oauth/myspace/callback")
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_platform", r.text
        r = await env.http.request(method, "/webhooks/myspace")  # Registry.for_source knows no such source
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text
    # the served ones are untouched, and a wrong method on them is still a 405
    assert (await env.http.get("/webhooks/meta", params={"hub.mode": "subscribe"})).status_code == 403
    r = await env.http.put("/webhooks/meta")
    assert r.status_code == 405 and "POST" in r.headers["allow"]
    tenant = await env.tenant()
    assert (await env.http.get("/v1/accounts", headers=env.auth(tenant))).status_code == 200
    metrics = (await env.http.get("/metrics")).text
    assert 'route="/v1/accounts"' in metrics and 'route="/webhooks/{source}"' in metrics
