"""Content publishing on the emulated platform (PLATFORM_FACTS.md §3): containers, their
processing and the publishing quota. Every post that goes live is recorded in the shared publish
log (``sandbox/publish_log.py``, ``GET /_sandbox/published``) with Meta's fields.

A container is created by ``POST /{ig-user-id}/media`` and processed for a time drawn from a
configurable distribution (sandbox clock). Its ``status_code`` is computed when read:
IN_PROGRESS → FINISHED, or ERROR when its URL carries a failure marker, EXPIRED once its
lifetime passes unpublished, PUBLISHED after ``media_publish``. A container publishes once.

The state hangs off the ``SandboxState`` object (``publishing_of(state)``), so the sandbox's
reset — which builds a fresh state — resets publishing, knobs included.

URL markers (anywhere in ``image_url`` / ``video_url``):
``sandbox-unfetchable`` → ERROR 2207052, ``sandbox-bad-aspect`` → ERROR 2207009,
``sandbox-bad-codec`` → ERROR 2207026.
"""

from __future__ import annotations

import math
import random
import secrets
import string
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sandbox.meta.media import Media, MediaStore
from sandbox.meta.state import SandboxState

ContainerKind = Literal["IMAGE", "VIDEO", "REELS", "STORIES", "CAROUSEL"]
StatusCode = Literal["IN_PROGRESS", "FINISHED", "ERROR", "EXPIRED", "PUBLISHED"]

# Container ids: digit strings like Meta's, in a range of their own ("1799…", 17 digits), so the
# container route can claim exactly these ids and let every other node id fall through.
_FIRST_CONTAINER_ID = 17990000000000001
CONTAINER_ID_PATTERN = r"1799\d{13}"

URL_MARKERS: dict[str, tuple[int, str]] = {
    "sandbox-unfetchable": (2207052, "Media download has failed: the media URI could not be fetched"),
    "sandbox-bad-aspect": (2207009, "The aspect ratio is not supported"),
    "sandbox-bad-codec": (2207026, "Unsupported video format"),
}
_SHORTCODE_ALPHABET = string.ascii_letters + string.digits + "_-"


