"""Facebook Login connect: one page, several pages (selection step), none."""

from __future__ import annotations

import re

from tests.conftest import RETURN_URL, Env
from tests.flows import Outcome, connect


async def test_single_page_connects_its_instagram_business_account(env: Env) -> None:
    tenant = await env.tenant()
    outcome = await connect(env, tenant.api_key, "fb_single", login="facebook")
    assert outcome.status_code == 303 and outcome.location.startswith(RETURN_URL)
    acc = (await env.http.get(f"/v1/accounts/{outcome.account_id}", headers=env.auth(tenant))).json()
    assert acc["login"] == "facebook"
    assert acc["external_id"] == "17841400000000111"
    assert acc["username"] == "single_brand"
    assert acc["page_id"] == "20000000000000301"
    assert acc["token_expires_at"] is None  # page tokens do not expire
    doc = await env.services.store.accounts.find_one({"_id": outcome.account_id})
    assert doc["token"]["kind"] == "fb_page"
    assert doc["platform_user_id"] == "10000000000000201"


async def test_several_pages_show_a_selection_bound_to_the_state(env: Env) -> None:
    tenant = await env.tenant()
    outcome = await connect(env, tenant.api_key, "fb_multi", login="facebook")
    assert outcome.status_code == 303
    assert outcome.location.startswith("/oauth/facebook/select?state=")
    page = await env.http.get(outcome.location)
    assert page.status_code == 200
    assert "Brand A" in page.text and "Brand B" in page.text
    assert "No IG Page" not in page.text  # pages without an IG account are not offered
    assert await env.services.store.accounts.count_documents({}) == 0
    state = re.search(r"name='state' value='([^']+)'", page.text).group(1)

    chosen = await env.http.post("/oauth/facebook/select", data={"state": state, "page_id": "20000000000000303"})
    result = Outcome(chosen.status_code, chosen.headers.get("location"))
    doc = await env.services.store.accounts.find_one({"_id": result.account_id})
    assert doc["external_id"] == "17841400000000113" and doc["username"] == "brand_b"

    replay = await env.http.post("/oauth/facebook/select", data={"state": state, "page_id": "20000000000000302"})
    assert replay.status_code == 400  # the selection is single use
    assert await env.services.store.accounts.count_documents({}) == 1


async def test_selection_rejects_a_page_that_was_not_offered(env: Env) -> None:
    tenant = await env.tenant()
    outcome = await connect(env, tenant.api_key, "fb_multi", login="facebook")
    state = outcome.location.split("state=", 1)[1]
    chosen = await env.http.post("/oauth/facebook/select", data={"state": state, "page_id": "20000000000000304"})
    assert Outcome(chosen.status_code, chosen.headers.get("location")).query == {
        "status": "error", "error": "invalid_page"}
    assert await env.services.store.accounts.count_documents({}) == 0


async def test_no_business_account_is_a_clear_error(env: Env) -> None:
    tenant = await env.tenant()
    outcome = await connect(env, tenant.api_key, "fb_noig", login="facebook")
    assert outcome.query == {"status": "error", "error": "no_instagram_business_account"}
    assert await env.services.store.accounts.count_documents({}) == 0


async def test_facebook_denial_and_missing_scopes(env: Env) -> None:
    tenant = await env.tenant()
    denied = await connect(env, tenant.api_key, "fb_single", login="facebook", decision="deny")
    assert denied.query == {"status": "error", "error": "access_denied"}
    missing = await connect(
        env, tenant.api_key, "fb_single", login="facebook", scopes="instagram_basic,pages_show_list"
    )
    assert missing.query == {"status": "error", "error": "missing_scopes"}
    assert await env.services.store.accounts.count_documents({}) == 0


async def test_a_page_choice_stored_by_the_previous_release_is_still_completed(env: Env) -> None:
    """The pending choice moved into the Instagram plugin (platforms/instagram/pages.py); its
    Redis shape is the one the previous release wrote, so a choice begun before an upgrade
    is shown and completed after it."""
    import json

    from socialsync.oauth_state import PENDING_KEY

    tenant = await env.tenant()
    outcome = await connect(env, tenant.api_key, "fb_multi", login="facebook")
    state = outcome.location.split("state=", 1)[1]
    stored = json.loads(await env.redis.get(PENDING_KEY.format(state)))
    assert set(stored) == {"state", "granted_scopes", "fb_user_id", "pages"}
    assert {tuple(sorted(p)) for p in stored["pages"]} == {
        ("ig_user_id", "page_id", "page_name", "page_token_ciphertext")}
    # what the previous release wrote for such a choice, field by field, under another state
    old = {
        "state": stored["state"], "granted_scopes": stored["granted_scopes"], "fb_user_id": stored["fb_user_id"],
        "pages": [{"page_id": p["page_id"], "page_name": p["page_name"], "ig_user_id": p["ig_user_id"],
                   "page_token_ciphertext": p["page_token_ciphertext"]} for p in stored["pages"]],
    }
    await env.redis.set(PENDING_KEY.format("state-from-the-previous-release"), json.dumps(old), ex=600)
    page = await env.http.get("/oauth/facebook/select", params={"state": "state-from-the-previous-release"})
    assert page.status_code == 200 and "Brand B" in page.text
    chosen = await env.http.post("/oauth/facebook/select",
                                 data={"state": "state-from-the-previous-release", "page_id": "20000000000000303"})
    result = Outcome(chosen.status_code, chosen.headers.get("location"))
    assert result.query["status"] == "connected"
    doc = await env.services.store.accounts.find_one({"_id": result.account_id})
    assert doc["external_id"] == "17841400000000113" and doc["login"] == "facebook"
