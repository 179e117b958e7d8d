"""Data API reads, quota and comments in the sandbox: Google's shapes and costs."""

from __future__ import annotations

import httpx

from tests.youtube.sandbox_helpers import V3, login, refresh, units_used

CHANNEL = "UCsandboxcreator000000001"


async def test_channel_counts_are_strings_and_uploads_playlist_is_given(yts: httpx.AsyncClient) -> None:
    tokens = await login(yts)
    r = await yts.get(V3 + "/channels", params={"part": "snippet,statistics,contentDetails,status", "mine": "true"},
                      headers=tokens.headers)
    assert r.status_code == 200
    channel = r.json()["items"][0]
    assert channel["id"] == CHANNEL
    assert channel["statistics"]["subscriberCount"] == "123000"
    assert isinstance(channel["statistics"]["viewCount"], str)
    assert channel["contentDetails"]["relatedPlaylists"]["uploads"] == "UU" + CHANNEL[2:]
    assert channel["snippet"]["publishedAt"].endswith("Z")


async def test_hidden_subscriber_count_is_absent(yts: httpx.AsyncClient) -> None:
    tokens = await login(yts, "yt_hidden")
    r = await yts.get(V3 + "/channels", params={"part": "statistics", "mine": "true"}, headers=tokens.headers)
    stats = r.json()["items"][0]["statistics"]
    assert stats["hiddenSubscriberCount"] is True and "subscriberCount" not in stats


async def test_account_without_channel_gets_no_items(yts: httpx.AsyncClient) -> None:
    tokens = await login(yts, "yt_nochannel")
    r = await yts.get(V3 + "/channels", params={"part": "id", "mine": "true"}, headers=tokens.headers)
    assert r.status_code == 200 and "items" not in r.json()


