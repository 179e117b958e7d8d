"""Media living on the emulated platform: posts, reels, carousels (with children) and stories.

Shared by every part of the sandbox: sync reads it (/media edges, insights), publishing adds to
it (``media_publish``), comments hang off it. Ids are digit strings like Meta's; timestamps are
sandbox-clock UNIX seconds, rendered with ``Clock.iso`` (``+0000``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

MediaType = Literal["IMAGE", "VIDEO", "CAROUSEL_ALBUM"]
ProductType = Literal["FEED", "REELS", "STORY"]

_FIRST_MEDIA_ID = 18000000000000001


@dataclass(slots=True)
class ReadSettings:
    """How the read side answers (control API ``/_sandbox/media/settings``)."""

    # Hosts that reject ``insights.metric(...)`` field expansion (the unconfirmed case).
    expansion_disabled_hosts: set[str] = field(default_factory=set)
    # Meta's "reduce the amount of data" (code 1) above this page weight:
    # items × (1 + expanded metrics) + expanded children.
    max_page_weight: int = 5000
    max_page_size: int = 100
    # The stories edge answers at most this many per page (whatever ``limit`` asks), so more
    # live stories than this take several pages.
    stories_page_size: int = 25
    # Emulate a paging bug: every page's ``after`` cursor points back at the same page.
    loop_cursor: bool = False


@dataclass(slots=True)
class Media:
    media_id: str
    ig_user_id: str
    media_type: MediaType
    media_product_type: ProductType
    timestamp: float
    caption: str = ""
    media_url: str = ""
    thumbnail_url: str | None = None
    permalink: str = ""
    shortcode: str = ""
    like_count: int = 0
    comments_count: int = 0
    children: list[str] = field(default_factory=list)  # carousel children media ids
    parent_id: str | None = None  # set on carousel children
    deleted: bool = False
    # Insight behaviour knobs (Meta's real per-item errors):
    before_business_conversion: bool = False  # insights → error subcode 2108006
    story_viewers: int = 0  # stories with < 5 viewers → insights error code 10
    insights: dict[str, int | float] = field(default_factory=dict)  # metric → value; absent = no data
    story_navigation: dict[str, int] = field(default_factory=dict)  # STORY "navigation" breakdown
    alt_text: str | None = None
    comment_enabled: bool = True

    @property
    def is_child(self) -> bool:
        return self.parent_id is not None


class MediaStore:
    """All media, by id, plus each account's media in posting order (newest last)."""

    def __init__(self) -> None:
        self.by_id: dict[str, Media] = {}
        self.by_account: dict[str, list[str]] = {}
        self._next_id = _FIRST_MEDIA_ID
        self.reads = ReadSettings()

    def new_id(self) -> str:
        value = str(self._next_id)
        self._next_id += 1
        return value

    def add(self, media: Media) -> Media:
        self.by_id[media.media_id] = media
        if not media.is_child:
            self.by_account.setdefault(media.ig_user_id, []).append(media.media_id)
        return media

    def delete(self, media_id: str) -> bool:
        """The owner deleted it on Instagram: gone from every read."""
        media = self.get(media_id)
        if media is None:
            return False
        media.deleted = True
        return True

    def get(self, media_id: str) -> Media | None:
        media = self.by_id.get(media_id)
        return media if media is not None and not media.deleted else None

    def of_account(self, ig_user_id: str, *, product_types: tuple[ProductType, ...] | None = None) -> list[Media]:
        """Top-level, non-deleted media of an account, newest first (as /media answers)."""
        items = [self.by_id[i] for i in reversed(self.by_account.get(ig_user_id, []))]
        return [
            m for m in items
            if not m.deleted and (product_types is None or m.media_product_type in product_types)
        ]
