"""YouTube push through the service: on connect the worker subscribes the channel at the WebSub
hub, the hub's verification GET is answered on /webhooks/youtube/{key} (the challenge, only for
our own subscription), a signed notification is stored and triggers a sync of the new video in
<= 3 units, a bad signature gets 2xx and is dropped, a hub 503 is retried with polling as the
fallback, and the lease is renewed before it ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from socialsync.platforms.youtube import websub
from tests.conftest import Env
from tests.youtube.yt_flows import account_doc, connect, get, units_used, until
from worker.jobs.platforms import push_renew


async def _hub(env: Env) -> dict:  # type: ignore[type-arg]
    return (await env.sandbox.get("/_sandbox/youtube/hub")).json()


async def _events(env: Env) -> int:
    return await env.services.store["webhook_events"].count_documents({"source": "youtube"})


async def test_connect_subscribes_and_a_push_syncs_the_new_video(env: Env) -> None:
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    await env.run_worker()  # the first full sync, and the subscription request

    async def verified() -> bool:
        subs = (await _hub(env))["subscriptions"]
        return bool(subs) and subs[0]["verified"]

    await until(verified)  # the hub's GET reached our callback and got its challenge back
    [sub] = (await _hub(env))["subscriptions"]
    assert sub["callback"].startswith(env.settings.public_base + "/webhooks/youtube/UCsandboxcreator000000001.")
    assert sub["has_secret"] and sub["channel_id"] == "UCsandboxcreator000000001"
    doc = await account_doc(env, out.account_id)
    assert doc["push_subscription"]["status"] == "requested"
    assert doc["push_subscription"]["renew_at"] < doc["push_subscription"]["expires_at"]

    # someone else's topic on our callback, or a key we never made: 404, no challenge
    path = sub["callback"][len(env.settings.public_base):]
    stranger = await env.http.get(path, params={"hub.mode": "subscribe", "hub.challenge": "x",
                                                "hub.topic": websub.topic_for("UCsomeoneelse00000000001")})
    assert stranger.status_code == 404
    forged = await env.http.get("/webhooks/youtube/UCsandboxcreator000000001.00000000000000000000000000000000",
                                params={"hub.mode": "subscribe", "hub.challenge": "x",
                                        "hub.topic": websub.topic_for("UCsandboxcreator000000001")})
    assert forged.status_code == 404

    before = await units_used(env)
    added = (await env.sandbox.post("/_sandbox/youtube/videos", json={"channel": "yt_creator", "title": "Pushed"})).json()["id"]

    async def stored() -> bool:
        return await _events(env) == 1

    await until(stored)
    await env.run_worker()
    media = (await get(env, tenant.api_key, f"/v1/accounts/{out.account_id}/media?limit=200"))["data"]
    assert media[0]["id"] == added and media[0]["title"] == "Pushed"
    assert await units_used(env) - before <= 3  # the push sync: playlistItems + videos.list
    run = await env.services.store["sync_runs"].find_one({"account_id": out.account_id, "trigger": "webhook"})
    assert run is not None and run["kind"] == "push" and run["status"] == "success"

    # a wrong signature: acknowledged (2xx, as WebSub wants) and dropped, nothing stored
    statuses = (await env.sandbox.post("/_sandbox/youtube/push", json={"video_id": added, "signature": "wrong"})).json()
    assert statuses["statuses"] == [202]
    missing = (await env.sandbox.post("/_sandbox/youtube/push", json={"video_id": added, "signature": "missing"})).json()
    assert missing["statuses"] == [202]
    assert await _events(env) == 1

    # a tombstone marks the video deleted at once
    await env.sandbox.delete(f"/_sandbox/youtube/videos/{added}")

    async def two() -> bool:
        return await _events(env) == 2

    await until(two)
    await env.run_worker()
    listed = (await get(env, tenant.api_key, f"/v1/accounts/{out.account_id}/media?limit=200"))["data"]
    assert added not in {m["id"] for m in listed} and len(listed) == 150


async def test_a_failing_hub_is_retried_and_the_lease_is_renewed_before_it_ends(env: Env) -> None:
    tenant = await env.tenant()
    await env.sandbox.post("/_sandbox/youtube/hub/failures", json={"count": 1, "retry_after": 1})
    out = await connect(env, tenant.api_key)
    await env.run_worker()  # 503 (retry-after 1 s), then the retry succeeds

    async def verified() -> bool:
        subs = (await _hub(env))["subscriptions"]
        return bool(subs) and subs[0]["verified"]

    await until(verified)
    first = (await account_doc(env, out.account_id))["push_subscription"]
    assert first["status"] == "requested"
    # the lease nears its end: the renew cron re-subscribes
    await env.services.store.accounts.update_one(
        {"_id": out.account_id}, {"$set": {"push_subscription.renew_at": datetime.now(UTC) - timedelta(seconds=1)}})
    assert await push_renew({"services": env.services}) == 1
    await env.run_worker()
    renewed = (await account_doc(env, out.account_id))["push_subscription"]
    assert renewed["requested_at"] > first["requested_at"] and renewed["renew_at"] > datetime.now(UTC)
    assert len((await _hub(env))["subscriptions"]) == 1  # the same subscription, its lease extended
    assert await push_renew({"services": env.services}) == 0
