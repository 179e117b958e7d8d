"""POST /webhooks/tiktok: TikTok-Signature checked on the raw bytes before anything is stored;
authorization.removed → needs_reconnect + CRM event; duplicates absorbed."""

from __future__ import annotations


import pytest
from tiktok_flows import account_doc, connect

from tests.conftest import Env


async def send(env: Env, **body: object) -> dict:
    r = await env.sandbox.post("/_sandbox/tiktok/webhooks/send", json={"url": f"{env.url}/webhooks/tiktok", **body})
    assert r.status_code == 200, r.text
    return r.json()


async def stored(env: Env) -> int:
    return await env.services.store["webhook_events"].count_documents({"source": "tiktok"})


@pytest.mark.parametrize("signature", ["missing", "wrong", "wrong_key", "stale", "reserialized"])
async def test_signature_abuse_is_refused_and_nothing_is_stored(env: Env, signature: str) -> None:
    out = await send(env, event="authorization.removed", content={"reason": 1}, signature=signature)
    assert out["posts"][0]["status"] == 401
    assert await stored(env) == 0


async def test_error_shape_of_a_refused_delivery(env: Env) -> None:
    r = await env.http.post("/webhooks/tiktok", content=b'{"event":"x"}', headers={"TikTok-Signature": "t=1,s=00"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "signature_invalid"


async def test_authorization_removed_marks_needs_reconnect_and_tells_the_crm(env: Env) -> None:
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    await env.run_worker()
    result = await send(env, event="authorization.removed", content={"reason": 1}, duplicates=3)
    assert [p["status"] for p in result["posts"]] == [200, 200, 200]
    assert await stored(env) == 1  # duplicates absorbed by the event id
    await env.run_worker()
    doc = await account_doc(env, out.account_id)
    assert doc["status"] == "needs_reconnect" and "removed" in doc["status_reason"]
    events = [e async for e in env.services.store["crm_events"].find({"type": "account.needs_reconnect"})]
    assert len(events) == 1 and events[0]["data"]["platform"] == "tiktok"
    event = await env.services.store["webhook_events"].find_one({"source": "tiktok"})
    assert event["status"] == "processed" and event["results"][0]["applied"] == "needs_reconnect"


async def test_one_bad_event_is_recorded_as_rejected(env: Env) -> None:
    await send(env, event="post.publish.complete", content="{not json")
    await env.run_worker()
    event = await env.services.store["webhook_events"].find_one({"source": "tiktok"})
    assert event["status"] == "processed" and "content" in event["results"][0]["rejected"]
