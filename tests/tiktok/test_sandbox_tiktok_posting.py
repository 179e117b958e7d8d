"""The sandbox's Content Posting API: creator_info rules, chunked upload rules, the timeline."""

from __future__ import annotations

import hashlib

import httpx
from tiktok_driver import MB, TikTok, error_code

from sandbox.tiktok.files import content_bytes


def video_body(size: int, chunk: int, count: int, privacy: str = "SELF_ONLY") -> dict:
    return {
        "post_info": {"title": "hello #sandbox", "privacy_level": privacy},
        "source_info": {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk, "total_chunk_count": count},
    }


async def init(tt: TikTok, token: str, body: dict) -> httpx.Response:
    return await tt.api("POST", "/v2/post/publish/video/init/", token, json=body)


async def put(tt: TikTok, url: str, data: bytes, first: int, total: int, **headers: str) -> httpx.Response:
    h = {"Content-Type": "video/mp4", "Content-Range": f"bytes {first}-{first + len(data) - 1}/{total}", **headers}
    return await tt.http.put(url, content=data, headers=h)


async def status(tt: TikTok, token: str, publish_id: str) -> dict:
    r = await tt.api("POST", "/v2/post/publish/status/fetch/", token, json={"publish_id": publish_id})
    assert r.json()["error"]["code"] == "ok", r.text
    return r.json()["data"]


async def test_creator_info_offers_no_public_level_to_a_private_account(tt: TikTok) -> None:
    public = (await tt.tokens("tt_creator"))["access_token"]
    private = (await tt.tokens("tt_private"))["access_token"]
    a = (await tt.api("POST", "/v2/post/publish/creator_info/query/", public)).json()["data"]
    b = (await tt.api("POST", "/v2/post/publish/creator_info/query/", private)).json()["data"]
    assert "PUBLIC_TO_EVERYONE" in a["privacy_level_options"]
    assert "PUBLIC_TO_EVERYONE" not in b["privacy_level_options"]
    assert b["max_video_post_duration_sec"] == 180 and a["creator_nickname"] == "TT Creator"
    r = await init(tt, private, video_body(1000, 1000, 1, privacy="PUBLIC_TO_EVERYONE"))
    assert error_code(r) == "privacy_level_option_mismatch"
    assert await tt.publishes() == []


async def test_posting_needs_the_publish_scope(tt: TikTok) -> None:
    token = (await tt.tokens(scopes=["user.info.basic", "video.list"]))["access_token"]
    r = await tt.api("POST", "/v2/post/publish/creator_info/query/", token)
    assert r.status_code == 401 and error_code(r) == "scope_not_authorized"


async def test_chunk_rules_are_enforced_at_init(tt: TikTok) -> None:
    token = (await tt.tokens())["access_token"]
    for size, chunk, count in ((20 * MB, 4 * MB, 5), (20 * MB, 10 * MB, 3), (200 * MB, 65 * MB, 3),
                               (3 * MB, 1 * MB, 3), (300 * MB, 10 * MB, 30)):
        r = await init(tt, token, video_body(size, chunk, count))
        if (size, chunk, count) == (300 * MB, 10 * MB, 30):
            assert r.json()["error"]["code"] == "ok"
        else:
            assert error_code(r) == "invalid_params", (size, chunk, count)


async def test_chunked_upload_in_order_then_processing_then_moderation(tt: TikTok) -> None:
    await tt.control("limits", {"processing_min_seconds": 5, "processing_max_seconds": 5,
                                "moderation_min_seconds": 60, "moderation_max_seconds": 60})
    token = (await tt.tokens())["access_token"]
    size, chunk = 12 * MB + 123, 5 * MB  # two chunks: 5 MB and 7 MB + 123 (the last takes the rest)
    data = content_bytes("clip", size)
    r = (await init(tt, token, video_body(size, chunk, 2))).json()["data"]
    url, pid = r["upload_url"], r["publish_id"]
    assert "/open-upload.tiktokapis.com/video/?upload_id=" in url
    assert (await status(tt, token, pid))["status"] == "PROCESSING_UPLOAD"
    out_of_order = await put(tt, url, data[chunk:], chunk, size)
    assert out_of_order.status_code == 416
    wrong_size = await put(tt, url, data[:chunk - 1], 0, size)
    assert wrong_size.status_code == 416
    assert (await put(tt, url, data[:chunk], 0, size)).status_code == 206
    assert (await put(tt, url, data[:chunk], 0, size)).status_code == 206  # a re-send is harmless
    assert (await put(tt, url, data[chunk:], chunk, size)).status_code == 201
    s = await status(tt, token, pid)
    assert s["status"] == "PROCESSING_UPLOAD" and s["uploaded_bytes"] == size
    await tt.advance(6)
    s = await status(tt, token, pid)
    assert s["status"] == "PUBLISH_COMPLETE" and s["publicaly_available_post_id"] == []  # moderating
    await tt.advance(60)
    s = await status(tt, token, pid)
    assert len(s["publicaly_available_post_id"]) == 1 and isinstance(s["publicaly_available_post_id"][0], int)
    [log] = await tt.publishes("tt_creator")
    assert log["sha256"] == hashlib.sha256(data).hexdigest() and log["chunks_received"] == 2


