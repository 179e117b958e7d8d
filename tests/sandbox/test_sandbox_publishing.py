"""The sandbox's publishing follows PLATFORM_FACTS.md §3: containers, status codes, quota,
a container publishes once, and container ids never shadow other nodes."""

from __future__ import annotations

import httpx

G = "/graph.instagram.com/v24.0"
IG = "17841400000000101"
IMAGE = "https://cdn.example.com/a.jpg"
VIDEO = "https://cdn.example.com/a.mp4"


async def _token(http: httpx.AsyncClient, username: str = "sandbox_creator") -> str:
    r = await http.post("/_sandbox/tokens", json={"username": username, "kind": "ig_long"})
    return r.json()["access_token"]


async def _create(http: httpx.AsyncClient, token: str, **form: str) -> httpx.Response:
    return await http.post(f"{G}/{IG}/media", data={"access_token": token, **form})


async def _status(http: httpx.AsyncClient, token: str, container_id: str) -> dict:
    r = await http.get(f"{G}/{container_id}", params={"access_token": token, "fields": "status_code,status"})
    assert r.status_code == 200, r.text
    return r.json()


async def test_video_container_goes_in_progress_then_finished_then_expires(http: httpx.AsyncClient) -> None:
    await http.post("/_sandbox/publishing", json={"video_processing": {"kind": "fixed", "low": 60},
                                                  "container_ttl_seconds": 3600})
    token = await _token(http)
    cid = (await _create(http, token, media_type="REELS", video_url=VIDEO)).json()["id"]

    assert (await _status(http, token, cid))["status_code"] == "IN_PROGRESS"
    await http.post("/_sandbox/clock", json={"advance_seconds": 61})
    assert (await _status(http, token, cid))["status_code"] == "FINISHED"
    await http.post("/_sandbox/clock", json={"advance_seconds": 3600})
    assert (await _status(http, token, cid))["status_code"] == "EXPIRED"
    r = await http.post(f"{G}/{IG}/media_publish", data={"access_token": token, "creation_id": cid})
    assert r.json()["error"]["code"] == -2 and r.json()["error"]["error_subcode"] == 2207020


async def test_a_container_publishes_once_and_the_media_is_logged(http: httpx.AsyncClient) -> None:
    token = await _token(http)
    cid = (await _create(http, token, image_url=IMAGE, caption="hi")).json()["id"]

    first = await http.post(f"{G}/{IG}/media_publish", data={"access_token": token, "creation_id": cid})
    second = await http.post(f"{G}/{IG}/media_publish", data={"access_token": token, "creation_id": cid})

    assert first.status_code == 200
    assert second.status_code == 400 and second.json()["error"]["code"] == 100
    assert (await _status(http, token, cid))["status_code"] == "PUBLISHED"
    log = (await http.get("/_sandbox/published")).json()["published"]
    assert [e["media_id"] for e in log] == [first.json()["id"]]


async def test_error_markers_give_the_documented_subcodes(http: httpx.AsyncClient) -> None:
    token = await _token(http)
    for marker, subcode in (("sandbox-unfetchable", 2207052), ("sandbox-bad-aspect", 2207009)):
        cid = (await _create(http, token, image_url=f"{IMAGE}?{marker}")).json()["id"]
        status = await _status(http, token, cid)
        assert status["status_code"] == "ERROR" and str(subcode) in status["status"]


async def test_quota_is_reported_and_enforced_with_9_2207042(http: httpx.AsyncClient) -> None:
    await http.post("/_sandbox/publishing", json={"account": "sandbox_creator", "quota_total": 1})
    token = await _token(http)
    for expected in (200, 400):
        cid = (await _create(http, token, image_url=IMAGE)).json()["id"]
        r = await http.post(f"{G}/{IG}/media_publish", data={"access_token": token, "creation_id": cid})
        assert r.status_code == expected
    assert r.json()["error"]["code"] == 9 and r.json()["error"]["error_subcode"] == 2207042
    limit = await http.get(f"{G}/{IG}/content_publishing_limit",
                           params={"access_token": token, "fields": "quota_usage,config"})
    assert limit.json() == {"data": [{"quota_usage": 1, "config": {"quota_total": 1, "quota_duration": 86400}}]}


async def test_carousel_needs_two_to_ten_finished_items_and_no_feed_video(http: httpx.AsyncClient) -> None:
    token = await _token(http)
    one = (await _create(http, token, image_url=IMAGE, is_carousel_item="true")).json()["id"]
    r = await _create(http, token, media_type="CAROUSEL", children=one)
    assert r.json()["error"]["error_subcode"] == 2207028
    r = await _create(http, token, media_type="VIDEO", video_url=VIDEO)
    assert r.status_code == 400  # single feed VIDEO is no longer accepted: REELS
    two = (await _create(http, token, image_url=IMAGE, is_carousel_item="true")).json()["id"]
    parent = (await _create(http, token, media_type="CAROUSEL", children=f"{one},{two}", caption="c")).json()["id"]
    r = await http.post(f"{G}/{IG}/media_publish", data={"access_token": token, "creation_id": parent})
    assert r.status_code == 200


async def test_other_accounts_cannot_read_or_publish_a_container(http: httpx.AsyncClient) -> None:
    token = await _token(http)
    other = await _token(http, "sandbox_newbie")
    cid = (await _create(http, token, image_url=IMAGE)).json()["id"]
    r = await http.get(f"{G}/{cid}", params={"access_token": other, "fields": "status_code"})
    assert r.json()["error"]["code"] == 100
    # the account node itself still resolves through the graph routes
    r = await http.get(f"{G}/{IG}", params={"access_token": token, "fields": "username"})
    assert r.json()["username"] == "sandbox_creator"


async def test_a_published_carousel_with_a_video_item_reads_back_with_its_thumbnail(http: httpx.AsyncClient) -> None:
    await http.post("/_sandbox/publishing", json={"video_processing": {"kind": "fixed", "low": 0}})
    token = await _token(http)
    image = (await _create(http, token, image_url=IMAGE, is_carousel_item="true")).json()["id"]
    video = (await _create(http, token, media_type="VIDEO", video_url=VIDEO, is_carousel_item="true")).json()["id"]
    parent = (await _create(http, token, media_type="CAROUSEL", children=f"{image},{video}", caption="mixed")).json()["id"]
    published = await http.post(f"{G}/{IG}/media_publish", data={"access_token": token, "creation_id": parent})
    assert published.status_code == 200, published.text
    read = await http.get(f"{G}/{published.json()['id']}", params={
        "access_token": token, "fields": "media_type,children{id,media_type,media_url,thumbnail_url}"})
    children = read.json()["children"]["data"]
    assert [c["media_type"] for c in children] == ["IMAGE", "VIDEO"]
    assert "thumbnail_url" not in children[0] and children[1]["thumbnail_url"].endswith("_thumb.jpg")
    assert children[1]["media_url"] == VIDEO
