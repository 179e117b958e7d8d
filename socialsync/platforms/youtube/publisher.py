"""Publishing a video to YouTube: validation, then the resumable upload one step at a time.

Steps (the fields each returns are stored by the core before the next step runs):
1. ``session``: HEAD the video URL for its size, start a resumable session (the 100-a-day
   ``videos.insert`` bucket) -> ``continue`` with ``upload_session_uri``: stored before any byte.
2. ``upload``: stream from the acknowledged byte (probe first); an expired session (404/410)
   comes back as ``continue`` with the *new* session URI, stored before its first byte; a
   dropped connection or 5xx -> ``wait`` and resume later; 200/201 -> the video id.
3. ``thumbnail`` (best effort: an unverified channel gets 403), then ``published``. An
   unaudited project's upload is locked private: ``state_reason`` says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from socialsync.outbound import DestinationRefused, check_destination, check_url
from socialsync.platforms.base import AccountRef, PublishRejected, RateLimited, StepOutcome
from socialsync.platforms.youtube.errors import QuotaExceeded, YouTubeError
from socialsync.platforms.youtube.quota import next_reset
from socialsync.platforms.youtube.upload import ResumableUpload, UploadFailed, http_source

if TYPE_CHECKING:
    from socialsync.platforms.youtube.parts import Parts

CATEGORIES = {"1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28", "29"}
MAX_VIDEO_BYTES = 256 * 1024**3


class VideoPost(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(pattern="^video$")
    video_url: str = Field(pattern=r"^https?://", max_length=2048)
    title: str = Field(min_length=1, max_length=100)
    description: str = ""
    tags: list[str] = Field(default_factory=list, max_length=100)
    category_id: str = "22"
    privacy_status: str = Field(default="private", pattern="^(public|unlisted|private)$")
    publish_at: datetime | None = None
    made_for_kids: bool = False
    notify_subscribers: bool = True
    thumbnail_url: str | None = Field(default=None, pattern=r"^https?://", max_length=2048)

    @field_validator("title", "description")
    @classmethod
    def _no_angle_brackets(cls, value: str) -> str:
        if "<" in value or ">" in value:
            raise ValueError("may not contain < or >")
        return value

    @field_validator("description")
    @classmethod
    def _description_bytes(cls, value: str) -> str:
        if len(value.encode()) > 5000:
            raise ValueError("at most 5,000 bytes")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        if len(",".join(value)) > 500:
            raise ValueError("tags may total at most 500 characters")
        return value

    @field_validator("category_id")
    @classmethod
    def _category(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"unknown category id {value!r}")
        return value

    @model_validator(mode="after")
    def _schedule(self) -> VideoPost:
        if self.publish_at is not None:
            if self.publish_at.tzinfo is None:
                raise ValueError("publish_at needs a time zone")
            if self.privacy_status != "private":
                raise ValueError("publish_at (YouTube's own scheduling) requires privacy_status 'private'")
        return self

    def resource(self) -> dict[str, Any]:
        status: dict[str, Any] = {"privacyStatus": self.privacy_status, "selfDeclaredMadeForKids": self.made_for_kids}
        if self.publish_at is not None:
            status["publishAt"] = self.publish_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"snippet": {"title": self.title, "description": self.description, "tags": self.tags,
                            "categoryId": self.category_id}, "status": status}


def locked_reason(got: str, asked: str) -> str:
    return (f"YouTube locked the upload to '{got}' (asked '{asked}'): the Google Cloud project has not "
            "passed YouTube's API audit, so every API upload stays private")


class _NewSession(Exception):
    def __init__(self, uri: str) -> None:
        self.uri = uri


class _StoredSession:
    """The post's stored session; a replacement is handed back to the core before any byte."""

    def __init__(self, uri: str | None) -> None:
        self.uri = uri

    async def load(self) -> str | None:
        return self.uri

    async def save(self, uri: str) -> bool:
        raise _NewSession(uri)

    async def drop(self, uri: str) -> None:
        self.uri = None


