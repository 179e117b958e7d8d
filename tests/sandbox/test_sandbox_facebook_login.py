"""Instagram API with Facebook Login, end to end over HTTP (PLATFORM_FACTS.md §1b)."""

from __future__ import annotations

import httpx
from sandbox_driver import META_APP, REDIRECT, Driver, graph_error, redirect_params

SINGLE_PAGE = "20000000000000301"
BRAND_A_PAGE, BRAND_B_PAGE, NO_IG_PAGE = (
    "20000000000000302",
    "20000000000000303",
    "20000000000000304",
)
SINGLE_IG, BRAND_A_IG, BRAND_B_IG = "17841400000000111", "17841400000000112", "17841400000000113"
FB_MULTI = "10000000000000202"
DAY = 86400


async def test_dialog_page_lists_facebook_users(http: httpx.AsyncClient) -> None:
    response = await http.get(
        "/www.facebook.com/v24.0/dialog/oauth",
        params={
            "client_id": META_APP,
            "redirect_uri": REDIRECT,
            "state": "s",
            "scope": "instagram_basic",
        },
    )
    assert response.status_code == 200
    for username in ("fb_single", "fb_multi", "fb_noig"):
        assert username in response.text
    assert "sandbox_creator" not in response.text


async def test_dialog_rejects_instagram_app_id(http: httpx.AsyncClient) -> None:
    response = await http.get(
        "/www.facebook.com/v24.0/dialog/oauth",
        params={
            "client_id": "sandbox-ig-app",
            "redirect_uri": REDIRECT,
            "sandbox_account": "fb_multi",
            "sandbox_decision": "allow",
        },
    )
    assert response.status_code == 400


async def test_dialog_allow_and_deny_redirects(sb: Driver) -> None:
    allow = await sb.fb_dialog(state="xyz")
    assert allow.status_code == 302 and allow.headers["location"].endswith("#_")
    assert redirect_params(allow)["state"] == "xyz" and redirect_params(allow)["code"]
    deny = await sb.fb_dialog(decision="deny", state="xyz")
    assert deny.status_code == 302
    assert redirect_params(deny) == {
        "error": "access_denied",
        "error_code": "200",
        "error_description": "Permissions error",
        "error_reason": "user_denied",
        "state": "xyz",
    }


async def test_code_gives_short_user_token_then_long_lived(sb: Driver) -> None:
    response = await sb.fb_exchange(await sb.fb_code())
    assert response.status_code == 200
    short = response.json()
    assert short["access_token"].startswith("EAA") and short["token_type"] == "bearer"
    assert 3600 <= short["expires_in"] <= 7200
    long_response = await sb.fb_long_exchange(short["access_token"])
    assert long_response.status_code == 200
    assert long_response.json()["expires_in"] == 5184000
    assert long_response.json()["access_token"] != short["access_token"]


async def test_code_errors_use_graph_shape_with_subcodes(sb: Driver) -> None:
    used = await sb.fb_code()
    assert (await sb.fb_exchange(used)).status_code == 200
    used_error = graph_error(await sb.fb_exchange(used))
    assert (used_error["code"], used_error["error_subcode"]) == (100, 36009)

    mismatched = await sb.fb_code()
    error = graph_error(await sb.fb_exchange(mismatched, redirect_uri=REDIRECT + "x"))
    assert (error["code"], error["error_subcode"]) == (100, 36008)
    assert graph_error(await sb.fb_exchange(mismatched, secret="wrong"))["code"] == 100
    assert graph_error(await sb.fb_exchange("garbage"))["code"] == 100

    stale = await sb.fb_code()
    await sb.advance(3601)
    expired = graph_error(await sb.fb_exchange(stale))
    assert (expired["code"], expired["error_subcode"]) == (100, 36007)


async def test_fb_exchange_token_rejects_bad_tokens(sb: Driver) -> None:
    assert graph_error(await sb.fb_long_exchange("EAAnonsense"))["code"] == 190
    short = await sb.fb_user_token()
    await sb.advance(2 * 3600 + 1)
    error = graph_error(await sb.fb_long_exchange(short))
    assert (error["code"], error["error_subcode"]) == (190, 463)


async def test_me_accounts_lists_pages_with_ig_accounts_and_page_tokens(sb: Driver) -> None:
    user_token = await sb.fb_long_user_token("fb_multi")
    response = await sb.fb_get(
        "me/accounts", user_token, fields="id,name,access_token,tasks,instagram_business_account"
    )
    assert response.status_code == 200
    body = response.json()
    pages = {p["id"]: p for p in body["data"]}
    assert set(pages) == {BRAND_A_PAGE, BRAND_B_PAGE, NO_IG_PAGE}
    assert pages[BRAND_A_PAGE]["name"] == "Brand A"
    assert pages[BRAND_A_PAGE]["instagram_business_account"] == {"id": BRAND_A_IG}
    assert pages[BRAND_B_PAGE]["instagram_business_account"] == {"id": BRAND_B_IG}
    assert "instagram_business_account" not in pages[NO_IG_PAGE]
    assert "MANAGE" in pages[BRAND_A_PAGE]["tasks"]
    assert pages[BRAND_A_PAGE]["access_token"].startswith("EAA")
    assert set(body["paging"]["cursors"]) == {"before", "after"}


