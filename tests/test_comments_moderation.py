"""The CRM's comment API: threaded listing, and reply / hide / delete through the worker."""

from __future__ import annotations

import time

from socialsync.platforms.instagram.limits import account_scope

from tests.conftest import Env
from tests.webhooks_helpers import comment_docs, connected, graph_calls, sandbox_comment, seed_media


async def setup_thread(env: Env):  # noqa: ANN201
    acc = await connected(env)
    media = await seed_media(env, count=2)
    top = await sandbox_comment(env, media[0], "love it")
    reply = await sandbox_comment(env, media[0], "me too", parent_id=top["id"], username="fan2")
    other = await sandbox_comment(env, media[1], "second post")
    await env.run_worker()
    return acc, media, top["id"], reply["id"], other["id"]


async def action_of(env: Env, tenant, action_id: str) -> dict:  # noqa: ANN001
    r = await env.http.get(f"/v1/actions/{action_id}", headers=env.auth(tenant))
    assert r.status_code == 200, r.text
    return r.json()


async def test_comments_are_listed_threaded_filtered_and_paged(env: Env) -> None:
    acc, media, top, reply, other = await setup_thread(env)
    h = env.auth(acc.tenant)
    r = await env.http.get(f"/v1/accounts/{acc.account_id}/comments", headers=h)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert {c["id"] for c in data} == {top, other}  # replies are not top-level items
    thread = next(c for c in data if c["id"] == top)
    assert [x["id"] for x in thread["replies"]] == [reply]
    assert thread["replies"][0]["parent_id"] == top and thread["from"]["username"] == "a_follower"
    only = (await env.http.get(f"/v1/accounts/{acc.account_id}/comments", params={"media_id": media[1]}, headers=h)).json()["data"]
    assert [c["id"] for c in only] == [other]
    page1 = (await env.http.get(f"/v1/accounts/{acc.account_id}/comments", params={"limit": 1}, headers=h)).json()
    page2 = (await env.http.get(f"/v1/accounts/{acc.account_id}/comments", params={"limit": 1, "cursor": page1["next_cursor"]}, headers=h)).json()
    assert page1["next_cursor"] and page2["next_cursor"] is None
    assert {page1["data"][0]["id"], page2["data"][0]["id"]} == {top, other}
    assert (await env.http.get(f"/v1/accounts/{acc.account_id}/comments", params={"hidden": "maybe"}, headers=h)).json()["error"]["code"] == "invalid_hidden"
    assert (await env.http.get(f"/v1/accounts/{acc.account_id}/comments", params={"cursor": "@@"}, headers=h)).json()["error"]["code"] == "invalid_cursor"


async def test_another_tenants_account_and_comments_are_404(env: Env) -> None:
    acc, _media, top, _reply, _other = await setup_thread(env)
    intruder = await env.tenant("Other CRM")
    h = env.auth(intruder)
    assert (await env.http.get(f"/v1/accounts/{acc.account_id}/comments", headers=h)).status_code == 404
    r = await env.http.post(f"/v1/comments/{top}/hide", json={"hidden": True}, headers=h)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert (await env.http.delete(f"/v1/comments/{top}", headers=h)).status_code == 404


async def test_reply_is_posted_by_the_worker_and_stored_as_a_reply(env: Env) -> None:
    acc, media, top, _reply, _other = await setup_thread(env)
    r = await env.http.post(f"/v1/comments/{top}/reply", json={"message": "thanks!"}, headers=env.auth(acc.tenant))
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending"
    await env.run_worker()
    action = await action_of(env, acc.tenant, r.json()["id"])
    assert action["status"] == "succeeded", action
    reply_id = action["result"]["reply_id"]
    docs = await comment_docs(env, comment_id=reply_id)
    assert len(docs) == 1 and docs[0]["parent_id"] == top and docs[0]["text"] == "thanks!" and docs[0]["source"] == "api"
    thread = (await env.http.get(f"/v1/accounts/{acc.account_id}/comments", params={"media_id": media[0]}, headers=env.auth(acc.tenant))).json()["data"][0]
    assert reply_id in [x["id"] for x in thread["replies"]]


