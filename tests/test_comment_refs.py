"""Comments are addressed by socialsync's own id (``ref``) in the API; the bare Instagram id
(the old form) keeps working, and another tenant's ref is 404."""

from __future__ import annotations

from tests.conftest import Env
from tests.test_comments_moderation import action_of, setup_thread


async def test_a_comment_is_moderated_through_its_ref_and_the_old_id_still_works(env: Env) -> None:
    acc, _media, top, _reply, other = await setup_thread(env)
    h = env.auth(acc.tenant)
    data = (await env.http.get(f"/v1/accounts/{acc.account_id}/comments", headers=h)).json()["data"]
    refs = {c["id"]: c["ref"] for c in data}
    assert refs[top] == f"{acc.account_id}:{top}" and refs[other] != refs[top]
    r = await env.http.post(f"/v1/comments/{refs[top]}/hide", json={"hidden": True}, headers=h)
    assert r.status_code == 202, r.text
    old = await env.http.post(f"/v1/comments/{other}/hide", json={"hidden": True}, headers=h)
    assert old.status_code == 202, old.text
    await env.run_worker()
    assert (await action_of(env, acc.tenant, r.json()["id"]))["status"] == "succeeded"
    hidden = {d["comment_id"] async for d in env.services.store["comments"].find({"account_id": acc.account_id, "hidden": True})}
    assert hidden == {top, other}
    intruder = await env.tenant("Other CRM")
    assert (await env.http.post(f"/v1/comments/{refs[top]}/hide", json={"hidden": False},
                                headers=env.auth(intruder))).status_code == 404
