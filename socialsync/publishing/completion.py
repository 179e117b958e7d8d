"""After a final state: the permalink (best effort) and the CRM event, exactly once per post.

The final transition records ``event_pending`` in the same write; this sends it. If the worker
dies in between, the sweep (socialsync/publishing/sweep.py) hands the post to ``follow_up``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from socialsync import events
from socialsync.context import Services
from socialsync.store import posts

PermalinkReader = Callable[[dict[str, Any]], Awaitable["str | None"]]


async def complete(services: Services, post: dict[str, Any], read_permalink: PermalinkReader) -> None:
    """Best-effort permalink, then the CRM event (idempotent per post). Never turns a published
    post into a failed one: ``read_permalink`` answers None when it cannot tell."""
    pending = post.get("event_pending")
    if not pending:
        return
    fields: dict[str, Any] = {}
    if post["state"] == "published" and post.get("media_id") and not post.get("permalink"):
        link = await read_permalink(post)
        if link:
            fields["permalink"] = link
    if post["state"] == "published":
        data = {"post_id": post["_id"], "account_id": post["account_id"], "type": post["request"]["type"],
                "media_id": post.get("media_id"), "permalink": fields.get("permalink") or post.get("permalink"),
                "published_at": post["published_at"].isoformat()}
    else:
        data = {"post_id": post["_id"], "account_id": post["account_id"], "type": post["request"]["type"],
                "error": post.get("error")}
    await events.emit(services, post["tenant_id"], pending, data, event_key=f"{pending}:{post['_id']}")
    await posts.event_sent(services.store, post["_id"], pending, fields)


async def follow_up(services: Services, post_id: str, read_permalink: PermalinkReader) -> str:
    """Finish what a final transition left pending (the worker died right after it)."""
    post = await posts.get(services.store, post_id)
    if post is None or not post.get("event_pending"):
        return "nothing"
    await complete(services, post, read_permalink)
    return "done"
