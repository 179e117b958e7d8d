"""Google OAuth in the sandbox: consent automation, PKCE, refresh without a new refresh token,
revoke, unticked scopes, Testing-mode 7-day refresh tokens."""

from __future__ import annotations

import httpx

from tests.youtube.sandbox_helpers import (
    ALL_SCOPES,
    AUTH,
    READONLY,
    ANALYTICS,
    V3,
    consent,
    exchange,
    login,
    pkce,
    refresh,
)


async def test_consent_page_lists_accounts_and_scopes(yts: httpx.AsyncClient) -> None:
    from sandbox.youtube.state import CLIENT_ID  # noqa: PLC0415

    r = await yts.get(AUTH, params={"client_id": CLIENT_ID, "redirect_uri": "https://a.example/cb",
                                    "response_type": "code", "scope": " ".join(ALL_SCOPES)})
    assert r.status_code == 200
    assert "yt_creator" in r.text and "yt_nochannel" in r.text and "youtube.upload" in r.text


async def test_unknown_client_is_refused(yts: httpx.AsyncClient) -> None:
    r = await yts.get(AUTH, params={"client_id": "nope", "redirect_uri": "https://a.example/cb",
                                    "response_type": "code", "scope": READONLY})
    assert r.status_code == 401


async def test_deny_redirects_with_access_denied_and_state(yts: httpx.AsyncClient) -> None:
    query = await consent(yts, "yt_creator", decision="deny")
    assert query == {"error": "access_denied", "state": "st-1"}


async def test_code_exchange_needs_the_pkce_verifier(yts: httpx.AsyncClient) -> None:
    verifier, challenge = pkce()
    query = await consent(yts, "yt_creator", challenge=challenge)
    r = await exchange(yts, query["code"], "wrong-verifier-" + "x" * 40)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    ok = await exchange(yts, query["code"], verifier)
    assert ok.status_code == 200
    body = ok.json()
    assert body["expires_in"] == 3599 and body["token_type"] == "Bearer"
    assert body["refresh_token"].startswith("1//")
    assert set(body["scope"].split()) == set(ALL_SCOPES)
    again = await exchange(yts, query["code"], verifier)  # a code works once
    assert again.json()["error"] == "invalid_grant"


async def test_refresh_answer_has_no_refresh_token_and_the_old_one_keeps_working(yts: httpx.AsyncClient) -> None:
    tokens = await login(yts)
    assert tokens.refresh_token
    for _ in range(2):
        r = await refresh(yts, tokens.refresh_token)
        assert r.status_code == 200
        assert "refresh_token" not in r.json()
        assert r.json()["access_token"] != tokens.access_token


async def test_revoke_kills_the_grant(yts: httpx.AsyncClient) -> None:
    tokens = await login(yts)
    r = await yts.post("/oauth2.googleapis.com/revoke", params={"token": tokens.access_token},
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200
    dead = await refresh(yts, tokens.refresh_token or "")
    assert dead.status_code == 400
    assert dead.json() == {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
    api = await yts.get(V3 + "/channels", params={"part": "id", "mine": "true"}, headers=tokens.headers)
    assert api.status_code == 401
    assert api.json()["error"]["errors"][0]["reason"] == "authError"
    again = await yts.post("/oauth2.googleapis.com/revoke", params={"token": tokens.access_token})
    assert again.status_code == 400


async def test_unticked_scopes_are_missing_from_the_token_answer(yts: httpx.AsyncClient) -> None:
    tokens = await login(yts, granted=",".join([READONLY, ANALYTICS]))
    assert set(tokens.scope.split()) == {READONLY, ANALYTICS}
    # a moderation call with that token is refused for scope
    r = await yts.post(V3 + "/comments/setModerationStatus",
                       params={"id": "Ugthread000001", "moderationStatus": "rejected"}, headers=tokens.headers)
    assert r.status_code == 403
    assert r.json()["error"]["errors"][0]["reason"] == "insufficientPermissions"


async def test_testing_mode_refresh_token_dies_after_seven_days(yts: httpx.AsyncClient) -> None:
    await yts.post("/_sandbox/youtube/app", json={"publishing_status": "testing"})
    tokens = await login(yts)
    assert tokens.raw["refresh_token_expires_in"] == 7 * 86400
    await yts.post("/_sandbox/clock", json={"advance_seconds": 6 * 86400})
    assert (await refresh(yts, tokens.refresh_token or "")).status_code == 200
    await yts.post("/_sandbox/clock", json={"advance_seconds": 86400 + 1})
    r = await refresh(yts, tokens.refresh_token or "")
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


async def test_production_refresh_token_outlives_a_week(yts: httpx.AsyncClient) -> None:
    tokens = await login(yts)
    assert "refresh_token_expires_in" not in tokens.raw
    await yts.post("/_sandbox/clock", json={"advance_seconds": 30 * 86400})
    assert (await refresh(yts, tokens.refresh_token or "")).status_code == 200