class Distribution(BaseModel):
    """Processing time in seconds: ``fixed`` (low), ``uniform`` [low, high], or ``lognormal``
    (median, sigma), always capped at ``cap``."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["fixed", "uniform", "lognormal"] = "uniform"
    low: float = Field(default=0.0, ge=0)
    high: float = Field(default=0.0, ge=0)
    median: float = Field(default=1.0, gt=0)
    sigma: float = Field(default=0.5, ge=0)
    cap: float = Field(default=3600.0, ge=0)

    def draw(self, rng: random.Random) -> float:
        if self.kind == "fixed":
            value = self.low
        elif self.kind == "uniform":
            value = rng.uniform(self.low, max(self.low, self.high))
        else:
            value = rng.lognormvariate(math.log(self.median), self.sigma)
        return max(0.0, min(self.cap, value))


class PublishingKnobs(BaseModel):
    """What a test or benchmark may vary (``POST /_sandbox/publishing``)."""

    model_config = ConfigDict(extra="forbid")

    image_processing: Distribution = Field(default_factory=lambda: Distribution(kind="fixed", low=0.0))
    video_processing: Distribution = Field(
        default_factory=lambda: Distribution(kind="uniform", low=1.0, high=3.0)
    )
    container_ttl_seconds: float = Field(default=86400.0, gt=0)
    quota_total: int = Field(default=100, ge=0)
    quota_duration_seconds: int = Field(default=86400, ge=1)
    seed: int | None = None


@dataclass(slots=True)
class Container:
    container_id: str
    ig_user_id: str
    kind: ContainerKind
    created_at: float
    ready_at: float
    caption: str = ""
    image_url: str | None = None
    video_url: str | None = None
    is_carousel_item: bool = False
    children: list[str] = field(default_factory=list)
    alt_text: str | None = None
    error_subcode: int | None = None
    error_message: str = ""
    published_media_id: str | None = None

    @property
    def url(self) -> str:
        return self.video_url or self.image_url or ""

    @property
    def is_video(self) -> bool:
        return self.video_url is not None


class Publishing:
    """Containers and quota usage of one sandbox state."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.knobs = PublishingKnobs()
        self.rng = random.Random()
        self.containers: dict[str, Container] = {}
        self.quota_overrides: dict[str, int] = {}
        self._next_id = _FIRST_CONTAINER_ID

    def configure(self, knobs: PublishingKnobs) -> None:
        self.knobs = knobs
        self.rng = random.Random(knobs.seed)

    # --- containers -------------------------------------------------------------------------
    def create(self, ig_user_id: str, kind: ContainerKind, **fields: object) -> Container:
        now = self.state.clock.now()
        is_video = bool(fields.get("video_url"))
        if kind == "CAROUSEL":
            delay = 0.0
        elif is_video:
            delay = self.knobs.video_processing.draw(self.rng)
        else:
            delay = self.knobs.image_processing.draw(self.rng)
        container = Container(
            container_id=str(self._next_id),
            ig_user_id=ig_user_id,
            kind=kind,
            created_at=now,
            ready_at=now + delay,
            **fields,  # type: ignore[arg-type]
        )
        self._next_id += 1
        for marker, (subcode, message) in URL_MARKERS.items():
            if marker in container.url:
                container.error_subcode, container.error_message = subcode, message
        self.containers[container.container_id] = container
        return container

    def status(self, container: Container) -> tuple[StatusCode, str]:
        """``(status_code, status)`` as ``GET /{container-id}`` answers them now."""
        now = self.state.clock.now()
        if container.published_media_id is not None:
            return "PUBLISHED", "Published"
        if now >= container.created_at + self.knobs.container_ttl_seconds:
            return "EXPIRED", "Expired: the container was not published within its lifetime"
        if container.kind == "CAROUSEL":
            return self._carousel_status(container)
        if now < container.ready_at:
            return "IN_PROGRESS", "In Progress"
        if container.error_subcode is not None:
            return "ERROR", f"Error: {container.error_message} (error code {container.error_subcode})"
        return "FINISHED", "Finished"

    def _carousel_status(self, parent: Container) -> tuple[StatusCode, str]:
        for child_id in parent.children:
            child = self.containers[child_id]
            code, text = self.status(child)
            if code != "FINISHED":
                return code, text
        return "FINISHED", "Finished"

    # --- quota ------------------------------------------------------------------------------
    def quota_total(self, ig_user_id: str) -> int:
        return self.quota_overrides.get(ig_user_id, self.knobs.quota_total)

    def quota_usage(self, ig_user_id: str) -> int:
        since = self.state.clock.now() - self.knobs.quota_duration_seconds
        return self.state.published.count_since("meta", ig_user_id, since)

    # --- publishing -------------------------------------------------------------------------
    def publish(self, container: Container, media: MediaStore, username: str) -> Media:
        """Turn a FINISHED container into live media (the caller checked the status)."""
        now = self.state.clock.now()
        product = {"STORIES": "STORY", "REELS": "REELS"}.get(container.kind, "FEED")
        if container.kind == "CAROUSEL":
            media_type = "CAROUSEL_ALBUM"
        else:
            media_type = "VIDEO" if container.is_video else "IMAGE"
        media_id = media.new_id()
        shortcode = "".join(secrets.choice(_SHORTCODE_ALPHABET) for _ in range(11))
        if product == "STORY":
            permalink = f"https://www.instagram.com/stories/{username}/{media_id}/"
        elif product == "REELS":
            permalink = f"https://www.instagram.com/reel/{shortcode}/"
        else:
            permalink = f"https://www.instagram.com/p/{shortcode}/"
        item = Media(
            media_id=media_id,
            ig_user_id=container.ig_user_id,
            media_type=media_type,  # type: ignore[arg-type]
            media_product_type=product,  # type: ignore[arg-type]
            timestamp=now,
            caption=container.caption,
            media_url=container.url,
            permalink=permalink,
            shortcode=shortcode,
            alt_text=container.alt_text,
        )
        if container.is_video:
            item.thumbnail_url = _thumbnail(media_id)
        for child_id in container.children:
            child = self.containers[child_id]
            child_media = Media(
                media_id=media.new_id(),
                ig_user_id=container.ig_user_id,
                media_type="VIDEO" if child.is_video else "IMAGE",
                media_product_type="FEED",
                timestamp=now,
                media_url=child.url,
                parent_id=media_id,
                alt_text=child.alt_text,
            )
            if child.is_video:
                child_media.thumbnail_url = _thumbnail(child_media.media_id)
            media.add(child_media)
            item.children.append(child_media.media_id)
        media.add(item)
        container.published_media_id = media_id
        self.state.published.record(
            "meta", container.ig_user_id, media_id, container_id=container.container_id,
            ig_user_id=container.ig_user_id, media_product_type=product, caption=container.caption,
        )
        return item


def _thumbnail(media_id: str) -> str:
    """Videos (reels, stories, carousel items) read back with a cover image URL."""
    return f"https://scontent.cdninstagram.com/sandbox/media/{media_id}_thumb.jpg"


def publishing_of(state: SandboxState) -> Publishing:
    """The publishing part of a sandbox state, created on first use (reset with the state)."""
    existing = getattr(state, "_publishing", None)
    if existing is None:
        existing = Publishing(state)
        state._publishing = existing  # type: ignore[attr-defined]
    return existing