async def test_me_accounts_pages_through_cursors(sb: Driver, http: httpx.AsyncClient) -> None:
    token = await sb.fb_long_user_token("fb_multi")
    first = (await sb.fb_get("me/accounts", token, fields="id", limit="2")).json()
    assert [p["id"] for p in first["data"]] == [BRAND_A_PAGE, BRAND_B_PAGE]
    second = (await http.get(first["paging"]["next"])).json()
    assert [p["id"] for p in second["data"]] == [NO_IG_PAGE]
    assert "next" not in second["paging"]


async def test_fb_noig_and_fb_single_pages(sb: Driver) -> None:
    lonely = await sb.fb_pages(await sb.fb_long_user_token("fb_noig"))
    assert [(p["name"], "instagram_business_account" in p) for p in lonely] == [
        ("Lonely Page", False)
    ]
    single = await sb.fb_pages(await sb.fb_long_user_token("fb_single"))
    assert [(p["id"], p["instagram_business_account"]["id"]) for p in single] == [
        (SINGLE_PAGE, SINGLE_IG)
    ]


async def test_me_with_user_token_and_with_page_token(sb: Driver) -> None:
    user_token = await sb.fb_long_user_token("fb_multi")
    me = await sb.fb_get("me", user_token, fields="id,name")
    assert me.json() == {"name": "Marco Multi", "id": FB_MULTI}
    page_token = {p["id"]: p["access_token"] for p in await sb.fb_pages(user_token)}[BRAND_B_PAGE]
    as_page = await sb.fb_get("me", page_token, fields="id,name")
    assert as_page.json() == {"id": BRAND_B_PAGE, "name": "Brand B"}


async def test_ig_business_account_with_page_token_and_admin_user_token(sb: Driver) -> None:
    user_token = await sb.fb_long_user_token("fb_multi")
    page_token = {p["id"]: p["access_token"] for p in await sb.fb_pages(user_token)}[BRAND_A_PAGE]
    fields = (
        "id,username,name,biography,website,profile_picture_url,"
        "followers_count,follows_count,media_count"
    )
    via_page = await sb.fb_get(BRAND_A_IG, page_token, fields=fields)
    assert via_page.status_code == 200
    body = via_page.json()
    assert set(body) == set(fields.split(","))
    assert body["id"] == BRAND_A_IG and body["username"] == "brand_a"
    assert isinstance(body["followers_count"], int) and body["followers_count"] > 0
    via_user = await sb.fb_get(BRAND_B_IG, user_token, fields="username")
    assert via_user.json() == {"username": "brand_b", "id": BRAND_B_IG}
    # A page token only reaches its own page's account.
    error = graph_error(await sb.fb_get(BRAND_B_IG, page_token, fields="username"))
    assert (error["code"], error["error_subcode"]) == (100, 33)


async def test_other_users_ig_account_is_not_reachable(sb: Driver) -> None:
    token = await sb.fb_long_user_token("fb_single")
    error = graph_error(await sb.fb_get(BRAND_A_IG, token, fields="username"))
    assert (error["code"], error["error_subcode"]) == (100, 33)


async def test_permissions_report_declined_scopes(sb: Driver) -> None:
    token = await sb.fb_user_token(
        scope="instagram_basic,instagram_manage_insights,pages_show_list",
        granted="instagram_basic,pages_show_list",
    )
    response = await sb.fb_get("me/permissions", token)
    statuses = {p["permission"]: p["status"] for p in response.json()["data"]}
    assert statuses["instagram_basic"] == "granted"
    assert statuses["pages_show_list"] == "granted"
    assert statuses["instagram_manage_insights"] == "declined"


async def test_missing_instagram_basic_gives_permission_error(sb: Driver) -> None:
    token = await sb.fb_user_token("fb_single", granted="pages_show_list")
    assert graph_error(await sb.fb_get(SINGLE_IG, token, fields="username"))["code"] == 10


async def test_page_token_from_long_lived_user_token_never_expires(sb: Driver) -> None:
    user_token = await sb.fb_long_user_token("fb_single")
    page_token = (await sb.fb_pages(user_token))[0]["access_token"]
    await sb.advance(61 * DAY)
    assert graph_error(await sb.fb_get("me", user_token))["error_subcode"] == 463
    assert (await sb.fb_get("me", page_token)).status_code == 200


async def test_page_token_from_short_user_token_dies_with_it(sb: Driver) -> None:
    user_token = await sb.fb_user_token("fb_single")
    page_token = (await sb.fb_pages(user_token))[0]["access_token"]
    await sb.advance(2 * 3600 + 1)
    error = graph_error(await sb.fb_get("me", page_token))
    assert (error["code"], error["error_subcode"]) == (190, 463)


async def test_me_accounts_with_page_token_is_an_error(sb: Driver) -> None:
    page_token = (await sb.fb_pages(await sb.fb_long_user_token("fb_single")))[0]["access_token"]
    assert graph_error(await sb.fb_get("me/accounts", page_token))["code"] == 100


async def test_me_accounts_is_empty_without_pages_show_list(sb: Driver) -> None:
    token = await sb.fb_user_token("fb_multi", granted="instagram_basic")
    response = await sb.fb_get("me/accounts", token, fields="id,name")
    assert response.status_code == 200
    assert response.json() == {"data": []}