async def test_replying_to_a_reply_or_a_hidden_comment_is_refused_before_any_api_call(env: Env) -> None:
    acc, _media, top, reply, _other = await setup_thread(env)
    h = env.auth(acc.tenant)
    before = await graph_calls(env, "/replies")
    r = await env.http.post(f"/v1/comments/{reply}/reply", json={"message": "hi"}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["code"] == "cannot_reply_to_reply"
    await env.http.post(f"/v1/comments/{top}/hide", json={"hidden": True}, headers=h)
    await env.run_worker()
    r = await env.http.post(f"/v1/comments/{top}/reply", json={"message": "hi"}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["code"] == "cannot_reply_to_hidden"
    r = await env.http.post(f"/v1/comments/{top}/reply", json={"message": ""}, headers=h)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_body"
    await env.run_worker()
    assert await graph_calls(env, "/replies") == before
    assert await env.services.store["comment_actions"].count_documents({"kind": "reply"}) == 0


async def test_hide_and_unhide_are_reflected_on_the_platform_and_in_mongodb(env: Env) -> None:
    acc, _media, top, _reply, _other = await setup_thread(env)
    h = env.auth(acc.tenant)
    r = await env.http.post(f"/v1/comments/{top}/hide", json={"hidden": True}, headers=h)
    assert r.status_code == 202
    await env.run_worker()
    assert (await action_of(env, acc.tenant, r.json()["id"]))["status"] == "succeeded"
    assert (await comment_docs(env, comment_id=top))[0]["hidden"] is True
    hidden = (await env.http.get(f"/v1/accounts/{acc.account_id}/comments", params={"hidden": "true"}, headers=h)).json()["data"]
    assert [c["id"] for c in hidden] == [top]
    token = env.services.cipher.decrypt((await env.services.store.accounts.find_one({"_id": acc.account_id}))["token"]["ciphertext"])
    on_platform = (await env.sandbox.get(f"/graph.instagram.com/v24.0/{top}", params={"fields": "hidden", "access_token": token})).json()
    assert on_platform["hidden"] is True
    await env.http.post(f"/v1/comments/{top}/hide", json={"hidden": False}, headers=h)
    await env.run_worker()
    assert (await comment_docs(env, comment_id=top))[0]["hidden"] is False


async def test_delete_removes_the_comment_and_its_replies_from_lists(env: Env) -> None:
    acc, _media, top, reply, other = await setup_thread(env)
    h = env.auth(acc.tenant)
    r = await env.http.delete(f"/v1/comments/{top}", headers=h)
    assert r.status_code == 202
    await env.run_worker()
    assert (await action_of(env, acc.tenant, r.json()["id"]))["status"] == "succeeded"
    listed = (await env.http.get(f"/v1/accounts/{acc.account_id}/comments", headers=h)).json()["data"]
    assert [c["id"] for c in listed] == [other]
    assert (await env.http.post(f"/v1/comments/{reply}/hide", json={"hidden": True}, headers=h)).status_code == 404
    # a late re-delivery of the deleted comment does not bring it back
    await sandbox_comment(env, _media[0], "late", duplicates=1)
    await env.run_worker()
    assert (await comment_docs(env, comment_id=top))[0]["deleted"] is True


async def test_a_dead_token_fails_the_action_and_marks_the_account_needs_reconnect(env: Env) -> None:
    acc, _media, top, _reply, _other = await setup_thread(env)
    await env.sandbox.post("/_sandbox/tokens/revoke", json={"username": "sandbox_creator"})
    r = await env.http.post(f"/v1/comments/{top}/hide", json={"hidden": True}, headers=env.auth(acc.tenant))
    await env.run_worker()
    action = await action_of(env, acc.tenant, r.json()["id"])
    assert action["status"] == "failed" and action["error"]["code"] == "account_needs_reconnect"
    account = (await env.http.get(f"/v1/accounts/{acc.account_id}", headers=env.auth(acc.tenant))).json()
    assert account["status"] == "needs_reconnect"
    # the reason names the account's platform (its spec's display name, worker/jobs/platform_errors.py)
    stored = await env.services.store.accounts.find_one({"_id": acc.account_id})
    assert stored["status_reason"].startswith("Instagram rejected the token (code 190"), stored["status_reason"]
    assert (await comment_docs(env, comment_id=top))[0]["hidden"] is False
    # and a new action is refused up front
    r = await env.http.post(f"/v1/comments/{top}/hide", json={"hidden": True}, headers=env.auth(acc.tenant))
    assert r.status_code == 409 and r.json()["error"]["code"] == "account_unavailable"


async def test_a_throttled_action_is_deferred_not_failed_then_performed(env: Env) -> None:
    acc, _media, top, _reply, _other = await setup_thread(env)
    await env.sandbox.post("/_sandbox/faults", json={"method": "POST", "path": f"*/{top}", "count": 1, "error": {"code": 80002, "message": "too many calls", "is_transient": True}})
    r = await env.http.post(f"/v1/comments/{top}/hide", json={"hidden": True}, headers=env.auth(acc.tenant))
    await env.run_worker(max_burst_jobs=1)
    action = await action_of(env, acc.tenant, r.json()["id"])
    assert action["status"] == "pending" and action["attempts"] == 1
    (job_id, when), = await env.redis.zrange(env.settings.queue_name, 0, -1, withscores=True)
    assert b"action:" in job_id and when > time.time() * 1000  # deferred, not failed, not sleeping
    # the scope regains access: the deferred job performs the action
    await env.services.governor.clear(account_scope(acc.ig_id))
    await env.redis.zadd(env.settings.queue_name, {job_id: time.time() * 1000})
    await env.run_worker()
    action = await action_of(env, acc.tenant, r.json()["id"])
    assert action["status"] == "succeeded" and action["attempts"] == 2
