"""What a publisher may ask about the account's other posts, without touching storage.

The core passes an ``OwnPosts`` in the step's view (``view["own_posts"]``): read-only questions
the platform's settling logic needs (Instagram: is a live media already some other post's? when
does our oldest post leave the publishing window?), answered by the core from ``store/posts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from socialsync.store import Store
from socialsync.store import posts


@dataclass(frozen=True)
class OwnPosts:
    store: Store
    external_id: str  # the platform's id of the account

    async def claimed(self, media_ids: list[str]) -> set[str]:
        """Those of ``media_ids`` that a post of ours already recorded as its media."""
        if not media_ids:
            return set()
        return await posts.media_ids_claimed(self.store, self.external_id, media_ids)

    async def published_since(self, since: datetime) -> list[datetime]:
        """When our posts on this account went live since ``since``, oldest first."""
        return await posts.published_since(self.store, self.external_id, since)

    async def active_due_by(self, at: datetime) -> int:
        """Our posts on this account not yet final whose next step is due by ``at``."""
        return await posts.active_due_by(self.store, self.external_id, at)
