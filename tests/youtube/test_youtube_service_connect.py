"""YouTube through the service: /v1/connect (PKCE S256, verifier kept in the OAuth state),
/oauth/youtube/callback (allow, deny, unticked scopes, no channel), tokens in the worker (a refresh
keeps the stored refresh token; invalid_grant -> needs_reconnect with the reason), disconnect
revokes at Google. Real receiver, real worker, the sandbox over HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from socialsync import queue
from socialsync.oauth_state import STATE_KEY
from socialsync.platforms.youtube.oauth import challenge_of
from socialsync.platforms.youtube.settings import ANALYTICS, READONLY
from tests.conftest import Env
from tests.flows import follow_callback
from tests.youtube.sandbox_helpers import refresh as sandbox_refresh
from tests.youtube.yt_flows import account_doc, connect, connect_link, consent


async def test_connect_link_carries_pkce_and_the_callback_stores_the_channel(env: Env) -> None:
    tenant = await env.tenant()
    link = await connect_link(env, tenant.api_key, user_ref="u-7")
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert link.startswith(env.sandbox_url + "/accounts.google.com/o/oauth2/v2/auth?")
    assert query["redirect_uri"] == f"{env.settings.public_base}/oauth/youtube/callback"
    assert (query["access_type"], query["prompt"], query["include_granted_scopes"]) == ("offline", "consent", "true")
    assert query["code_challenge_method"] == "S256"
    stored = json.loads(await env.redis.get(STATE_KEY.format(query["state"])))
    # the verifier stays in the state record; only its S256 challenge went to Google
    assert stored["code_verifier"] and stored["code_verifier"] not in link
    assert challenge_of(stored["code_verifier"]) == query["code_challenge"]

    out = await follow_callback(env, await consent(env, link))
    assert out.status_code == 303 and out.query["status"] == "connected", out.location
    doc = await account_doc(env, out.account_id)
    assert (doc["platform"], doc["external_id"], doc["login"]) == ("youtube", "UCsandboxcreator000000001", "google")
    assert doc["user_ref"] == "u-7" and doc["token"]["refresh_ciphertext"] and doc["token"]["ciphertext"]
    assert doc["extra"]["capabilities"] == {"moderate_comments": True, "publish": True}
    assert doc["profile"]["followers_count"] == 123000
    assert await env.redis.get(STATE_KEY.format(query["state"])) is None  # single use
    # the first full sync and the WebSub subscription are queued for the worker
    queued = await env.redis.zrange(queue.queue_name_for(env.settings.queue_name, queue.SYNC), 0, -1)
    queued += await env.redis.zrange(env.settings.queue_name, 0, -1)
    names = b" ".join(queued)
    # the core's sync.run (the one sync path), not the previous release's platform job
    assert any(q.startswith(b"sync:" + out.account_id.encode()) for q in queued), queued
    assert b"ppush:" + out.account_id.encode() in names


async def test_a_callback_without_the_verifier_fails_the_exchange(env: Env) -> None:
    tenant = await env.tenant()
    link = await connect_link(env, tenant.api_key)
    state = parse_qs(urlsplit(link).query)["state"][0]
    raw = json.loads(await env.redis.get(STATE_KEY.format(state)))
    raw["code_verifier"] = None  # as if the verifier had not been kept
    await env.redis.set(STATE_KEY.format(state), json.dumps(raw), ex=600)
    out = await follow_callback(env, await consent(env, link))
    assert out.query == {"status": "error", "error": "token_exchange_failed"}


async def test_deny_no_channel_and_unticked_scopes_redirect_with_codes(env: Env) -> None:
    tenant = await env.tenant()
    denied = await connect(env, tenant.api_key, decision="deny")
    assert denied.query == {"status": "error", "error": "access_denied"}
    none = await connect(env, tenant.api_key, account="yt_nochannel")
    assert none.query == {"status": "error", "error": "no_youtube_channel"}
    missing = await connect(env, tenant.api_key, scopes=READONLY)  # analytics unticked: required
    assert missing.query == {"status": "error", "error": "missing_scopes"}
    read_only = await connect(env, tenant.api_key, scopes=f"{READONLY},{ANALYTICS}")
    doc = await account_doc(env, read_only.account_id)
    assert doc["extra"]["capabilities"] == {"moderate_comments": False, "publish": False}
    assert set(doc["scopes"]) == {READONLY, ANALYTICS}
    forged = await env.http.get("/oauth/youtube/callback", params={"state": "nope", "code": "x"})
    assert forged.status_code == 400 and "no longer valid" in forged.text.lower()


async def test_worker_refresh_keeps_the_refresh_token_and_a_dead_grant_needs_reconnect(env: Env) -> None:
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    before = await account_doc(env, out.account_id)
    refresh_token = env.services.cipher.decrypt(before["token"]["refresh_ciphertext"])
    await env.services.store.accounts.update_one(  # the access token is about to expire
        {"_id": out.account_id}, {"$set": {"token.expires_at": datetime.now(UTC) + timedelta(minutes=1)}})
    await queue.enqueue(env.services.redis, "platform.tokens_refresh", out.account_id, job_id="t-refresh-1")
    await env.run_worker()
    after = await account_doc(env, out.account_id)
    assert after["token"]["ciphertext"] != before["token"]["ciphertext"]  # a new access token
    assert after["token"]["expires_at"] > datetime.now(UTC) + timedelta(minutes=50)
    # Google's refresh answer has no refresh_token: the stored one is kept, not wiped
    assert env.services.cipher.decrypt(after["token"]["refresh_ciphertext"]) == refresh_token
    assert after["status"] == "active"

    await env.sandbox.post("/_sandbox/youtube/tokens/revoke", json={"username": "yt_creator"})
    await env.services.store.accounts.update_one(
        {"_id": out.account_id}, {"$set": {"token.expires_at": datetime.now(UTC) + timedelta(minutes=1)}})
    await queue.enqueue(env.services.redis, "platform.tokens_refresh", out.account_id, job_id="t-refresh-2")
    await env.run_worker()
    dead = await account_doc(env, out.account_id)
    assert dead["status"] == "needs_reconnect"
    assert "invalid_grant" in dead["status_reason"] and "reconnect" in dead["status_reason"]


async def test_testing_mode_expiry_is_named_in_the_reason(env: Env) -> None:
    tenant = await env.tenant()
    await env.sandbox.post("/_sandbox/youtube/app", json={"publishing_status": "testing"})
    out = await connect(env, tenant.api_key)
    doc = await account_doc(env, out.account_id)
    assert doc["token"]["refresh_expires_at"] is not None  # Google says 7 days for Testing apps
    await env.sandbox.post("/_sandbox/clock", json={"advance_seconds": 7 * 86400 + 60})
    await env.services.store.accounts.update_one(
        {"_id": out.account_id}, {"$set": {"token.expires_at": datetime.now(UTC),
                                           "token.refresh_expires_at": datetime.now(UTC)}})
    await queue.enqueue(env.services.redis, "platform.tokens_refresh", out.account_id, job_id="t-refresh-3")
    await env.run_worker()
    dead = await account_doc(env, out.account_id)
    assert dead["status"] == "needs_reconnect" and "Testing" in dead["status_reason"]


async def test_disconnect_revokes_the_grant_at_google(env: Env) -> None:
    tenant = await env.tenant()
    out = await connect(env, tenant.api_key)
    doc = await account_doc(env, out.account_id)
    refresh_token = env.services.cipher.decrypt(doc["token"]["refresh_ciphertext"])
    r = await env.http.delete(f"/v1/accounts/{out.account_id}", headers=env.auth(tenant))
    assert r.status_code in (200, 204), r.text
    await env.run_worker()
    dead = await sandbox_refresh(env.sandbox, refresh_token)
    assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"
    gone = await account_doc(env, out.account_id)
    assert gone["status"] == "disconnected" and not (gone.get("token") or {}).get("ciphertext")
