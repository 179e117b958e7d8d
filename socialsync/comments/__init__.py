"""The comments domain, platform-neutral: normalized changes and records become stored comments;
moderation rules (what may be replied to, and a reply is posted at most once) live here too.

Platforms hand over `socialsync.platforms.base.Change` (kind ``comment``) with this data:
``id, text, from_id, from_username, media_id, media_product_type, parent_id, timestamp, live``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from socialsync.platforms.base import Change
from socialsync.store.comments import CommentIn
from socialsync.store.migrations import platform_of


def from_change(change: Change, owners: Iterable[Mapping[str, Any]], *, default_time: datetime) -> Iterator[CommentIn]:
    """One `CommentIn` per connected account that owns the commented account (any tenant)."""
    d = change.data
    for acc in owners:
        yield CommentIn(
            account_id=acc["_id"], tenant_id=acc["tenant_id"], platform=platform_of(acc),
            comment_id=d["id"], text=d.get("text"),
            from_id=d.get("from_id"), from_username=d.get("from_username"), media_id=d.get("media_id"),
            media_product_type=d.get("media_product_type"), parent_id=d.get("parent_id"),
            timestamp=d.get("timestamp") or default_time, live=bool(d.get("live")), source="webhook",
        )
