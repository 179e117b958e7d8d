"""The sandbox's Display API: fields by scope, the ms cursor, query by ids, per-minute limits."""

from __future__ import annotations

from tiktok_driver import TikTok, error_code

VIDEO_FIELDS = "id,create_time,view_count,like_count,cover_image_url,share_url"


async def test_user_info_fields_need_their_scopes(tt: TikTok) -> None:
    token = (await tt.tokens(scopes=["user.info.basic"]))["access_token"]
    ok = await tt.api("GET", "/v2/user/info/", token, params={"fields": "open_id,display_name"})
    assert ok.json()["error"]["code"] == "ok"
    assert ok.json()["data"]["user"] == {"open_id": "afd97af1-b87b-48b9-ac98-410a9c0d5301", "display_name": "TT Creator"}
    refused = await tt.api("GET", "/v2/user/info/", token, params={"fields": "open_id,follower_count"})
    assert refused.status_code == 401 and error_code(refused) == "scope_not_authorized"


async def test_video_list_pages_by_millisecond_cursor_newest_first(tt: TikTok) -> None:
    token = (await tt.tokens())["access_token"]
    seen: list[dict] = []
    cursor = None
    while True:
        body = {"max_count": 20} | ({"cursor": cursor} if cursor is not None else {})
        r = await tt.api("POST", "/v2/video/list/", token, params={"fields": VIDEO_FIELDS}, json=body)
        data = r.json()["data"]
        seen += data["videos"]
        cursor = data["cursor"]
        if not data["has_more"]:
            break
    assert len(seen) == 60 and len({v["id"] for v in seen}) == 60
    times = [v["create_time"] for v in seen]
    assert times == sorted(times, reverse=True)
    assert cursor == times[-1] * 1000  # milliseconds
    assert all(isinstance(v["id"], str) and "x-expires=" in v["cover_image_url"] for v in seen)


async def test_video_list_refuses_more_than_twenty(tt: TikTok) -> None:
    token = (await tt.tokens())["access_token"]
    r = await tt.api("POST", "/v2/video/list/", token, params={"fields": "id"}, json={"max_count": 21})
    assert r.status_code == 400 and error_code(r) == "invalid_params"


async def test_video_query_returns_counts_for_at_most_twenty_own_ids(tt: TikTok) -> None:
    token = (await tt.tokens())["access_token"]
    listed = await tt.api("POST", "/v2/video/list/", token, params={"fields": "id"}, json={"max_count": 20})
    ids = [v["id"] for v in listed.json()["data"]["videos"]]
    await tt.control("videos/bump", {"account": "tt_creator", "views": 1000})
    r = await tt.api("POST", "/v2/video/query/", token, params={"fields": "id,view_count"},
                     json={"filters": {"video_ids": ids[:19] + ["999"]}})
    assert [v["id"] for v in r.json()["data"]["videos"]] == ids[:19]  # not its own: left out
    too_many = await tt.api("POST", "/v2/video/query/", token, params={"fields": "id"},
                            json={"filters": {"video_ids": ids + ["1"]}})
    assert error_code(too_many) == "invalid_params"


async def test_each_endpoint_has_its_own_sliding_minute(tt: TikTok) -> None:
    await tt.control("limits", {"per_endpoint_per_minute": 3})
    token = (await tt.tokens())["access_token"]
    statuses = [
        (await tt.api("GET", "/v2/user/info/", token, params={"fields": "open_id"})).status_code for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    limited = await tt.api("GET", "/v2/user/info/", token, params={"fields": "open_id"})
    assert error_code(limited) == "rate_limit_exceeded"
    other = await tt.api("POST", "/v2/video/list/", token, params={"fields": "id"}, json={})
    assert other.status_code == 200  # another endpoint's window
    await tt.advance(61)
    assert (await tt.api("GET", "/v2/user/info/", token, params={"fields": "open_id"})).status_code == 200


async def test_calls_are_counted_in_the_shared_stats(tt: TikTok) -> None:
    token = (await tt.tokens())["access_token"]
    await tt.api("GET", "/v2/user/info/", token, params={"fields": "open_id"})
    stats = (await tt.http.get("/_sandbox/stats")).json()
    assert stats["by_endpoint"]["GET /open.tiktokapis.com/v2/user/info/"] == 1
    assert stats["by_account"]["afd97af1-b87b-48b9-ac98-410a9c0d5301"] == 1
