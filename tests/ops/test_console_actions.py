"""Console actions through the same code paths as the API, each audited: sync now, retry a
failed post, resend a failed CRM event, and refusals recorded as such."""

from __future__ import annotations

from socialsync import operations
from tests.conftest import Env
from tests.ops.console_helpers import operator, page_csrf
from tests.publish_helpers import BODIES, add_fault, fast, post
from tests.test_crm_events import CrmReceiver, crm, register  # noqa: F401 - fixture
from tests.webhooks_helpers import comment_change, connected, payload, post_event


async def audits(env: Env, subject: str) -> list[dict]:
    return [d async for d in env.services.store["ops_audit"].find({"subject": subject}).sort("at", 1)]


async def test_sync_now_starts_a_run_like_the_api_and_is_audited(env: Env) -> None:
    c = await connected(env)
    await env.run_worker()  # the connect's first sync
    async with operator(env, "Sam") as client:
        _, csrf = await page_csrf(client, f"/ops/accounts/{c.account_id}")
        r = await client.post(f"/ops/accounts/{c.account_id}/sync", data={"csrf": csrf, "kind": "recent"})
        assert r.status_code == 303 and r.headers["location"] == f"/ops/accounts/{c.account_id}"
        run = await env.services.store["sync_runs"].find_one({"account_id": c.account_id, "trigger": "ops"})
        assert run is not None and run["kind"] == "recent"
        # A second request joins the run in progress, exactly as the API's does.
        r = await client.post(f"/ops/accounts/{c.account_id}/sync", data={"csrf": csrf, "kind": "recent"})
        assert await env.services.store["sync_runs"].count_documents({"trigger": "ops"}) == 1
        await env.run_worker()
        page = (await client.get(f"/ops/accounts/{c.account_id}")).text
    entries = await audits(env, f"account:{c.account_id}")
    assert [e["outcome"] for e in entries] == ["done", "done"]
    assert entries[0]["who"] == "Sam" and entries[0]["detail"].startswith(f"started run {run['_id']}")
    assert entries[1]["detail"].startswith(f"joined run {run['_id']}")
    assert (await env.services.store["sync_runs"].find_one({"_id": run["_id"]}))["status"] == "success"
    assert "Sam" in page and run["_id"] in page


async def test_retry_a_post_that_failed_for_a_fixable_reason(env: Env) -> None:
    fast(env)
    c = await connected(env)
    await add_fault(env, method="POST", path="*/media", count=1,
                    error={"code": 9004, "error_subcode": 2207052, "message": "Media download has failed"})
    post_id = await post(env, c.tenant, c.account_id, BODIES["image"])
    await env.run_worker()
    failed = await env.services.store["publish_jobs"].find_one({"_id": post_id})
    assert failed["state"] == "failed" and failed["error"]["caller_can_fix"], failed.get("error")
    async with operator(env) as client:
        page, csrf = await page_csrf(client, f"/ops/posts/{post_id}")
        assert "Retry this post" in page.text
        r = await client.post(f"/ops/posts/{post_id}/retry", data={"csrf": csrf})
        assert r.status_code == 303
        await env.run_worker()
        page = (await client.get(f"/ops/posts/{post_id}")).text
        # A published post is neither retried nor cancelled: refused, and the refusal is audited.
        for verb in ("retry", "cancel"):
            r = await client.post(f"/ops/posts/{post_id}/{verb}", data={"csrf": csrf})
            assert r.status_code == 303
    done = await env.services.store["publish_jobs"].find_one({"_id": post_id})
    assert done["state"] == "published" and done["media_id"] and done.get("retries") == 1
    assert 'id="post-state"><span class="badge s-published">published' in page
    entries = await audits(env, f"post:{post_id}")
    assert [(e["action"], e["outcome"]) for e in entries] == [
        ("retry_post", "done"), ("retry_post", "refused"), ("cancel_post", "refused")]
    assert entries[2]["detail"].startswith("post_not_cancellable")


async def test_retry_is_refused_when_a_publish_call_was_made(env: Env) -> None:
    fast(env)
    c = await connected(env)
    post_id = await post(env, c.tenant, c.account_id, BODIES["image"])
    await env.services.store["publish_jobs"].update_one(
        {"_id": post_id}, {"$set": {"state": "failed", "publish_attempts": 1,
                                    "error": {"code": "x", "message": "m", "caller_can_fix": True}}})
    doc = await env.services.store["publish_jobs"].find_one({"_id": post_id})
    assert "publish call was already made" in operations.retry_refusal(doc)
    try:
        await operations.retry_post(env.services, c.tenant.id, post_id, who="t")
    except operations.Refused as exc:
        assert exc.code == "post_not_retryable"
    else:
        raise AssertionError("retried a post that may have gone live")


async def test_resend_a_failed_crm_event(env: Env, crm: CrmReceiver) -> None:  # noqa: F811
    env.settings.crm_event_retry_hours = 0.0  # the first failed attempt ends the retry window
    c = await connected(env)
    await register(env, c.tenant, crm.url)
    crm.answers = [500]
    assert (await post_event(env, payload(c.ig_id, [comment_change("17900000000000555")]))).status_code == 200
    await env.run_worker()
    event = await env.services.store["crm_events"].find_one({"type": "comment.created"})
    assert event["delivery"]["status"] == "failed" and len(crm.received) == 1
    env.settings.crm_event_retry_hours = 24.0
    async with operator(env) as client:
        page, csrf = await page_csrf(client, f"/ops/crm-events/{event['_id']}")
        assert "HTTP 500" in page.text
        r = await client.post(f"/ops/crm-events/{event['_id']}/resend", data={"csrf": csrf})
        assert r.status_code == 303
        await env.run_worker()
        page = (await client.get(f"/ops/crm-events/{event['_id']}")).text
    delivered = await env.services.store["crm_events"].find_one({"_id": event["_id"]})
    assert delivered["delivery"]["status"] == "delivered" and delivered["delivery"]["resends"] == 1
    assert len(crm.received) == 2
    assert "resend_crm_event" in page and "delivered" in page


async def test_resend_refuses_a_delivered_event_and_another_tenants(env: Env, crm: CrmReceiver) -> None:  # noqa: F811
    import pytest

    c = await connected(env)
    await register(env, c.tenant, crm.url)
    assert (await post_event(env, payload(c.ig_id, [comment_change("17900000000000556")]))).status_code == 200
    await env.run_worker()
    event = await env.services.store["crm_events"].find_one({"type": "comment.created"})
    assert event["delivery"]["status"] == "delivered"
    with pytest.raises(operations.Refused) as refused:
        await operations.resend_crm_event(env.services, event["_id"], tenant_id=c.tenant.id)
    assert refused.value.code == "event_not_failed" and "delivered" in str(refused.value)
    with pytest.raises(operations.Missing):
        await operations.resend_crm_event(env.services, event["_id"], tenant_id="ten_someone_else")
    after = await env.services.store["crm_events"].find_one({"_id": event["_id"]})
    assert after["delivery"] == event["delivery"] and len(crm.received) == 1  # nothing reopened or re-sent
