"""The plugin's Direct Post steps against the sandbox: exactly once through chunk failures,
lost answers and dead workers (the post dict plays the core's stored state)."""

from __future__ import annotations

import hashlib

import pytest
from plugin_helpers import connect, drive, now, ref
from tiktok_driver import MB, TikTok

from sandbox.tiktok.files import content_bytes
from socialsync.platforms.base import PublishRejected
from socialsync.platforms.tiktok.publish_validation import validate_request


@pytest.fixture(autouse=True)
async def quick_processing(tt: TikTok) -> None:
    await tt.control("limits", {"processing_min_seconds": 1, "processing_max_seconds": 1,
                                "processing_seconds_per_gb": 0, "moderation_min_seconds": 5,
                                "moderation_max_seconds": 5})


def video_request(tt: TikTok, size: int, name: str = "clip.mp4", privacy: str = "PUBLIC_TO_EVERYONE") -> dict:
    url = f"{tt.http.base_url}/files.sandbox.test/videos/{name}?size={size}"
    return {"type": "video", "caption": "hello #tiktok", "media": [{"url": url, "kind": "video"}],
            "options": {"privacy_level": privacy, "duration_sec": 30}}


def validated(platform, acc, raw, creator_info=None):  # noqa: ANN001, ANN201
    return validate_request(raw, scopes=acc.scopes, creator_info=creator_info, app_audited=True,
                            sandbox_base=str(platform.context.settings.sandbox_base_url))


async def test_a_video_is_uploaded_in_chunks_and_published_once(platform, tt: TikTok) -> None:
    acc = await connect(platform, tt)
    size = 23 * MB + 5  # 10 MiB chunks: 10, 13 MiB + 5
    out, post = await drive(platform, ref(acc), validated(platform, acc, video_request(tt, size)), tt)
    assert out.action == "published", post
    assert out.fields["media_id"].isdigit() and isinstance(out.fields["media_id"], str)
    assert out.fields["permalink"] == f"https://www.tiktok.com/@tt_creator/video/{out.fields['media_id']}"
    [log] = await tt.publishes("tt_creator")
    assert log["total_chunk_count"] == 2 and log["chunks_received"] == 2
    assert log["sha256"] == hashlib.sha256(content_bytes("clip.mp4", size)).hexdigest()


async def test_a_failed_chunk_is_retried_and_the_video_published_once(platform, tt: TikTok) -> None:
    acc = await connect(platform, tt)
    r = await tt.http.post("/_sandbox/faults", json={
        "method": "PUT", "path": "/open-upload.tiktokapis.com/video/*", "status": 503, "count": 1,
    })
    assert r.status_code == 201, r.text
    await tt.http.post("/_sandbox/faults", json={  # and one answer lost after TikTok kept the chunk
        "method": "PUT", "path": "/open-upload.tiktokapis.com/video/*", "status": 502, "count": 1, "phase": "after",
    })
    out, post = await drive(platform, ref(acc), validated(platform, acc, video_request(tt, 31 * MB)), tt)
    assert out.action == "published"
    logs = await tt.publishes("tt_creator")
    assert len(logs) == 1 and logs[0]["uploaded_bytes"] == 31 * MB and post["tiktok_inits"] == 1
    assert "reconcile" not in post["_states"]  # retried inside the upload step, not recovered later


async def test_worker_dead_between_init_and_upload_resumes_without_a_second_init(platform, tt: TikTok) -> None:
    acc = await connect(platform, tt)
    request = validated(platform, acc, video_request(tt, 12 * MB))
    _, post = await drive(platform, ref(acc), request, tt, stop_at="initialised")
    assert post["tiktok_publish_id"] and post["tiktok_next_chunk"] == 0
    # The worker died here. The next one starts from the stored state, as the core's sweep does.
    post["state"] = "reconcile"
    out, post = await drive(platform, ref(acc), request, tt, post=post)
    assert out.action == "published" and post["tiktok_inits"] == 1
    assert len(await tt.publishes("tt_creator")) == 1


