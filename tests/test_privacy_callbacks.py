"""Meta's privacy callbacks: deauthorize and data deletion (signed_request)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx

from tests.conftest import Env
from tests.webhooks_helpers import comment_change, connected, payload, post_event


async def signed(env: Env, user_id: str, **extra) -> str:  # noqa: ANN003
    r = await env.sandbox.post("/_sandbox/signed_request", json={"user_id": user_id, **extra})
    return r.json()["signed_request"]


async def callback(env: Env, path: str, value: str | None) -> httpx.Response:
    return await env.http.post(path, data={} if value is None else {"signed_request": value})


def forge(payload_obj: dict, secret: bytes = b"sandbox-meta-secret") -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload_obj).encode()).rstrip(b"=")
    sig = base64.urlsafe_b64encode(hmac.new(secret, body, hashlib.sha256).digest()).rstrip(b"=")
    return f"{sig.decode()}.{body.decode()}"


async def test_deauthorize_disconnects_every_account_of_that_user_and_drops_tokens(env: Env) -> None:
    one = await connected(env)
    two = await connected(env, tenant=await env.tenant("Second CRM"))  # same person, another tenant
    bystander = await connected(env, "sandbox_newbie", tenant=one.tenant)
    user_id = (await env.services.store.accounts.find_one({"_id": one.account_id}))["platform_user_id"]
    r = await callback(env, "/webhooks/meta/deauthorize", await signed(env, user_id, app="instagram"))
    assert r.status_code == 200 and r.json()["accounts_disconnected"] == 2
    for acc in (one, two):
        doc = await env.services.store.accounts.find_one({"_id": acc.account_id})
        assert doc["status"] == "disconnected" and "token" not in doc and "deauthorize" in doc["status_reason"]
        event = await env.services.store["crm_events"].find_one({"type": "account.disconnected", "data.account_id": acc.account_id})
        assert event is not None and event["tenant_id"] == acc.tenant.id
    assert (await env.services.store.accounts.find_one({"_id": bystander.account_id}))["status"] == "active"


async def test_data_deletion_erases_everything_of_that_user_and_nothing_of_others(env: Env) -> None:
    one = await connected(env)
    two = await connected(env, tenant=await env.tenant("Second CRM"))
    keep = await connected(env, "sandbox_newbie", tenant=one.tenant)
    await post_event(env, payload(one.ig_id, [comment_change("17900000000001001")]))
    await post_event(env, payload(keep.ig_id, [comment_change("17900000000001002")]))
    await env.run_worker()
    for name, docs in {"media": [{"account_id": one.account_id}, {"account_id": keep.account_id}],
                       "metrics": [{"account_id": two.account_id}, {"account_id": keep.account_id}],
                       "audience": [{"account_id": one.account_id}]}.items():
        await env.services.store[name].insert_many(docs)
    user_id = (await env.services.store.accounts.find_one({"_id": one.account_id}))["platform_user_id"]
    kept_before = {n: await env.services.store[n].count_documents({"account_id": keep.account_id})
                   for n in ("comments", "media", "metrics", "audience", "sync_runs")}
    assert kept_before["comments"] == 1 and kept_before["media"] >= 1

    r = await callback(env, "/webhooks/meta/data-deletion", await signed(env, user_id))
    assert r.status_code == 200
    answer = r.json()
    assert answer["url"].endswith(f"/data-deletion/{answer['confirmation_code']}")
    status_path = "/data-deletion/" + answer["confirmation_code"]
    assert (await env.http.get(status_path)).json()["status"] == "pending"
    await env.run_worker()
    assert (await env.http.get(status_path)).json()["status"] == "completed"

    store = env.services.store
    gone = [one.account_id, two.account_id]
    assert await store.accounts.count_documents({"_id": {"$in": gone}}) == 0
    for name in ("comments", "media", "metrics", "audience", "sync_runs", "crm_events"):
        assert await store[name].count_documents({"account_id": {"$in": gone}}) == 0, name
    assert await store["crm_events"].count_documents({"data.account_id": {"$in": gone}}) == 0
    assert await store["webhook_events"].count_documents({"accounts": one.ig_id}) == 0
    # the other person's data is untouched
    assert await store.accounts.count_documents({"_id": keep.account_id}) == 1
    for name, count in kept_before.items():
        assert await store[name].count_documents({"account_id": keep.account_id}) == count, name
    assert await store["webhook_events"].count_documents({"accounts": keep.ig_id}) == 1
    assert (await env.http.get("/data-deletion/del_unknown")).status_code == 404


async def test_bad_signed_requests_are_refused_with_400_and_change_nothing(env: Env) -> None:
    acc = await connected(env)
    user_id = (await env.services.store.accounts.find_one({"_id": acc.account_id}))["platform_user_id"]
    good = await signed(env, user_id)
    sig, body = good.split(".")
    cases = {
        "missing": None,
        "one segment": body,
        "three segments": f"{sig}.{body}.x",
        "bad base64": f"{sig}.!!!",
        "wrong secret": forge({"algorithm": "HMAC-SHA256", "user_id": user_id}, b"not-our-secret"),
        "tampered payload": f"{sig}.{forge({'algorithm': 'HMAC-SHA256', 'user_id': '1'}).split('.')[1]}",
        "wrong algorithm": forge({"algorithm": "HMAC-SHA1", "user_id": user_id}),
        "not json": forge.__call__ and f"{base64.urlsafe_b64encode(hmac.new(b'sandbox-meta-secret', b'bm90IGpzb24', hashlib.sha256).digest()).rstrip(b'=').decode()}.bm90IGpzb24",
        "no user": forge({"algorithm": "HMAC-SHA256"}),
    }
    for path in ("/webhooks/meta/deauthorize", "/webhooks/meta/data-deletion"):
        for name, value in cases.items():
            r = await callback(env, path, value)
            assert r.status_code == 400, (path, name, r.text)
            assert r.json()["error"]["code"] == "invalid_signed_request", name
    assert (await env.services.store.accounts.find_one({"_id": acc.account_id}))["status"] == "active"
    assert await env.services.store["deletion_requests"].count_documents({}) == 0


async def test_only_a_platform_that_sends_privacy_callbacks_has_their_routes(env: Env) -> None:
    """The routes are the core's, per webhook source; TikTok and Google send no such callbacks
    (TikTok's deauthorization is a webhook event), so theirs are 404, as is an unknown source."""
    value = await signed(env, "17841400000000101")
    for source in ("tiktok", "youtube", "myspace"):
        for kind in ("deauthorize", "data-deletion"):
            r = await callback(env, f"/webhooks/{source}/{kind}", value)
            assert r.status_code == 404, (source, kind, r.text)
    assert await env.services.store["deletion_requests"].count_documents({}) == 0
