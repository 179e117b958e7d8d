"""CRM events: one registered endpoint per tenant, signed deliveries, retries, a delivery log."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest_asyncio
from aiohttp import web

from socialsync import events
from tests.conftest import Env, serve
from tests.webhooks_helpers import comment_change, connected, payload, post_event


@dataclass
class CrmReceiver:
    url: str
    answers: list[int] = field(default_factory=list)  # statuses to answer, then 200
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest_asyncio.fixture
async def crm() -> AsyncIterator[CrmReceiver]:
    receiver = CrmReceiver(url="")

    async def handle(request: web.Request) -> web.Response:
        receiver.received.append((dict(request.headers), await request.read()))
        status = receiver.answers.pop(0) if receiver.answers else 200
        return web.Response(status=status)

    app = web.Application()
    app.router.add_post("/hooks", handle)
    runner, base = await serve(app)
    receiver.url = f"{base}/hooks"
    try:
        yield receiver
    finally:
        await runner.cleanup()


async def register(env: Env, tenant, url: str, **body) -> dict:  # noqa: ANN001, ANN003
    r = await env.http.put("/v1/webhook-endpoint", json={"url": url, **body}, headers=env.auth(tenant))
    assert r.status_code == 200, r.text
    return r.json()


async def test_the_secret_is_shown_once_and_bad_endpoints_are_refused(env: Env) -> None:
    tenant = await env.tenant()
    first = await register(env, tenant, "https://crm.example.com/hooks")
    assert first["secret"].startswith("whsec_") and first["events"] == ["*"]
    again = await register(env, tenant, "https://crm.example.com/other", events=["comment.created"])
    assert again["secret"] is None and again["url"] == "https://crm.example.com/other"
    shown = (await env.http.get("/v1/webhook-endpoint", headers=env.auth(tenant))).json()
    assert shown["secret"] is None and shown["events"] == ["comment.created"]
    rotated = await register(env, tenant, "https://crm.example.com/other", rotate_secret=True)
    assert rotated["secret"] not in (None, first["secret"])
    stored = await env.services.store["webhook_endpoints"].find_one({"_id": tenant.id})
    assert rotated["secret"] not in json.dumps(stored, default=str)  # encrypted at rest
    bad = await env.http.put("/v1/webhook-endpoint", json={"url": "ftp://x"}, headers=env.auth(tenant))
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_body"
    bad = await env.http.put("/v1/webhook-endpoint", json={"url": "https://x.example", "events": ["post.deleted"]}, headers=env.auth(tenant))
    assert bad.status_code == 400 and "post.deleted" in bad.json()["error"]["message"]
    other = await env.tenant("Other")
    assert (await env.http.get("/v1/webhook-endpoint", headers=env.auth(other))).status_code == 404


async def test_comment_created_is_delivered_signed_with_the_tenant_secret(env: Env, crm: CrmReceiver) -> None:
    acc = await connected(env)
    secret = (await register(env, acc.tenant, crm.url))["secret"]
    await post_event(env, payload(acc.ig_id, [comment_change("17900000000000501", "hello CRM")]))
    await env.run_worker()
    assert len(crm.received) == 1
    headers, body = crm.received[0]
    assert events.verify(secret, headers["X-Socialsync-Signature"], body)
    assert not events.verify("whsec_wrong", headers["X-Socialsync-Signature"], body)
    assert not events.verify(secret, headers["X-Socialsync-Signature"], body + b" ")
    event = json.loads(body)
    assert event["type"] == "comment.created"
    assert event["data"]["comment_id"] == "17900000000000501" and event["data"]["account_id"] == acc.account_id
    assert event["data"]["text"] == "hello CRM"
    # a re-delivery of the same comment does not send it again
    await post_event(env, payload(acc.ig_id, [comment_change("17900000000000501", "hello CRM")]), secret=b"sandbox-ig-secret")
    await env.run_worker()
    assert len(crm.received) == 1


async def test_a_failing_endpoint_is_retried_and_every_attempt_is_logged(env: Env, crm: CrmReceiver) -> None:
    acc = await connected(env)
    await register(env, acc.tenant, crm.url)
    crm.answers = [500, 503]
    env.settings.crm_event_backoff_base_seconds = 0.0
    await post_event(env, payload(acc.ig_id, [comment_change("17900000000000601")]))
    await env.run_worker()
    assert len(crm.received) == 3
    log = (await env.http.get("/v1/webhook-endpoint/deliveries", headers=env.auth(acc.tenant))).json()
    assert [d["status_code"] for d in log["data"]] == [200, 503, 500]  # newest first
    assert [d["attempt"] for d in log["data"]] == [3, 2, 1]
    page = (await env.http.get("/v1/webhook-endpoint/deliveries", params={"limit": 2}, headers=env.auth(acc.tenant))).json()
    rest = (await env.http.get("/v1/webhook-endpoint/deliveries", params={"limit": 2, "cursor": page["next_cursor"]}, headers=env.auth(acc.tenant))).json()
    assert [d["attempt"] for d in page["data"] + rest["data"]] == [3, 2, 1] and rest["next_cursor"] is None
    event = await env.services.store["crm_events"].find_one({"type": "comment.created"})
    assert event["delivery"]["status"] == "delivered" and event["delivery"]["attempts"] == 3


async def test_delivery_gives_up_after_the_retry_window(env: Env, crm: CrmReceiver) -> None:
    acc = await connected(env)
    await register(env, acc.tenant, crm.url)
    crm.answers = [500] * 10
    env.settings.crm_event_retry_hours = 0.0
    await post_event(env, payload(acc.ig_id, [comment_change("17900000000000701")]))
    await env.run_worker()
    event = await env.services.store["crm_events"].find_one({"type": "comment.created"})
    assert event["delivery"]["status"] == "failed" and len(crm.received) == 1


async def test_account_disconnected_and_needs_reconnect_reach_the_crm(env: Env, crm: CrmReceiver) -> None:
    acc = await connected(env)
    await register(env, acc.tenant, crm.url, events=["account.needs_reconnect", "account.disconnected"])
    # a dead token found by a job → needs_reconnect
    from socialsync import lifecycle
    await lifecycle.account_needs_reconnect(env.services, acc.account_id, "Meta rejected the token (code 190)")
    await lifecycle.account_needs_reconnect(env.services, acc.account_id, "again")  # same occurrence: once
    assert (await env.http.delete(f"/v1/accounts/{acc.account_id}", headers=env.auth(acc.tenant))).status_code == 200
    await post_event(env, payload(acc.ig_id, [comment_change("17900000000000801")]))  # not subscribed to it
    await env.run_worker()
    types = [json.loads(body)["type"] for _h, body in crm.received]
    assert sorted(types) == ["account.disconnected", "account.needs_reconnect"]
    disconnected = next(json.loads(b) for _h, b in crm.received if json.loads(b)["type"] == "account.disconnected")
    assert disconnected["data"]["account_id"] == acc.account_id and "access_token" not in json.dumps(disconnected)


async def test_a_tenant_without_endpoint_gets_events_recorded_but_nothing_sent(env: Env, crm: CrmReceiver) -> None:
    acc = await connected(env)
    await post_event(env, payload(acc.ig_id, [comment_change("17900000000000901")]))
    await env.run_worker()
    event = await env.services.store["crm_events"].find_one({"type": "comment.created"})
    assert event["delivery"]["status"] == "no_endpoint" and crm.received == []


async def test_callback_urls_on_private_addresses_are_refused_outside_sandbox_mode(env: Env) -> None:
    """SSRF guard: a tenant cannot point the worker at this machine or the private network."""
    env.settings.crm_event_allow_private_targets = False
    tenant = await env.tenant()
    for url in ("http://127.0.0.1:6379/", "https://localhost/hooks", "https://10.0.0.5/x", "http://169.254.169.254/latest",
                "https://[::1]/x", "https://user:pw@crm.example.com/hooks"):
        r = await env.http.put("/v1/webhook-endpoint", json={"url": url}, headers=env.auth(tenant))
        assert r.status_code == 400, url
        assert r.json()["error"]["code"] == "endpoint_url_not_allowed", url
    assert await env.services.store["webhook_endpoints"].count_documents({}) == 0
    # a public name is accepted at registration (it is resolved and checked at each delivery)
    assert (await env.http.put("/v1/webhook-endpoint", json={"url": "https://crm.example.com/hooks"}, headers=env.auth(tenant))).status_code == 200


async def test_a_delivery_to_a_private_address_is_refused_without_a_request(env: Env, crm: CrmReceiver) -> None:
    acc = await connected(env)
    await register(env, acc.tenant, crm.url)  # sandbox mode allows a local CRM...
    env.settings.crm_event_allow_private_targets = False  # ...production does not
    env.settings.crm_event_retry_hours = 0  # one attempt, then give up (no 24 h of retries here)
    await post_event(env, payload(acc.ig_id, [comment_change("17900000000000701")]))
    await env.run_worker()
    assert crm.received == []  # nothing reached the private address
    log = (await env.http.get("/v1/webhook-endpoint/deliveries", headers=env.auth(acc.tenant))).json()
    assert log["data"] and log["data"][0]["error"].startswith("destination refused")
    assert log["data"][0]["status_code"] is None
