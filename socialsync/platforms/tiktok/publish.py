"""Direct Post, exactly once: one step at a time, every platform id stored before it is used.

States (``post["state"]``) and what a step does from each:

- ``queued``: ``creator_info`` (required before every post): the privacy level must still be
  offered → ``ready``; otherwise the post fails with a reason the person can act on.
- ``ready``: one init (video FILE_UPLOAD with the chunk plan, or photo PULL_FROM_URL) →
  ``initialised`` with ``tiktok_publish_id`` (+ ``tiktok_upload_url``) in the fields, which the
  core stores **before** the next step uploads a byte. A post that already has a publish id is
  never initialised again: it goes to ``reconcile`` instead. A lost photo init answer cannot be
  reconciled (TikTok may be pulling): the post fails ``publish_outcome_unknown``, never doubles.
- ``initialised``: stream chunks (upload.py) from ``tiktok_next_chunk``, within a time budget →
  ``initialised`` again with the new offset, or ``processing`` when the last chunk is in.
- ``reconcile`` (after any ambiguous failure, or a dead worker): ``status/fetch`` decides: upload
  never completed and the URL expired, or FAILED with a retryable reason (``internal``,
  ``video_pull_failed``, ``photo_pull_failed``) → back to ``ready`` *without* the old publish id
  (kept in ``tiktok_previous_publish_ids``); upload incomplete and resumable → ``initialised`` at
  TikTok's ``uploaded_bytes``; in progress or complete → ``processing``. Never a second live post.
- ``processing``: ``status/fetch``, polled with growing waits (webhooks short-cut them):
  ``PUBLISH_COMPLETE`` with an id → published (ids are numbers: stored as strings); without an
  id yet (moderation) → wait, not a failure; FAILED → failed with an actionable reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from socialsync.platforms.base import AccountRef, ErrorKind, PlatformError, StepOutcome, TransportError
from socialsync.platforms.tiktok.client import TikTokClient
from socialsync.platforms.tiktok.settings import TikTokSettings
from socialsync.platforms.tiktok.publish_validation import validate_request
from socialsync.platforms.tiktok.upload import ChunkPlan, UploadRefused, source_size, upload_from

RETRYABLE_FAIL_REASONS = frozenset({"internal", "video_pull_failed", "photo_pull_failed"})
UPLOAD_URL_TTL_SECONDS = 3600
MAX_INITS = 3
FAIL_MESSAGES = {
    "file_format_check_failed": "TikTok could not read the video file: send an MP4/MOV/WebM (H.264).",
    "duration_check_failed": "The video is longer than this creator may post.",
    "frame_rate_check_failed": "TikTok refused the video's frame rate: use 23-60 fps.",
    "picture_size_check_failed": "The picture size is not accepted: at least 360 px and at most 4096 px a side.",
    "video_pull_failed": "TikTok could not download the video.",
    "photo_pull_failed": "TikTok could not download an image (JPEG/WEBP, ≤ 20 MB, on a verified domain).",
    "internal": "TikTok had an internal error.",
    "auth_removed": "The creator removed this app's access: reconnect the account.",
    "publish_cancelled": "The post was cancelled.",
    "spam_risk_too_many_posts": "The creator reached TikTok's daily post limit: try again tomorrow.",
    "spam_risk_user_banned_from_posting": "TikTok has banned this creator from posting.",
    "spam_risk_text": "TikTok flagged the caption as spam: change the text.",
    "spam_risk": "TikTok flagged the post as spam.",
}
INIT_REASONS = {
    "privacy_level_option_mismatch": ("privacy_level_not_offered", True),
    "unaudited_client_can_only_post_to_private_accounts": ("unaudited_app_self_only", True),
    "url_ownership_unverified": ("media_url_unverified", True),
    "spam_risk_too_many_posts": ("daily_post_limit", True),
    "spam_risk_user_banned_from_posting": ("creator_banned", False),
    "reached_active_user_cap": ("app_user_cap", False),
}


def _s(post: Mapping[str, Any], key: str, default: Any = None) -> Any:
    return post.get(key, default)


class TikTokPublisher:
    # The core state of each step (socialsync/publishing/plugin_run.py): only ``queued`` (before
    # creator_info passed) may be cancelled; from ``ready`` on, a step may make the post go live.
    step_states = {"queued": "scheduled", "ready": "publishing", "initialised": "publishing",
                   "reconcile": "publishing", "processing": "publishing"}
    nudge_field = "tiktok_publish_id"  # a post.publish.* webhook's publish_id polls that post now
    guarded_steps = frozenset({"ready", "initialised", "processing"})  # the steps advance reads `interrupted` in

    def __init__(self, client: TikTokClient, http: httpx.AsyncClient, settings: TikTokSettings) -> None:
        self._client = client
        self._http = http
        self._s = settings

    async def _api(self, account: AccountRef, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self._client.api("POST", path, token=account.credentials.access_token,
                                      account_key=account.external_id, json=body or {})

    def validate(self, account: AccountRef, request: Mapping[str, Any], now: datetime, *,
                 sandbox_base: str | None = None) -> dict[str, Any]:
        """Before queuing: the request's own rules, the app's audit state, and the creator_info the
        last sync read (``profile.creator_info``); the first step reads it again, live."""
        info = account.profile.get("creator_info") if isinstance(account.profile.get("creator_info"), Mapping) else None
        return validate_request(request, scopes=tuple(account.credentials.scopes or ()), creator_info=info,
                                app_audited=self._s.app_audited, sandbox_base=sandbox_base)

    async def creator_info(self, account: AccountRef) -> dict[str, Any]:
        return await self._api(account, "/v2/post/publish/creator_info/query/")

    async def advance(self, account: AccountRef, post: Mapping[str, Any], now: datetime) -> StepOutcome:
        state = _s(post, "state", "queued")
        if post.get("interrupted") and state in ("initialised", "processing"):
            state = "reconcile"  # a worker died inside the last step: TikTok's status decides
        if post.get("interrupted") and state == "ready" and _s(post, "request", {}).get("type") == "photo":
            return StepOutcome("failed", error_code="publish_outcome_unknown",
                               message="The photo post was interrupted while TikTok was asked to publish it; "
                               "it may still appear. Check the account before posting again.")
        try:
            if state == "queued":
                return await self._check_creator(account, post)
            if state == "ready":
                if _s(post, "tiktok_publish_id"):
                    return StepOutcome("continue", state="reconcile")
                return await self._init(account, post, now)
            if state == "initialised":
                return await self._upload(account, post)
            if state == "reconcile":
                return await self._reconcile(account, post, now)
            if state == "processing":
                return await self._poll(account, post, now)
        except TransportError as exc:
            # Outcome unknown: never repeat the call blindly; status/fetch decides next time.
            if state == "ready" and _s(post, "request", {}).get("type") == "photo":
                return StepOutcome("failed", error_code="publish_outcome_unknown",
                                   message="TikTok did not answer the photo post; it may still appear. "
                                   "Check the account before posting again.")
            next_state = "reconcile" if state in ("initialised", "processing", "reconcile") else state
            return StepOutcome("wait", state=next_state, wait_seconds=self._s.poll_first_seconds,
                               reason=f"no answer from TikTok ({exc})")
        except PlatformError as exc:
            if exc.kind is ErrorKind.TOKEN_INVALID:
                raise  # the core refreshes the token once and calls again (nothing was done)
            return self._platform_error(state, exc, photo=_s(post, "request", {}).get("type") == "photo")
        return StepOutcome("failed", error_code="invalid_state", message=f"unknown state {state!r}")

    def _platform_error(self, state: str, exc: PlatformError, *, photo: bool) -> StepOutcome:
        if photo and state == "ready" and exc.kind is ErrorKind.TRANSIENT:
            # A 5xx / internal_error to a pull init may come after TikTok took the post, and a
            # photo init without its publish_id cannot be reconciled: never risk a second post.
            return StepOutcome("failed", error_code="publish_outcome_unknown",
                               message=f"TikTok failed while taking the photo post ({exc.code or exc.status}); "
                               "it may still appear. Check the account before posting again.")
        if exc.kind in (ErrorKind.TRANSIENT, ErrorKind.THROTTLED):
            return StepOutcome("wait", state="reconcile" if state in ("initialised", "processing") else state,
                               wait_seconds=max(exc.retry_after or 0, self._s.poll_first_seconds),
                               reason=f"{exc.kind.value}: {exc.code}")
        code, can_fix = INIT_REASONS.get(str(exc.code), ("tiktok_refused", exc.kind in (ErrorKind.BAD_INPUT, ErrorKind.MEDIA_URL)))
        return StepOutcome("failed", error_code=code, caller_can_fix=can_fix,
                           message=f"TikTok refused the post ({exc.code}): {exc.message}")

    async def _check_creator(self, account: AccountRef, post: Mapping[str, Any]) -> StepOutcome:
        info = await self.creator_info(account)
        req = _s(post, "request", {})
        opts = req.get("options") or {}
        offered = list(info.get("privacy_level_options") or [])
        if opts.get("privacy_level") not in offered:
            return StepOutcome("failed", error_code="privacy_level_not_offered", caller_can_fix=True,
                               message=f"privacy_level {opts.get('privacy_level')} is no longer offered; "
                               f"choose one of: {', '.join(offered)}.")
        limit = info.get("max_video_post_duration_sec")
        if req.get("type") == "video" and opts.get("duration_sec") and isinstance(limit, int) and opts["duration_sec"] > limit:
            return StepOutcome("failed", error_code="video_too_long", caller_can_fix=True,
                               message=f"This creator may post videos of at most {limit} s.")
        return StepOutcome("continue", state="ready", fields={"tiktok_creator_nickname": info.get("creator_nickname")})

    def _post_info(self, req: Mapping[str, Any]) -> dict[str, Any]:
        opts = req.get("options") or {}
        info: dict[str, Any] = {
            "privacy_level": opts["privacy_level"], "disable_comment": bool(opts.get("disable_comment")),
            "brand_content_toggle": bool(opts.get("brand_content_toggle")),
            "brand_organic_toggle": bool(opts.get("brand_organic_toggle")),
        }
        if req.get("type") == "video":
            info.update(title=req.get("caption", ""), disable_duet=bool(opts.get("disable_duet")),
                        disable_stitch=bool(opts.get("disable_stitch")), is_aigc=bool(opts.get("is_aigc")))
            if opts.get("cover_timestamp_ms") is not None:
                info["video_cover_timestamp_ms"] = opts["cover_timestamp_ms"]
        else:
            info.update(title=(opts.get("title") or "")[:90], description=req.get("caption", ""),
                        auto_add_music=bool(opts.get("auto_add_music", True)))
        return info

    async def _init(self, account: AccountRef, post: Mapping[str, Any], now: datetime) -> StepOutcome:
        req = _s(post, "request", {})
        inits = int(_s(post, "tiktok_inits", 0))
        if inits >= MAX_INITS:
            return StepOutcome("failed", error_code="publish_failed", message="TikTok failed the post several times.")
        urls = [m["url"] for m in req.get("media") or []]
        if req.get("type") == "photo":
            data = await self._api(account, "/v2/post/publish/content/init/", {
                "media_type": "PHOTO", "post_mode": "DIRECT_POST", "post_info": self._post_info(req),
                "source_info": {"source": "PULL_FROM_URL", "photo_images": urls,
                                "photo_cover_index": int((req.get("options") or {}).get("photo_cover_index") or 0)},
            })
            fields = {"tiktok_publish_id": str(data["publish_id"]), "tiktok_inits": inits + 1,
                      "tiktok_initialised_at": now.timestamp()}
            return StepOutcome("continue", state="processing", fields=fields)
        size = await source_size(self._http, urls[0])
        plan = ChunkPlan.for_size(size, self._s.upload_chunk_bytes)
        data = await self._api(account, "/v2/post/publish/video/init/", {
            "post_info": self._post_info(req),
            "source_info": {"source": "FILE_UPLOAD", "video_size": plan.video_size,
                            "chunk_size": plan.chunk_size, "total_chunk_count": plan.total_chunks},
        })
        return StepOutcome("continue", state="initialised", fields={
            "tiktok_publish_id": str(data["publish_id"]), "tiktok_upload_url": data["upload_url"],
            "tiktok_plan": [plan.video_size, plan.chunk_size, plan.total_chunks], "tiktok_next_chunk": 0,
            "tiktok_initialised_at": now.timestamp(), "tiktok_inits": inits + 1,
        })

    async def _upload(self, account: AccountRef, post: Mapping[str, Any]) -> StepOutcome:
        plan = ChunkPlan(*_s(post, "tiktok_plan"))
        url = _s(post, "request", {})["media"][0]["url"]
        try:
            nxt = await upload_from(self._http, url, _s(post, "tiktok_upload_url"), plan,
                                    start_chunk=int(_s(post, "tiktok_next_chunk", 0)),
                                    tries=self._s.upload_chunk_tries, budget_seconds=self._s.upload_step_seconds)
        except UploadRefused:
            return StepOutcome("continue", state="reconcile")
        if nxt < plan.total_chunks:
            return StepOutcome("continue", state="initialised", fields={"tiktok_next_chunk": nxt})
        return StepOutcome("wait", state="processing", fields={"tiktok_next_chunk": nxt},
                           wait_seconds=self._s.poll_first_seconds, reason="processing")

    async def _status(self, account: AccountRef, post: Mapping[str, Any]) -> dict[str, Any]:
        return await self._api(account, "/v2/post/publish/status/fetch/", {"publish_id": _s(post, "tiktok_publish_id")})

    def _retry_fresh(self, post: Mapping[str, Any]) -> StepOutcome:
        previous = [*_s(post, "tiktok_previous_publish_ids", []), _s(post, "tiktok_publish_id")]
        return StepOutcome("continue", state="ready", fields={
            "tiktok_publish_id": None, "tiktok_upload_url": None, "tiktok_next_chunk": 0,
            "tiktok_previous_publish_ids": previous,
        })

    async def _reconcile(self, account: AccountRef, post: Mapping[str, Any], now: datetime) -> StepOutcome:
        if not _s(post, "tiktok_publish_id"):
            return StepOutcome("continue", state="ready")
        data = await self._status(account, post)
        status = data.get("status")
        if status == "FAILED":
            if data.get("fail_reason") in RETRYABLE_FAIL_REASONS:
                return self._retry_fresh(post)
            return self._failed(data)
        if status == "PROCESSING_UPLOAD" and _s(post, "tiktok_plan"):
            plan = ChunkPlan(*_s(post, "tiktok_plan"))
            uploaded = int(data.get("uploaded_bytes") or 0)
            if uploaded < plan.video_size:
                age = now.timestamp() - float(_s(post, "tiktok_initialised_at", now.timestamp()))
                if age > UPLOAD_URL_TTL_SECONDS - 60:
                    return self._retry_fresh(post)  # the upload never completed and cannot now
                return StepOutcome("continue", state="initialised",
                                   fields={"tiktok_next_chunk": uploaded // plan.chunk_size})
        return StepOutcome("continue", state="processing")

    def _failed(self, data: Mapping[str, Any]) -> StepOutcome:
        reason = str(data.get("fail_reason") or "unknown")
        return StepOutcome("failed", error_code=f"tiktok_{reason}", caller_can_fix=reason in (
            "file_format_check_failed", "duration_check_failed", "frame_rate_check_failed",
            "picture_size_check_failed", "spam_risk_text", "photo_pull_failed"),
            message=FAIL_MESSAGES.get(reason, f"TikTok failed the post ({reason})."))

    async def _poll(self, account: AccountRef, post: Mapping[str, Any], now: datetime) -> StepOutcome:
        data = await self._status(account, post)
        status = data.get("status")
        ids = [str(i) for i in data.get("publicaly_available_post_id") or []]  # numbers → strings
        if status == "FAILED":
            if data.get("fail_reason") in RETRYABLE_FAIL_REASONS:
                return self._retry_fresh(post)
            return self._failed(data)
        if status == "PUBLISH_COMPLETE" and ids:
            username = account.profile.get("username") or ""
            permalink = f"https://www.tiktok.com/@{username}/video/{ids[0]}" if username else None
            return StepOutcome("published", fields={"media_id": ids[0], "permalink": permalink, "tiktok_post_ids": ids})
        polls = int(_s(post, "tiktok_polls", 0)) + 1
        started = float(_s(post, "tiktok_initialised_at") or now.timestamp())
        if now.timestamp() - started > self._s.publish_deadline_seconds:
            return StepOutcome("failed", error_code="publish_timeout",
                               message="TikTok did not finish the post in time; it may still appear.")
        wait = min(self._s.poll_cap_seconds, self._s.poll_first_seconds * self._s.poll_growth ** (polls - 1))
        reason = "moderation" if status == "PUBLISH_COMPLETE" else "processing"
        return StepOutcome("wait", state="processing", wait_seconds=wait, reason=reason,
                           fields={"tiktok_polls": polls, "tiktok_status": status})
