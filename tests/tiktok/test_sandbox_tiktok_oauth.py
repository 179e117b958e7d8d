"""The sandbox's Login Kit v2: the dialog automation, code exchange, rotation, revoke."""

from __future__ import annotations

from tiktok_driver import CREATOR_OPEN_ID, REDIRECT, TikTok, error_code, query_of


async def test_allow_redirects_with_an_encoded_code_the_scopes_and_the_state(tt: TikTok) -> None:
    r = await tt.authorize(granted="user.info.basic,video.list")
    assert r.status_code == 302
    location = r.headers["location"]
    assert location.startswith(REDIRECT + "?")
    assert "%2A0%216410" in location  # "*" and "!" arrive percent-encoded
    q = query_of(location)
    assert q["code"].endswith("*0!6410") and q["state"] == "st-1"
    assert q["scopes"] == "user.info.basic,video.list"


async def test_deny_redirects_with_access_denied(tt: TikTok) -> None:
    r = await tt.authorize(decision="deny")
    q = query_of(r.headers["location"])
    assert q["error"] == "access_denied" and q["state"] == "st-1" and "code" not in q


async def test_wrong_client_key_shows_an_error_page(tt: TikTok) -> None:
    r = await tt.authorize(client_key="someone-else")
    assert r.status_code == 400 and "client_key" in r.text


async def test_exchange_gives_a_flat_pair_with_real_lifetimes_and_the_granted_scopes(tt: TikTok) -> None:
    code = await tt.code(granted="user.info.basic,video.list")
    r = await tt.exchange(code)
    body = r.json()
    assert r.status_code == 200 and "data" not in body
    assert body["open_id"] == CREATOR_OPEN_ID  # dashes and all
    assert 7100 < body["expires_in"] <= 7200
    assert body["refresh_expires_in"] > 170 * 86400
    assert body["scope"] == "user.info.basic,video.list" and body["token_type"] == "Bearer"
    again = await tt.exchange(code)
    assert again.json()["error"] == "invalid_grant"  # a code is single-use


async def test_a_still_encoded_code_is_refused(tt: TikTok) -> None:
    code = await tt.code()
    r = await tt.exchange(code.replace("*", "%2A").replace("!", "%21"))
    assert r.json()["error"] == "invalid_grant"


async def test_refresh_rotates_and_the_old_refresh_token_is_refused(tt: TikTok) -> None:
    first = (await tt.exchange(await tt.code())).json()
    second = (await tt.refresh(first["refresh_token"])).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    replay = await tt.refresh(first["refresh_token"])
    assert replay.json()["error"] == "invalid_grant"
    third = await tt.refresh(second["refresh_token"])
    assert third.status_code == 200 and third.json()["refresh_token"]


async def test_access_token_dies_after_its_lifetime(tt: TikTok) -> None:
    pair = (await tt.exchange(await tt.code())).json()
    ok = await tt.api("GET", "/v2/user/info/", pair["access_token"], params={"fields": "open_id"})
    assert ok.status_code == 200
    await tt.advance(7201)
    dead = await tt.api("GET", "/v2/user/info/", pair["access_token"], params={"fields": "open_id"})
    assert dead.status_code == 401 and error_code(dead) == "access_token_invalid"
    assert (await tt.refresh(pair["refresh_token"])).status_code == 200  # the refresh token lives on


async def test_revoke_kills_the_grant(tt: TikTok) -> None:
    pair = (await tt.exchange(await tt.code())).json()
    r = await tt.http.post("/open.tiktokapis.com/v2/oauth/revoke/", data={
        "client_key": "sandbox-tt-client", "client_secret": "sandbox-tt-secret", "token": pair["access_token"],
    })
    assert r.status_code == 200 and r.json() == {}
    dead = await tt.api("GET", "/v2/user/info/", pair["access_token"], params={"fields": "open_id"})
    assert error_code(dead) == "access_token_invalid"
    assert (await tt.refresh(pair["refresh_token"])).json()["error"] == "invalid_grant"


async def test_wrong_secret_is_invalid_client(tt: TikTok) -> None:
    r = await tt.token(client_secret="nope", grant_type="refresh_token", refresh_token="x")
    assert r.json()["error"] == "invalid_client"
