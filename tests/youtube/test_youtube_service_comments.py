"""YouTube comments through the shared comments API: reply, hide (heldForReview), unhide and
delete answer 202 and the worker performs each through the plugin's moderate part (50 units from
the reserve); a grant without youtube.force-ssl answers 422 before anything is queued."""

from __future__ import annotations

from socialsync.platforms.youtube.settings import ANALYTICS, READONLY
from tests.conftest import Env
from tests.youtube.yt_flows import connect, get, units_used


async def _act(env: Env, key: str, method: str, path: str, body: dict | None = None) -> dict:  # type: ignore[type-arg]
    r = await env.http.request(method, path, json=body, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 202, r.text
    return r.json()


async def test_reply_hide_unhide_and_delete_through_the_worker(env: Env) -> None:
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    await env.run_worker()
    before = await units_used(env)
    reply = await _act(env, tenant.api_key, "POST", "/v1/comments/Ugthread000002/reply", {"message": "thanks!"})
    hide = await _act(env, tenant.api_key, "POST", "/v1/comments/Ugthread000003/hide", {"hidden": True})
    delete = await _act(env, tenant.api_key, "DELETE", "/v1/comments/Ugthread000004")
    await env.run_worker()
    for action in (reply, hide, delete):
        state = await get(env, tenant.api_key, f"/v1/actions/{action['id']}")
        assert state["status"] == "succeeded", state
    reply_id = (await get(env, tenant.api_key, f"/v1/actions/{reply['id']}"))["result"]["reply_id"]
    assert reply_id.startswith("Ugthread000002.")
    assert (await env.sandbox.get("/_sandbox/youtube/comments/Ugthread000003")).json()["moderation_status"] == "heldForReview"
    assert (await env.sandbox.get("/_sandbox/youtube/comments/Ugthread000004")).status_code == 404
    assert await units_used(env) - before == 150  # 50 units each
    threads = (await get(env, tenant.api_key, f"/v1/accounts/{out.account_id}/comments?limit=100"))["data"]
    by_id = {t["id"]: t for t in threads}
    assert "Ugthread000004" not in by_id and by_id["Ugthread000003"]["hidden"] is True
    assert reply_id in {r["id"] for r in by_id["Ugthread000002"]["replies"]}
    # each action is stored with its account's platform (the store has no default for it)
    assert {d["platform"] async for d in env.services.store["comment_actions"].find({})} == {"youtube"}
    unhide = await _act(env, tenant.api_key, "POST", "/v1/comments/Ugthread000003/hide", {"hidden": False})
    await env.run_worker()
    assert (await get(env, tenant.api_key, f"/v1/actions/{unhide['id']}"))["status"] == "succeeded"
    assert (await env.sandbox.get("/_sandbox/youtube/comments/Ugthread000003")).json()["moderation_status"] == "published"
    to_reply = await env.http.post(f"/v1/comments/{reply_id}/reply", json={"message": "x"}, headers=env.auth(tenant))
    assert to_reply.status_code == 422 and to_reply.json()["error"]["code"] == "cannot_reply_to_reply"
    assert "YouTube" in to_reply.json()["error"]["message"]


async def test_a_grant_without_the_moderation_scope_answers_422(env: Env) -> None:
    tenant = await env.tenant()
    await connect(env, tenant.api_key, scopes=f"{READONLY},{ANALYTICS}")
    await env.run_worker()
    r = await env.http.post("/v1/comments/Ugthread000003/hide", json={"hidden": True}, headers=env.auth(tenant))
    assert r.status_code == 422 and r.json()["error"]["code"] == "missing_scope", r.text
    assert await env.services.store["comment_actions"].count_documents({}) == 0