async def test_uploads_playlist_pages_newest_first_and_costs_a_unit_a_page(yts: httpx.AsyncClient) -> None:
    tokens = await login(yts)
    ids: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        params = {"part": "snippet,contentDetails,status", "playlistId": "UU" + CHANNEL[2:], "maxResults": "50"}
        if token:
            params["pageToken"] = token
        r = await yts.get(V3 + "/playlistItems", params=params, headers=tokens.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        pages += 1
        ids += [i["snippet"]["resourceId"]["videoId"] for i in body["items"]]
        token = body.get("nextPageToken")
        if not token:
            break
    assert pages == 3 and len(ids) == 150 and ids[0] == "vidc0000001"
    assert await units_used(yts) == 3
    bad = await yts.get(V3 + "/playlistItems", params={"part": "id", "playlistId": "UU" + CHANNEL[2:], "pageToken": "zzz"},
                        headers=tokens.headers)
    assert bad.json()["error"]["errors"][0]["reason"] == "invalidPageToken"
    assert await units_used(yts) == 4  # invalid calls cost too


async def test_videos_list_takes_fifty_ids_and_leaves_hidden_counts_out(yts: httpx.AsyncClient) -> None:
    tokens = await login(yts)
    ids = [f"vidc{i:07d}" for i in range(1, 51)]
    r = await yts.get(V3 + "/videos", params={"part": "snippet,contentDetails,statistics,status,fileDetails",
                                               "id": ",".join(ids)}, headers=tokens.headers)
    items = {v["id"]: v for v in r.json()["items"]}
    assert len(items) == 50
    assert items["vidc0000005"]["contentDetails"]["duration"] == "PT20S"
    assert "likeCount" not in items["vidc0000011"]["statistics"]
    assert "commentCount" not in items["vidc0000012"]["statistics"]
    assert items["vidc0000013"]["status"]["privacyStatus"] == "private"
    assert items["vidc0000003"]["snippet"]["publishedAt"].endswith(".000Z")
    assert items["vidc0000005"]["fileDetails"]["videoStreams"][0]["heightPixels"] == 1920
    too_many = await yts.get(V3 + "/videos", params={"part": "id", "id": ",".join(ids + ["x"])}, headers=tokens.headers)
    assert too_many.status_code == 400


async def test_quota_exceeded_until_midnight_pacific(yts: httpx.AsyncClient) -> None:
    tokens = await login(yts)
    await yts.post("/_sandbox/youtube/quota", json={"daily_units": 2})
    for _ in range(2):
        assert (await yts.get(V3 + "/channels", params={"part": "id", "mine": "true"}, headers=tokens.headers)).status_code == 200
    r = await yts.get(V3 + "/channels", params={"part": "id", "mine": "true"}, headers=tokens.headers)
    assert r.status_code == 403
    err = r.json()["error"]["errors"][0]
    assert (err["reason"], err["domain"]) == ("quotaExceeded", "youtube.quota")
    quota = (await yts.get("/_sandbox/youtube/quota")).json()
    now = (await yts.get("/_sandbox/clock")).json()["now"]
    await yts.post("/_sandbox/clock", json={"advance_seconds": quota["resets_at"] - now - 5})
    headers = {"Authorization": "Bearer " + (await refresh(yts, tokens.refresh_token or "")).json()["access_token"]}
    assert (await yts.get(V3 + "/channels", params={"part": "id", "mine": "true"}, headers=headers)).status_code == 403
    await yts.post("/_sandbox/clock", json={"advance_seconds": 10})
    r = await yts.get(V3 + "/channels", params={"part": "id", "mine": "true"}, headers=headers)
    assert r.status_code == 200
    assert await units_used(yts) == 1


async def test_injected_rate_limit_uses_google_error_shape(yts: httpx.AsyncClient) -> None:
    tokens = await login(yts)
    await yts.post("/_sandbox/youtube/faults", json={"path": "/www.googleapis.com/youtube/v3/videos",
                                                      "status": 403, "reason": "rateLimitExceeded"})
    r = await yts.get(V3 + "/videos", params={"part": "id", "id": "vidc0000001"}, headers=tokens.headers)
    assert r.status_code == 403
    assert r.json()["error"]["errors"][0] == {"message": "Sandbox injected rateLimitExceeded",
                                              "domain": "usageLimits", "reason": "rateLimitExceeded"}
    assert (await yts.get(V3 + "/videos", params={"part": "id", "id": "vidc0000001"}, headers=tokens.headers)).status_code == 200


async def test_comment_threads_replies_and_moderation(yts: httpx.AsyncClient) -> None:
    tokens = await login(yts)
    r = await yts.get(V3 + "/commentThreads", params={
        "part": "snippet,replies", "allThreadsRelatedToChannelId": CHANNEL, "order": "time",
        "textFormat": "plainText", "maxResults": "100"}, headers=tokens.headers)
    threads = r.json()["items"]
    assert len(threads) == 30
    first = next(t for t in threads if t["id"] == "Ugthread000001")
    assert first["snippet"]["totalReplyCount"] == 7 and len(first["replies"]["comments"]) == 5
    assert first["snippet"]["topLevelComment"]["snippet"]["textDisplay"] == "Great video 1 <3 (comment 1)"
    replies = await yts.get(V3 + "/comments", params={"part": "snippet", "parentId": "Ugthread000001", "maxResults": "100"},
                            headers=tokens.headers)
    assert len(replies.json()["items"]) == 7
    before = await units_used(yts)
    reply = await yts.post(V3 + "/comments", params={"part": "snippet"}, headers=tokens.headers,
                           json={"snippet": {"parentId": "Ugthread000002", "textOriginal": "thanks!"}})
    assert reply.status_code == 200 and reply.json()["snippet"]["parentId"] == "Ugthread000002"
    hide = await yts.post(V3 + "/comments/setModerationStatus",
                          params={"id": "Ugthread000003", "moderationStatus": "heldForReview"}, headers=tokens.headers)
    assert hide.status_code == 204
    assert (await yts.get("/_sandbox/youtube/comments/Ugthread000003")).json()["moderation_status"] == "heldForReview"
    gone = await yts.delete(V3 + "/comments", params={"id": "Ugthread000004"}, headers=tokens.headers)
    assert gone.status_code == 204
    assert (await yts.get("/_sandbox/youtube/comments/Ugthread000004")).status_code == 404
    assert await units_used(yts) - before == 150
    after = await yts.get(V3 + "/commentThreads", params={
        "part": "snippet", "allThreadsRelatedToChannelId": CHANNEL, "maxResults": "100"}, headers=tokens.headers)
    assert {t["id"] for t in after.json()["items"]} == {t["id"] for t in threads} - {"Ugthread000003", "Ugthread000004"}
