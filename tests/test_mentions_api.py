"""``GET /v1/accounts/{id}/mentions``: the stored mentions, newest first, paged, tenant-scoped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from socialsync.store import comments as comment_store
from tests.conftest import Env
from tests.webhooks_helpers import SINGLE_BRAND_IG_ID, connected, payload, post_event, sandbox_comment, seed_media


async def test_a_resolved_mention_is_listed_with_its_comment_media_and_time(env: Env) -> None:
    brand = await connected(env, "fb_single", login="facebook")
    media = await seed_media(env, account="sandbox_creator", count=1)
    comment = await sandbox_comment(env, media[0], "look @single_brand!", deliver=False)
    caption_media = media[0]
    await post_event(env, payload(SINGLE_BRAND_IG_ID, [
        {"field": "mentions", "value": {"media_id": media[0], "comment_id": comment["id"]}}]))
    await env.run_worker()
    r = await env.http.get(f"/v1/accounts/{brand.account_id}/mentions", headers=env.auth(brand.tenant))
    assert r.status_code == 200, r.text
    (item,) = r.json()["data"]
    assert (item["kind"], item["media_id"], item["comment_id"], item["text"]) == (
        "comment", caption_media, comment["id"], "look @single_brand!")
    assert item["resolved"] is True and item["platform"] == "instagram" and item["timestamp"]
    assert item["account_id"] == brand.account_id and "user" in item
    assert r.json()["next_cursor"] is None
    other = await env.tenant("Other CRM")
    assert (await env.http.get(f"/v1/accounts/{brand.account_id}/mentions", headers=env.auth(other))).status_code == 404


async def test_mentions_page_newest_first_with_a_stable_cursor(env: Env) -> None:
    acc = await connected(env)
    now = datetime.now(UTC).replace(microsecond=0)
    for i in range(5):
        await comment_store.upsert_mention(env.services.store, comment_store.MentionIn(
            account_id=acc.account_id, tenant_id=acc.tenant.id, platform="instagram", media_id=f"1800000000000{i}", kind="media",
            text=f"caption {i} @sandbox_creator", timestamp=now - timedelta(hours=i), media_owner_username=f"fan{i}"))
    await comment_store.upsert_mention(env.services.store, comment_store.MentionIn(  # unresolved: received now
        account_id=acc.account_id, tenant_id=acc.tenant.id, platform="instagram", media_id="18000000000099", comment_id="179", kind="comment"))
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (await env.http.get(f"/v1/accounts/{acc.account_id}/mentions", headers=env.auth(acc.tenant),
                                   params=params)).json()
        assert len(body["data"]) <= 2
        seen += body["data"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len({m["id"] for m in seen}) == 6
    stamps = [datetime.fromisoformat(m["timestamp"].replace("Z", "+00:00")) for m in seen]
    assert stamps == sorted(stamps, reverse=True)
    assert seen[0]["resolved"] is False and seen[0]["comment_id"] == "179" and seen[0]["user"]["username"] is None
    assert [m["user"]["username"] for m in seen[1:]] == [f"fan{i}" for i in range(5)]  # the caption's author
    h = env.auth(acc.tenant)
    bad = await env.http.get(f"/v1/accounts/{acc.account_id}/mentions", headers=h, params={"cursor": "nope"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"
    bad = await env.http.get(f"/v1/accounts/{acc.account_id}/mentions", headers=h, params={"limit": "0"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_limit"
