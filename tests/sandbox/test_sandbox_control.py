"""The control API: accounts, clock, revocation, stats, request log, reset."""

from __future__ import annotations

import json

import httpx
from sandbox_driver import META_SECRET, Driver, graph_error

CREATOR_IG_ID = "17841400000000101"
FB_MULTI = "10000000000000202"


async def test_accounts_lists_seeded_world_without_tokens(
    sb: Driver, http: httpx.AsyncClient
) -> None:
    await sb.ig_long_token()
    body = (await http.get("/_sandbox/accounts")).json()
    assert [
        (a["username"], a["ig_user_id"], a["token_response_style"]) for a in body["instagram"]
    ] == [
        ("sandbox_creator", "17841400000000101", "plain"),
        ("sandbox_newbie", "17841400000000102", "wrapped"),
    ]
    users = {u["username"]: u for u in body["facebook"]}
    assert set(users) == {"fb_single", "fb_multi", "fb_noig"}
    multi_pages = {p["name"]: p["instagram_business_account"] for p in users["fb_multi"]["pages"]}
    assert multi_pages["Brand A"]["username"] == "brand_a"
    assert multi_pages["No IG Page"] is None
    assert "IGAA" not in json.dumps(body) and "access_token" not in json.dumps(body)


async def test_created_instagram_account_can_log_in(sb: Driver, http: httpx.AsyncClient) -> None:
    created = await http.post(
        "/_sandbox/accounts",
        json={
            "login": "instagram",
            "username": "new_creator",
            "followers_count": 77,
            "token_response_style": "wrapped",
        },
    )
    assert created.status_code == 201
    ids = created.json()
    assert ids["login"] == "instagram" and ids["ig_user_id"].isdigit()
    token = await sb.ig_long_token("new_creator")
    me = (await sb.ig_me(token, "user_id,followers_count")).json()
    assert me["user_id"] == ids["ig_user_id"] and me["followers_count"] == 77
    assert me["id"] == ids["app_scoped_id"]


async def test_created_facebook_user_has_its_pages(sb: Driver, http: httpx.AsyncClient) -> None:
    created = await http.post(
        "/_sandbox/accounts",
        json={
            "login": "facebook",
            "username": "fb_new",
            "pages": [{"name": "Shop", "ig_username": "shop_ig"}, {"name": "Blog"}],
        },
    )
    assert created.status_code == 201
    body = created.json()
    shop, blog = body["pages"]
    assert shop["ig_username"] == "shop_ig" and shop["ig_user_id"].isdigit()
    assert blog["ig_user_id"] is None
    pages = await sb.fb_pages(await sb.fb_long_user_token("fb_new"))
    assert [(p["id"], p.get("instagram_business_account")) for p in pages] == [
        (shop["id"], {"id": shop["ig_user_id"]}),
        (blog["id"], None),
    ]


async def test_create_account_rejects_duplicates_and_bad_bodies(http: httpx.AsyncClient) -> None:
    taken = await http.post(
        "/_sandbox/accounts", json={"login": "instagram", "username": "brand_a"}
    )
    assert taken.status_code == 409
    clash = await http.post(
        "/_sandbox/accounts",
        json={
            "login": "facebook",
            "username": "fb_x",
            "pages": [{"name": "P", "ig_username": "sandbox_creator"}],
        },
    )
    assert clash.status_code == 409
    assert (
        await http.post("/_sandbox/accounts", json={"login": "tiktok", "username": "x"})
    ).status_code == 400
    assert (await http.post("/_sandbox/accounts", content=b"not json")).status_code == 400
    # Nothing half-created.
    usernames = json.dumps((await http.get("/_sandbox/accounts")).json())
    assert "fb_x" not in usernames


async def test_clock_advances_and_only_forward(http: httpx.AsyncClient) -> None:
    before = (await http.get("/_sandbox/clock")).json()
    after = (await http.post("/_sandbox/clock", json={"advance_seconds": 7200})).json()
    assert after["offset_seconds"] == before["offset_seconds"] + 7200
    assert after["now"] - before["now"] >= 7200
    assert after["iso"].endswith("+0000")
    assert (await http.post("/_sandbox/clock", json={"advance_seconds": -5})).status_code == 400


async def test_revoke_instagram_login_gives_190_460(sb: Driver, http: httpx.AsyncClient) -> None:
    token = await sb.ig_long_token()
    other = await sb.ig_long_token("sandbox_newbie")
    response = await http.post("/_sandbox/tokens/revoke", json={"username": "sandbox_creator"})
    assert response.status_code == 200 and response.json()["revoked"] >= 2  # short + long
    error = graph_error(await sb.ig_me(token))
    assert (error["code"], error["error_subcode"]) == (190, 460)
    assert graph_error(await sb.ig_refresh(token))["error_subcode"] == 460
    assert (await sb.ig_me(other)).status_code == 200
    # Logging in again works.
    assert (await sb.ig_me(await sb.ig_long_token())).status_code == 200


async def test_revoke_facebook_user_kills_user_and_page_tokens(
    sb: Driver, http: httpx.AsyncClient
) -> None:
    user_token = await sb.fb_long_user_token("fb_multi")
    page_token = (await sb.fb_pages(user_token))[0]["access_token"]
    await http.post("/_sandbox/tokens/revoke", json={"username": "fb_multi"})
    for token in (user_token, page_token):
        error = graph_error(await sb.fb_get("me", token))
        assert (error["code"], error["error_subcode"]) == (190, 460)


