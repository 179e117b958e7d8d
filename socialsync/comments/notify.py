"""``comment.created`` CRM events for stored comments (webhook deliveries, backfills, any platform)."""

from __future__ import annotations

from typing import Any

from socialsync import events
from socialsync.store.comments import CommentIn


def comment_created_data(c: CommentIn) -> dict[str, Any]:
    return {
        "account_id": c.account_id,
        "comment_id": c.comment_id,
        "media_id": c.media_id,
        "parent_id": c.parent_id,
        "text": c.text,
        "from": {"id": c.from_id, "username": c.from_username},
        "timestamp": c.timestamp.isoformat() if c.timestamp else None,
        "live": c.live,
    }


async def emit_comment_events(services: Any, comments: list[CommentIn]) -> None:
    """comment.created for each (idempotent per comment: a re-run re-emits nothing new), in one
    endpoint lookup and one outbox write for the whole batch."""
    await events.record_many(services, [
        events.EventIn(c.tenant_id, "comment.created", comment_created_data(c), f"comment.created:{c.account_id}:{c.comment_id}")
        for c in comments
    ])