async def test_worker_dead_between_upload_and_status_is_published_once(platform, tt: TikTok) -> None:
    acc = await connect(platform, tt)
    request = validated(platform, acc, video_request(tt, 6 * MB))
    _, post = await drive(platform, ref(acc), request, tt, stop_at="processing")
    post["state"] = "reconcile"  # the answer of the last chunk was never recorded as such
    out, post = await drive(platform, ref(acc), request, tt, post=post)
    assert out.action == "published" and len(await tt.publishes("tt_creator")) == 1


async def test_moderation_without_an_id_is_not_a_failure(platform, tt: TikTok) -> None:
    await tt.control("limits", {"moderation_min_seconds": 600, "moderation_max_seconds": 600})
    acc = await connect(platform, tt)
    out, post = await drive(platform, ref(acc), validated(platform, acc, video_request(tt, 1 * MB)), tt)
    assert out.action == "published" and post["tiktok_polls"] >= 3


async def test_failed_with_a_final_reason_gives_an_actionable_message(platform, tt: TikTok) -> None:
    await tt.control("fail_next", {"account": "tt_creator", "fail_reason": "frame_rate_check_failed"})
    acc = await connect(platform, tt)
    out, _ = await drive(platform, ref(acc), validated(platform, acc, video_request(tt, 1 * MB)), tt)
    assert out.action == "failed" and out.error_code == "tiktok_frame_rate_check_failed"
    assert out.caller_can_fix and "fps" in out.message


async def test_failed_internal_is_reinitialised_once_and_published(platform, tt: TikTok) -> None:
    await tt.control("fail_next", {"account": "tt_creator", "fail_reason": "internal"})
    acc = await connect(platform, tt)
    out, post = await drive(platform, ref(acc), validated(platform, acc, video_request(tt, 1 * MB)), tt)
    assert out.action == "published" and post["tiktok_inits"] == 2
    logs = await tt.publishes("tt_creator")
    assert [p["status"] for p in logs] == ["FAILED", "PUBLISH_COMPLETE"]


async def test_photo_post_by_pull_from_url(platform, tt: TikTok) -> None:
    acc = await connect(platform, tt)
    raw = {"type": "photo", "caption": "two pics", "options": {"privacy_level": "SELF_ONLY", "title": "pics"},
           "media": [{"url": "https://cdn.crm.example.com/a.jpg"}, {"url": "https://cdn.crm.example.com/b.webp"}]}
    out, _ = await drive(platform, ref(acc), validated(platform, acc, raw), tt)
    assert out.action == "published"
    [log] = await tt.publishes("tt_creator")
    assert log["kind"] == "photo" and log["photo_urls"][1].endswith("b.webp")


async def test_validation_refuses_before_anything_is_sent(platform, tt: TikTok) -> None:
    acc = await connect(platform, tt, account="tt_private")
    info = await platform.publish.creator_info(ref(acc))
    with pytest.raises(PublishRejected) as not_offered:
        validated(platform, acc, video_request(tt, MB, privacy="PUBLIC_TO_EVERYONE"), info)
    assert not_offered.value.status == 400 and not_offered.value.code == "privacy_level_not_offered"
    too_long = video_request(tt, MB, privacy="SELF_ONLY")
    too_long["options"]["duration_sec"] = 181
    with pytest.raises(PublishRejected) as long_video:
        validated(platform, acc, too_long, info)
    assert long_video.value.code == "video_too_long"
    png = {"type": "photo", "media": [{"url": "https://cdn.crm.example.com/a.png"}], "options": {"privacy_level": "SELF_ONLY"}}
    with pytest.raises(PublishRejected) as bad_format:
        validated(platform, acc, png, info)
    assert bad_format.value.code == "unsupported_image_format"
    with pytest.raises(PublishRejected) as unaudited:
        validate_request(video_request(tt, MB, privacy="MUTUAL_FOLLOW_FRIENDS"), scopes=acc.scopes,
                         creator_info=info, app_audited=False)
    assert unaudited.value.code == "unaudited_app_self_only"
    assert await tt.publishes() == []