async def test_revoke_unknown_username_is_404(http: httpx.AsyncClient) -> None:
    assert (
        await http.post("/_sandbox/tokens/revoke", json={"username": "ghost"})
    ).status_code == 404
    assert (await http.post("/_sandbox/tokens/revoke", json={})).status_code == 400


async def test_minted_token_works_without_login(sb: Driver, http: httpx.AsyncClient) -> None:
    minted = await http.post(
        "/_sandbox/tokens", json={"username": "sandbox_creator", "kind": "ig_long"}
    )
    assert minted.status_code == 201
    assert (await sb.ig_me(minted.json()["access_token"])).status_code == 200
    fb = await http.post("/_sandbox/tokens", json={"username": "fb_single", "kind": "fb_user_long"})
    assert (await sb.fb_get("me", fb.json()["access_token"])).json()["id"] == "10000000000000201"


async def test_stats_count_by_route_template_and_account(
    sb: Driver, http: httpx.AsyncClient
) -> None:
    token = await sb.ig_long_token()
    await sb.ig_me(token)
    await http.get("/graph.instagram.com/v25.0/me", params={"access_token": token})
    await sb.fb_pages(await sb.fb_long_user_token("fb_multi"))
    await http.get("/_sandbox/accounts")  # control: not counted
    stats = (await http.get("/_sandbox/stats")).json()
    by_endpoint = stats["by_endpoint"]
    assert by_endpoint["GET /graph.instagram.com/{version}/me"] == 2
    assert by_endpoint["GET /www.instagram.com/oauth/authorize"] == 1
    assert by_endpoint["POST /api.instagram.com/oauth/access_token"] == 1
    assert by_endpoint["GET /graph.instagram.com/access_token"] == 1
    assert by_endpoint["GET /graph.facebook.com/{version}/oauth/access_token"] == 2
    assert by_endpoint["GET /graph.facebook.com/{version}/me/accounts"] == 1
    assert not any("_sandbox" in key for key in by_endpoint)
    assert stats["total"] == sum(by_endpoint.values()) == 9
    assert stats["by_account"][CREATOR_IG_ID] == 5
    assert stats["by_account"][FB_MULTI] == 4


async def test_request_log_redacts_secrets(sb: Driver, http: httpx.AsyncClient) -> None:
    short_fb = await sb.fb_user_token("fb_single")
    long_fb = (await sb.fb_long_exchange(short_fb)).json()["access_token"]
    await sb.fb_get("me", long_fb)
    log = (await http.get("/_sandbox/requests", params={"limit": 50})).json()["requests"]
    dumped = json.dumps(log)
    for secret in (short_fb, long_fb, META_SECRET):
        assert secret not in dumped
    exchange = next(e for e in log if e["query"].get("grant_type") == "fb_exchange_token")
    assert exchange["query"]["fb_exchange_token"] == "***"
    assert exchange["query"]["client_secret"] == "***"
    assert exchange["endpoint"] == "/graph.facebook.com/{version}/oauth/access_token"
    code_call = next(e for e in log if "code" in e["query"])
    assert code_call["query"]["code"] == "***"
    last = log[-1]
    assert (last["method"], last["path"], last["status"], last["account"]) == (
        "GET",
        "/graph.facebook.com/v24.0/me",
        200,
        "10000000000000201",
    )
    assert last["query"]["access_token"] == "***"
    assert len((await http.get("/_sandbox/requests", params={"limit": 2})).json()["requests"]) == 2


async def test_request_log_records_faulted_status(sb: Driver, http: httpx.AsyncClient) -> None:
    token = await sb.ig_long_token()
    fault_id = await sb.fault(path="/graph.instagram.com/*", status=503)
    await sb.ig_me(token)
    last = (await http.get("/_sandbox/requests", params={"limit": 1})).json()["requests"][0]
    assert (last["status"], last["fault"]) == (503, fault_id)


async def test_reset_returns_to_seeded_state(sb: Driver, http: httpx.AsyncClient) -> None:
    token = await sb.ig_long_token()
    await http.post("/_sandbox/accounts", json={"login": "instagram", "username": "temp_account"})
    await sb.advance(3600)
    await sb.fault(path="*", status=500, count=10)
    await http.post(
        "/_sandbox/usage", json={"account": "sandbox_creator", "buc_calls_per_window": 0}
    )
    assert (await http.post("/_sandbox/reset")).json() == {"ok": True}

    assert (await http.get("/_sandbox/clock")).json()["offset_seconds"] == 0
    assert (await http.get("/_sandbox/faults")).json()["faults"] == []
    assert (await http.get("/_sandbox/stats")).json() == {
        "total": 0,
        "by_endpoint": {},
        "by_account": {},
    }
    assert "temp_account" not in json.dumps((await http.get("/_sandbox/accounts")).json())
    assert graph_error(await sb.ig_me(token))["code"] == 190  # tokens are gone
    fresh = await sb.ig_long_token()
    assert (await sb.ig_me(fresh)).status_code == 200  # budget override gone too


async def test_unknown_graph_path_answers_like_graph(sb: Driver, http: httpx.AsyncClient) -> None:
    response = await http.get(
        "/graph.facebook.com/v24.0/me/nonexistent_edge", params={"access_token": "x"}
    )
    error = graph_error(response)
    assert (error["code"], error["error_subcode"]) == (100, 33)


async def test_index_page_names_the_seeded_logins_and_is_not_counted(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for username in ("sandbox_creator", "sandbox_newbie", "fb_single", "fb_multi", "fb_noig"):
        assert username in page.text
    assert (await http.get("/_sandbox/stats")).json()["total"] == 0
