"""Instagram API with Instagram Login, end to end over HTTP (PLATFORM_FACTS.md §1a)."""

from __future__ import annotations

import httpx
from sandbox_driver import IG_APP, IG_SECRET, REDIRECT, Driver, graph_error, redirect_params

CREATOR_IG_ID = "17841400000000101"
CREATOR_APP_SCOPED_ID = "26000000000000101"
DAY = 86400


async def test_authorize_page_lists_instagram_login_accounts(http: httpx.AsyncClient) -> None:
    response = await http.get(
        "/www.instagram.com/oauth/authorize",
        params={
            "client_id": IG_APP,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": "instagram_business_basic",
            "state": "s",
        },
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "sandbox_creator" in response.text and "sandbox_newbie" in response.text
    assert "fb_single" not in response.text and "single_brand" not in response.text


async def test_authorize_rejects_unknown_app_and_missing_redirect(http: httpx.AsyncClient) -> None:
    base = {
        "response_type": "code",
        "scope": "instagram_business_basic",
        "sandbox_account": "sandbox_creator",
        "sandbox_decision": "allow",
    }
    wrong_app = await http.get(
        "/www.instagram.com/oauth/authorize",
        params={**base, "client_id": "sandbox-meta-app", "redirect_uri": REDIRECT},
    )
    no_redirect = await http.get(
        "/www.instagram.com/oauth/authorize", params={**base, "client_id": IG_APP}
    )
    for response in (wrong_app, no_redirect):
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("text/html")


async def test_allow_redirects_with_code_state_and_meta_fragment(sb: Driver) -> None:
    response = await sb.ig_authorize(state="abc 123")
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    assert location.endswith("#_")
    params = redirect_params(response)
    assert params["state"] == "abc 123"
    assert len(params["code"]) > 20


async def test_oauth_authorize_alias_serves_the_instagram_dialog(http: httpx.AsyncClient) -> None:
    response = await http.get(
        "/oauth/authorize",
        params={
            "client_id": IG_APP,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": "instagram_business_basic",
            "sandbox_account": "sandbox_newbie",
            "sandbox_decision": "allow",
        },
    )
    assert response.status_code == 302
    assert "code" in redirect_params(response)


async def test_deny_redirects_with_meta_error_params(sb: Driver) -> None:
    response = await sb.ig_authorize(decision="deny", state="s-9")
    assert response.status_code == 302
    assert redirect_params(response) == {
        "error": "access_denied",
        "error_reason": "user_denied",
        "error_description": "The user denied your request.",
        "state": "s-9",
    }


async def test_code_exchange_plain_style_user_id_is_a_json_number(sb: Driver) -> None:
    code = await sb.ig_code(granted="instagram_business_basic,instagram_business_manage_insights")
    response = await sb.ig_exchange(code)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "user_id", "permissions"}
    assert body["access_token"].startswith("IGAA")
    assert isinstance(body["user_id"], int) and str(body["user_id"]) == CREATOR_APP_SCOPED_ID
    assert body["permissions"] == "instagram_business_basic,instagram_business_manage_insights"


async def test_code_exchange_wrapped_style_for_wrapped_accounts(sb: Driver) -> None:
    response = await sb.ig_exchange(await sb.ig_code("sandbox_newbie"))
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["data"] and len(body["data"]) == 1
    grant = body["data"][0]
    assert grant["access_token"].startswith("IGAA")
    assert isinstance(grant["user_id"], int)
    assert grant["permissions"].split(",")[0] == "instagram_business_basic"


async def test_code_is_single_use(sb: Driver) -> None:
    code = await sb.ig_code()
    assert (await sb.ig_exchange(code)).status_code == 200
    again = await sb.ig_exchange(code)
    assert again.status_code == 400
    body = again.json()
    assert body["error_type"] == "OAuthException" and body["code"] == 400
    assert "used" in body["error_message"]


async def test_code_expires_after_one_hour_on_the_sandbox_clock(sb: Driver) -> None:
    fresh = await sb.ig_code()
    stale = await sb.ig_code()
    await sb.advance(3599)
    assert (await sb.ig_exchange(fresh)).status_code == 200
    await sb.advance(2)
    expired = await sb.ig_exchange(stale)
    assert expired.status_code == 400
    assert "expired" in expired.json()["error_message"]


async def test_code_exchange_errors_have_distinct_messages(sb: Driver) -> None:
    code = await sb.ig_code()
    unknown = (await sb.ig_exchange("not-a-code")).json()
    bad_secret = (await sb.ig_exchange(code, secret="nope")).json()
    bad_redirect = (await sb.ig_exchange(code, redirect_uri=REDIRECT + "/other")).json()
    assert unknown == {
        "error_type": "OAuthException",
        "code": 400,
        "error_message": "Invalid authorization code",
    }
    messages = {
        unknown["error_message"],
        bad_secret["error_message"],
        bad_redirect["error_message"],
    }
    assert len(messages) == 3
    assert "redirect_uri" in bad_redirect["error_message"]
    # Failed attempts did not burn the code.
    assert (await sb.ig_exchange(code)).status_code == 200


async def test_short_token_exchanges_for_sixty_day_token(sb: Driver) -> None:
    short = await sb.ig_short_token()
    response = await sb.ig_long_exchange(short)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 5184000
    assert body["access_token"].startswith("IGAA") and body["access_token"] != short
    await sb.advance(3601)
    expired = graph_error(await sb.ig_me(short))
    assert (expired["code"], expired["error_subcode"]) == (190, 463)
    assert (await sb.ig_me(body["access_token"])).status_code == 200


