"""TikTok's errors through injected faults in TikTok's own shape (sandbox/tiktok/faults.py):
classified by ``error.code`` only - each fault carries a message that names another code - and
acted on: internal_error retried with backoff, a 200 with a non-ok code is an error,
scope_not_authorized turns the capability off, rate_limit_exceeded defers a post."""

from __future__ import annotations

from test_tiktok_publish import MB, post, publishes, quick_tiktok, ready_account, video  # noqa: F401 - fixture
from tiktok_flows import account_doc, connect

from tests.conftest import Env

LIST = "/open.tiktokapis.com/v2/video/list/"


async def fault(env: Env, path: str, code: str, message: str, *, count: int = 1, **extras: object) -> None:
    r = await env.sandbox.post("/_sandbox/faults", json={
        "method": "POST", "path": path, "count": count, "error": {"code": code, "message": message, **extras}})
    assert r.status_code == 201, r.text


async def requests(env: Env) -> list[dict]:
    return (await env.sandbox.get("/_sandbox/requests?limit=500")).json()["requests"]


async def media_sync(env: Env, tenant, account_id: str) -> dict:  # noqa: ANN001
    r = await env.http.post(f"/v1/accounts/{account_id}/sync", json={"kind": "media"}, headers=env.auth(tenant))
    assert r.status_code == 202, r.text
    await env.run_worker()
    runs = [d async for d in env.services.store["sync_runs"].find({"account_id": account_id, "kind": "media"})]
    assert len(runs) == 1, runs
    return runs[0]


async def test_an_injected_fault_answers_in_tiktoks_envelope(env: Env) -> None:
    await fault(env, LIST, "internal_error", "boom", log_id="L1")
    r = await env.sandbox.post(LIST, json={})
    assert r.status_code == 500
    assert r.json() == {"data": {}, "error": {"code": "internal_error", "message": "boom", "log_id": "L1"}}
    await env.sandbox.post("/_sandbox/faults", json={"path": "/open.tiktokapis.com/v2/oauth/token/", "status": 503})
    r = await env.sandbox.post("/open.tiktokapis.com/v2/oauth/token/", data={})
    assert r.status_code == 503 and r.json()["error"] == "internal_error" and "error_description" in r.json()


async def test_internal_error_is_retried_by_its_code_not_its_message(env: Env) -> None:
    env.settings.retry_backoff_base_seconds = 0.2
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    await env.run_worker()
    await fault(env, LIST, "internal_error", "access_token_invalid: scope_not_authorized", count=2)
    before = sum(1 for r in await requests(env) if r["endpoint"].endswith("/v2/oauth/token/"))
    run = await media_sync(env, tenant, out.account_id)
    assert run["status"] == "success", run
    log = await requests(env)
    assert sum(1 for r in log if r["endpoint"] == LIST and r["status"] == 500) == 2
    assert sum(1 for r in log if r["endpoint"].endswith("/v2/oauth/token/")) == before  # no refresh
    assert (await account_doc(env, out.account_id))["status"] == "active"


async def test_a_200_with_a_non_ok_code_is_an_error(env: Env) -> None:
    env.settings.retry_backoff_base_seconds = 0.2
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    await env.run_worker()
    await env.sandbox.post("/_sandbox/tiktok/videos", json={"account": "tt_creator", "count": 2})
    await fault(env, LIST, "internal_error", "ok", http_status=200)
    run = await media_sync(env, tenant, out.account_id)
    assert run["status"] == "success", run
    log = [r for r in await requests(env) if r["endpoint"] == LIST]
    assert [r["status"] for r in log[-2:]] == [200, 200]  # the faulted 200, then the real page
    media = await env.http.get(f"/v1/accounts/{out.account_id}/media?limit=200", headers=env.auth(tenant))
    assert len(media.json()["data"]) == 62  # the empty faulted page was not taken as "no new videos"


async def test_scope_not_authorized_turns_the_capability_off_without_a_reconnect(env: Env) -> None:
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    await env.run_worker()
    await fault(env, LIST, "scope_not_authorized", "internal_error, please retry")
    listed = sum(1 for r in await requests(env) if r["endpoint"] == LIST)
    run = await media_sync(env, tenant, out.account_id)
    assert run["status"] in ("success", "partial"), run
    assert any(e.get("code") == "scope_not_authorized" for e in run.get("errors") or []), run
    doc = await account_doc(env, out.account_id)
    assert doc["status"] == "active"
    off = [c for c in (doc.get("capabilities") or {}).values() if isinstance(c, dict) and c.get("available") is False]
    assert off and off[0]["code"] == "scope_not_authorized", doc.get("capabilities")
    assert sum(1 for r in await requests(env) if r["endpoint"] == LIST) == listed + 1  # not retried


async def test_rate_limit_exceeded_on_a_post_defers_it_then_it_goes_out_once(env: Env) -> None:
    tenant, account_id = await ready_account(env)
    await fault(env, "/open.tiktokapis.com/v2/post/publish/creator_info/query/", "rate_limit_exceeded",
                "privacy_level_option_mismatch")
    env.settings.tiktok.throttle_block_seconds = 1.0
    r = await post(env, tenant, account_id, video(env, 6 * MB))
    await env.run_worker()
    got = (await env.http.get(f"/v1/posts/{r.json()['id']}", headers=env.auth(tenant))).json()
    assert got["state"] == "published", got
    assert any(a["outcome"] != "failed" for a in got["attempts"])
    assert len(await publishes(env)) == 1
    refused = [x for x in await requests(env) if x["status"] == 429]
    assert len(refused) == 1