async def test_a_forced_fail_reason_ends_in_failed(tt: TikTok) -> None:
    await tt.control("limits", {"processing_min_seconds": 0, "processing_max_seconds": 0})
    await tt.control("fail_next", {"account": "tt_creator", "fail_reason": "file_format_check_failed"})
    token = (await tt.tokens())["access_token"]
    r = (await init(tt, token, video_body(1000, 1000, 1))).json()["data"]
    assert (await put(tt, r["upload_url"], b"x" * 1000, 0, 1000)).status_code == 201
    s = await status(tt, token, r["publish_id"])
    assert s["status"] == "FAILED" and s["fail_reason"] == "file_format_check_failed"


async def test_daily_cap_and_unaudited_app_rules(tt: TikTok) -> None:
    capped = (await tt.tokens("tt_capped"))["access_token"]
    assert (await init(tt, capped, video_body(1000, 1000, 1))).json()["error"]["code"] == "ok"
    assert error_code(await init(tt, capped, video_body(1000, 1000, 1))) == "spam_risk_too_many_posts"
    await tt.control("limits", {"audited": False})
    public = (await tt.tokens("tt_creator"))["access_token"]
    r = await init(tt, public, video_body(1000, 1000, 1))  # SELF_ONLY, but a public account
    assert error_code(r) == "unaudited_client_can_only_post_to_private_accounts"
    private = (await tt.tokens("tt_private"))["access_token"]
    assert (await init(tt, private, video_body(1000, 1000, 1))).json()["error"]["code"] == "ok"
    r = await init(tt, private, video_body(1000, 1000, 1, privacy="MUTUAL_FOLLOW_FRIENDS"))
    assert error_code(r) == "unaudited_client_can_only_post_to_private_accounts"


async def test_init_is_limited_per_user_token_per_minute(tt: TikTok) -> None:
    token = (await tt.tokens())["access_token"]
    codes = [(await init(tt, token, video_body(1000, 1000, 1))).json()["error"]["code"] for _ in range(7)]
    assert codes == ["ok"] * 6 + ["rate_limit_exceeded"]
    other = (await tt.tokens("tt_private"))["access_token"]
    assert (await init(tt, other, video_body(1000, 1000, 1))).json()["error"]["code"] == "ok"


async def test_photo_post_pulls_only_from_verified_prefixes(tt: TikTok) -> None:
    await tt.control("limits", {"processing_min_seconds": 0, "processing_max_seconds": 0,
                                "moderation_min_seconds": 0, "moderation_max_seconds": 0})
    token = (await tt.tokens())["access_token"]
    body = {"media_type": "PHOTO", "post_mode": "DIRECT_POST",
            "post_info": {"title": "pics", "privacy_level": "PUBLIC_TO_EVERYONE"},
            "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": 0,
                            "photo_images": ["https://cdn.crm.example.com/1.jpg", "https://cdn.crm.example.com/2.webp"]}}
    r = await tt.api("POST", "/v2/post/publish/content/init/", token, json=body)
    pid = r.json()["data"]["publish_id"]
    s = await status(tt, token, pid)
    assert s["status"] == "PUBLISH_COMPLETE" and len(s["publicaly_available_post_id"]) == 1
    body["source_info"]["photo_images"] = ["https://elsewhere.example.org/1.jpg"]
    r = await tt.api("POST", "/v2/post/publish/content/init/", token, json=body)
    assert error_code(r) == "url_ownership_unverified"


async def test_file_host_streams_any_size_and_ranges(tt: TikTok) -> None:
    r = await tt.http.get("/files.sandbox.test/videos/a.mp4", params={"size": 3 * MB + 7})
    assert len(r.content) == 3 * MB + 7 and r.content == content_bytes("a.mp4", 3 * MB + 7)
    part = await tt.http.get("/files.sandbox.test/videos/a.mp4", params={"size": 3 * MB + 7},
                             headers={"Range": f"bytes={MB}-{2 * MB - 1}"})
    assert part.status_code == 206 and part.content == content_bytes("a.mp4", 3 * MB + 7, MB, 2 * MB)