class VideoPublisher:
    # The core's post state for each of our steps ("uploading" is not cancellable: bytes may be
    # on Google's side already). ``publish_at`` is YouTube's own scheduled publish: we upload
    # now, private, and YouTube makes it public then.
    step_states = {"queued": "scheduled", "uploading": "publishing", "uploaded": "publishing"}
    handles_publish_at = True

    def __init__(self, parts: Parts) -> None:
        self.p = parts

    def validate(self, account: AccountRef, request: Mapping[str, Any], now: datetime, *,
                 sandbox_base: str | None = None) -> Mapping[str, Any]:
        try:
            post = VideoPost.model_validate(dict(request))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise PublishRejected(422, f"invalid_{where}" if where != "body" else "invalid_request",
                                  f"{where}: {first['msg']}") from None
        if not self.p.plugin.sandbox_mode:
            for name in ("video_url", "thumbnail_url"):
                value = getattr(post, name)
                if value and not value.startswith("https://"):
                    raise PublishRejected(422, f"invalid_{name}", f"{name} must be an https URL")
                if value:
                    try:
                        check_url(value, self.p.settings)
                    except DestinationRefused as exc:
                        raise PublishRejected(422, f"invalid_{name}", str(exc)) from None
        if post.publish_at is not None and post.publish_at <= now:
            raise PublishRejected(422, "invalid_publish_at", "publish_at must be in the future")
        if not (account.extra.get("capabilities") or {}).get("publish", True):
            raise PublishRejected(422, "missing_scopes", "the youtube.upload scope was not granted; reconnect")
        return post.model_dump(mode="json")

    def _upload(self, account: AccountRef, total: int, session: _StoredSession) -> ResumableUpload:
        return ResumableUpload(self.p.http, self.p.endpoints.api + "/upload/youtube/v3/videos",
                               lambda: account.credentials.access_token, session, total=total,
                               chunk_bytes=self.p.block.upload_chunk_bytes, max_attempts=2)

    async def advance(self, account: AccountRef, post: Mapping[str, Any], now: datetime) -> StepOutcome:
        request = VideoPost.model_validate(post.get("request") or {k: post[k] for k in VideoPost.model_fields if k in post})
        uri = post.get("upload_session_uri")
        if post.get("media_id") or post.get("video_id"):  # uploaded: never a second upload
            return await self._finish(account, request, post)
        if not uri:
            return await self._start(account, request, post, now)
        total = int(post["video_bytes"])
        upload = self._upload(account, total, _StoredSession(uri))
        try:
            result = await upload.run(http_source(self.p.http, request.video_url), request.resource(),
                                      notify_subscribers=request.notify_subscribers)
        except _NewSession as new:  # the old one expired: nothing was published; store, then send
            return StepOutcome("continue", state="uploading", fields={
                "upload_session_uri": new.uri, "upload_sessions": int(post.get("upload_sessions", 1)) + 1})
        except UploadFailed as exc:
            if exc.retryable:
                return StepOutcome("wait", state="uploading", wait_seconds=self.p.block.upload_retry_seconds,
                                   reason=exc.code)
            return StepOutcome("failed", error_code=exc.code, message=exc.message, caller_can_fix=True)
        except YouTubeError as exc:
            return self._error(exc, now)
        # video_id too: a driver may keep media_id for the final outcome only
        fields = {"media_id": result.video_id, "video_id": result.video_id, "privacy_status": result.privacy_status,
                  "upload_resumes": len(result.resumed_from), "bytes_sent": result.bytes_sent}
        if result.privacy_status != request.privacy_status:
            fields["state_reason"] = locked_reason(result.privacy_status, request.privacy_status)
        return StepOutcome("continue", state="uploaded", fields=fields)

    async def _start(self, account: AccountRef, request: VideoPost, post: Mapping[str, Any], now: datetime) -> StepOutcome:
        try:
            await check_destination(request.video_url, self.p.settings)  # SSRF: we fetch it
        except DestinationRefused as exc:
            return StepOutcome("failed", error_code="media_url", message=str(exc), caller_can_fix=True)
        try:
            head = await self.p.http.head(request.video_url, follow_redirects=False)
        except httpx.TransportError:
            return StepOutcome("wait", state="queued", wait_seconds=30, reason="video_url_unreachable")
        size = int(head.headers.get("Content-Length") or 0)
        if head.status_code != 200 or not 0 < size <= MAX_VIDEO_BYTES:
            return StepOutcome("failed", error_code="media_url", caller_can_fix=True,
                               message=f"the video URL answered {head.status_code} with size {size}")
        upload = self._upload(account, size, _StoredSession(None))
        try:
            # videos.insert: its own 100-a-day bucket on the core governor, charged before the session
            await self.p.charge("videos.insert", account.id)
        except RateLimited as exc:
            return StepOutcome("wait", state="queued", wait_seconds=exc.retry_after, reason="upload_quota")
        try:
            await upload.start_session(request.resource(), request.notify_subscribers)
        except _NewSession as new:
            return StepOutcome("continue", state="uploading", fields={
                "upload_session_uri": new.uri, "video_bytes": size, "upload_sessions": 1})
        except YouTubeError as exc:
            return self._error(exc, now)
        raise AssertionError("unreachable: a new session is always handed back first")

    def _error(self, exc: YouTubeError, now: datetime) -> StepOutcome:
        if isinstance(exc, QuotaExceeded) or exc.reason == "uploadLimitExceeded":
            return StepOutcome("wait", wait_seconds=next_reset(now.timestamp()) - now.timestamp(),
                               reason=exc.reason)
        if exc.status >= 500 or exc.status in (0, 429):
            return StepOutcome("wait", wait_seconds=60, reason=exc.reason)
        return StepOutcome("failed", error_code=exc.reason, message=exc.message, caller_can_fix=exc.status == 400)

    async def _finish(self, account: AccountRef, request: VideoPost, post: Mapping[str, Any]) -> StepOutcome:
        video_id = str(post.get("media_id") or post["video_id"])
        fields: dict[str, Any] = {"media_id": video_id, "permalink": f"https://www.youtube.com/watch?v={video_id}"}
        got = post.get("privacy_status")
        if got and got != request.privacy_status:  # the final outcome carries the post's reason
            fields["state_reason"] = locked_reason(str(got), request.privacy_status)
        if request.thumbnail_url and not post.get("thumbnail_done"):
            fields["thumbnail_done"] = True
            fields["thumbnail"] = await self._thumbnail(account, video_id, request.thumbnail_url)
        return StepOutcome("published", fields=fields, reason=fields.get("state_reason"))

    async def _thumbnail(self, account: AccountRef, video_id: str, url: str) -> str:
        """Best effort: failures are recorded, never fail the post."""
        try:
            image = await self.p.http.get(url)
            if image.status_code != 200 or len(image.content) > 2 * 1024 * 1024:
                return f"skipped: image answered {image.status_code}, {len(image.content)} bytes"
            yt = self.p.client(account.credentials.access_token, account_id=account.id)
            await yt.call("thumbnails.set", "POST", self.p.endpoints.api + "/upload/youtube/v3/thumbnails/set",
                          params={"videoId": video_id}, content=image.content,
                          headers={"Content-Type": image.headers.get("Content-Type", "image/jpeg")})
            return "set"
        except YouTubeError as exc:
            return f"failed: {exc.reason}"
        except httpx.TransportError as exc:
            return f"failed: {type(exc).__name__}"