async def test_long_lived_exchange_rejects_bad_secret_and_long_tokens(sb: Driver) -> None:
    short = await sb.ig_short_token()
    assert graph_error(await sb.ig_long_exchange(short, secret="wrong"))["code"] == 100
    long_lived = (await sb.ig_long_exchange(short)).json()["access_token"]
    assert graph_error(await sb.ig_long_exchange(long_lived))["code"] == 100
    assert graph_error(await sb.ig_long_exchange("IGAAgarbage"))["code"] == 190


async def test_refresh_refused_before_24_hours(sb: Driver) -> None:
    token = await sb.ig_long_token()
    await sb.advance(23 * 3600)
    error = graph_error(await sb.ig_refresh(token))
    assert error["code"] == 100
    assert "24 hours" in error["message"]
    assert (await sb.ig_me(token)).status_code == 200  # still valid


async def test_refresh_after_25_hours_replaces_the_token(sb: Driver) -> None:
    old = await sb.ig_long_token()
    await sb.advance(25 * 3600)
    response = await sb.ig_refresh(old)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 5184000
    new = body["access_token"]
    assert new != old
    assert (await sb.ig_me(new)).status_code == 200
    old_error = graph_error(await sb.ig_me(old))
    assert old_error["code"] == 190 and "error_subcode" not in old_error
    # The new token is young again: it cannot be refreshed at once.
    assert graph_error(await sb.ig_refresh(new))["code"] == 100


async def test_refresh_of_expired_token_is_190_463(sb: Driver) -> None:
    token = await sb.ig_long_token()
    await sb.advance(61 * DAY)
    error = graph_error(await sb.ig_refresh(token))
    assert (error["code"], error["error_subcode"]) == (190, 463)


async def test_refresh_of_short_lived_token_is_refused(sb: Driver) -> None:
    short = await sb.ig_short_token()
    assert graph_error(await sb.ig_refresh(short))["code"] == 100


async def test_me_returns_only_requested_fields_plus_id(sb: Driver) -> None:
    token = await sb.ig_long_token()
    response = await sb.ig_me(
        token, "user_id,username,name,account_type,followers_count,follows_count,media_count"
    )
    assert response.status_code == 200
    assert response.json() == {
        "user_id": CREATOR_IG_ID,
        "username": "sandbox_creator",
        "name": "Sandbox Creator",
        "account_type": "BUSINESS",
        "followers_count": 12500,
        "follows_count": 310,
        "media_count": 0,
        "id": CREATOR_APP_SCOPED_ID,
    }
    only_username = (await sb.ig_me(token, "username")).json()
    assert only_username == {"username": "sandbox_creator", "id": CREATOR_APP_SCOPED_ID}


async def test_me_accepts_bearer_header_and_unversioned_path(
    sb: Driver, http: httpx.AsyncClient
) -> None:
    token = await sb.ig_long_token("sandbox_newbie")
    response = await http.get(
        "/graph.instagram.com/me",
        params={"fields": "account_type,followers_count"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert response.json()["account_type"] == "MEDIA_CREATOR"
    assert response.json()["followers_count"] == 40
    picture = (await sb.ig_me(token, "profile_picture_url")).json()["profile_picture_url"]
    image = await http.get(picture)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"


async def test_me_rejects_unknown_fields_and_missing_or_bad_tokens(
    sb: Driver, http: httpx.AsyncClient
) -> None:
    token = await sb.ig_long_token()
    unknown = graph_error(await sb.ig_me(token, "username,impressions"))
    assert unknown["code"] == 100 and "impressions" in unknown["message"]
    assert graph_error(await sb.ig_me("IGAAnot-a-token"))["code"] == 190
    assert graph_error(await http.get("/graph.instagram.com/v24.0/me"))["code"] == 2500


async def test_ig_user_node_by_id_with_its_own_token_only(
    sb: Driver, http: httpx.AsyncClient
) -> None:
    token = await sb.ig_long_token()
    own = await http.get(
        f"/graph.instagram.com/v24.0/{CREATOR_IG_ID}",
        params={"fields": "username,followers_count", "access_token": token},
    )
    assert own.status_code == 200
    assert own.json() == {
        "username": "sandbox_creator",
        "followers_count": 12500,
        "id": CREATOR_IG_ID,
    }
    other = await http.get(
        "/graph.instagram.com/v24.0/17841400000000102",
        params={"fields": "username", "access_token": token},
    )
    error = graph_error(other)
    assert (error["code"], error["error_subcode"]) == (100, 33)


async def test_instagram_token_is_invalid_on_graph_facebook(sb: Driver) -> None:
    token = await sb.ig_long_token()
    assert graph_error(await sb.fb_get("me", token))["code"] == 190


async def test_me_needs_instagram_business_basic(sb: Driver) -> None:
    short = await sb.ig_short_token(granted="instagram_business_content_publish")
    assert graph_error(await sb.ig_me(short))["code"] == 10


async def test_exchange_requires_the_instagram_app(sb: Driver, http: httpx.AsyncClient) -> None:
    code = await sb.ig_code()
    response = await http.post(
        "/api.instagram.com/oauth/access_token",
        data={
            "client_id": "sandbox-meta-app",
            "client_secret": IG_SECRET,
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT,
            "code": code,
        },
    )
    assert response.status_code == 400
    assert response.json()["error_message"] == "Invalid platform app"
