"""How a publish moves on the sandbox clock, and the webhooks its moves send.

upload (or pull) complete → processing (uniform delay + size-proportional part) → either
``FAILED`` (a forced ``fail_reason``) or ``PUBLISH_COMPLETE`` with no post id yet → moderation →
the post id appears (``publicaly_available_post_id``) and, for public posts, the video is listed.
Status is computed lazily on every read and by a ticker, which also sends the
``post.publish.*`` webhooks when a receiver is configured.
"""

from __future__ import annotations

import random

from sandbox.tiktok.world import Publish, TikTokWorld, Video

_rng = random.Random()


def start_processing(w: TikTokWorld, publish: Publish) -> None:
    """All bytes are there (or the pull began): schedule processing and moderation."""
    lim = w.limits
    now = w.clock.now()
    processing = _rng.uniform(lim.processing_min_seconds, lim.processing_max_seconds)
    processing += lim.processing_seconds_per_gb * publish.video_size / 1024**3
    moderation = _rng.uniform(lim.moderation_min_seconds, lim.moderation_max_seconds)
    publish.processing_done_at = now + processing
    publish.moderation_done_at = now + processing + moderation
    if publish.source == "PULL_FROM_URL":
        publish.status = "PROCESSING_DOWNLOAD"
    queue = w.forced_failures.get(publish.open_id)
    if queue:
        publish.forced_fail_reason = queue.popleft()


def advance(w: TikTokWorld, publish: Publish) -> list[str]:
    """Bring one publish up to the clock; the webhook events its moves produce are queued on it
    (``pending_events``) for the sender and returned."""
    events = _advance(w, publish)
    publish.pending_events.extend(events)
    return events


def _advance(w: TikTokWorld, publish: Publish) -> list[str]:
    events: list[str] = []
    now = w.clock.now()
    if publish.status in ("PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD"):
        if publish.processing_done_at is None or now < publish.processing_done_at:
            return events
        if publish.forced_fail_reason:
            publish.status, publish.fail_reason = "FAILED", publish.forced_fail_reason
            events.append("post.publish.failed")
            return events
        publish.status = "PUBLISH_COMPLETE"
        events.append("post.publish.complete")
    if publish.status == "PUBLISH_COMPLETE" and not publish.post_ids:
        if publish.moderation_done_at is not None and now >= publish.moderation_done_at:
            post_id = w.new_post_id()
            publish.post_ids = [post_id]
            _list_video(w, publish, str(post_id))
            if publish.privacy_level == "PUBLIC_TO_EVERYONE":
                events.append("post.publish.publicly_available")
    return events


def _list_video(w: TikTokWorld, publish: Publish, post_id: str) -> None:
    newest = max((v.create_time for v in w.videos_of(publish.open_id)), default=0)
    w.videos[post_id] = Video(
        id=post_id, open_id=publish.open_id, create_time=max(int(w.clock.now()), newest + 1),
        title=publish.title[:150], description=publish.title[:150], duration=15, view_count=0,
        like_count=0, comment_count=0, share_count=0,
        public=publish.privacy_level == "PUBLIC_TO_EVERYONE",
    )


def webhook_content(publish: Publish, event: str) -> dict[str, object]:
    content: dict[str, object] = {"publish_id": publish.publish_id, "publish_type": "DIRECT_PUBLISH"}
    if event == "post.publish.failed":
        content["reason"] = publish.fail_reason
    if event == "post.publish.publicly_available" and publish.post_ids:
        content["post_id"] = str(publish.post_ids[0])
    return content
