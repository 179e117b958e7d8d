"""Comments that did not come by webhook: the scheduled backfill and mention look-ups, any platform.

The platform reads (its plugin's ``comment_reads`` part, a `CommentReader`); this module keeps
the bookkeeping and stores: a media whose comment count has not changed since the last pass is
not read again (``store.comments.backfill_unchanged``), comments are upserted by their key and
``comment.created`` is emitted for the new ones, then the media's count is recorded. Platform
errors are raised to the job (worker/jobs/comments.py), which maps them to arq retries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from socialsync import clock
from socialsync.comments.notify import emit_comment_events
from socialsync.platforms.base import AccountRef, AccountUnavailable
from socialsync.store import accounts as account_store
from socialsync.store import comments as comment_store
from socialsync.store import platform_accounts
from socialsync.store.comments import CommentIn, MentionIn
from socialsync.store.migrations import platform_of


@dataclass(frozen=True)
class MediaComments:
    """A media whose comments the backfill may read, with the platform's current count."""

    media_id: str
    comments_count: int | None = None
    extra: Mapping[str, Any] | None = None   # platform data handed back to `CommentReader.comments`


class CommentReader(Protocol):
    async def recent_media(self, account: AccountRef, since: datetime) -> Sequence[MediaComments]:
        """The account's media posted after ``since``."""
        ...

    async def comments(self, account: AccountRef, media: MediaComments) -> Sequence[CommentIn]:
        """Every comment (and reply) of the media, as records (source ``sync``)."""
        ...

    def looks_up_mentions(self, login: str) -> bool:
        """Whether accounts of this login can read what mentioned them (else a mention is
        stored as received)."""
        ...

    async def resolve_mention(self, account: AccountRef, media_id: str, comment_id: str | None) -> MentionIn:
        """The mentioning comment or caption."""
        ...


def reader_of(services: Any, doc: Mapping[str, Any]) -> CommentReader | None:
    """The account's platform's comment reads, or None (a platform without them)."""
    return getattr(services.platforms.for_account(doc), "comment_reads", None)


def _ref(services: Any, doc: Mapping[str, Any] | None) -> AccountRef:
    if doc is None or doc.get("status") != "active" or not doc.get("token"):
        raise AccountUnavailable(f"account {(doc or {}).get('_id')} is not active")
    return platform_accounts.ref_of(dict(doc), services.cipher)


async def backfill_account(services: Any, account_id: str) -> dict[str, int] | str:
    """Comments and replies of the account's media younger than the look-back. Incremental: a
    media whose comment count has not changed since the last pass is not read again. Raises
    the platform's errors (PlatformError, RateLimited, TransportError)."""
    doc = await account_store.get(services.store, account_id)
    try:
        account = _ref(services, doc)
    except AccountUnavailable:
        return "unavailable"
    assert doc is not None
    reader = reader_of(services, doc)
    if reader is None:
        return "no_comment_reads"
    since = clock.now() - timedelta(days=services.settings.comments_backfill_lookback_days)
    stats = {"media": 0, "media_read": 0, "comments": 0, "new": 0}
    for item in await reader.recent_media(account, since):
        stats["media"] += 1
        if await comment_store.backfill_unchanged(services.store, account_id, item.media_id, item.comments_count):
            continue
        stats["media_read"] += 1
        found = list(await reader.comments(account, item))
        new = await comment_store.upsert_many(services.store, found)
        await emit_comment_events(services, new)
        stats["comments"] += len(found)
        stats["new"] += len(new)
        await comment_store.mark_backfilled(services.store, account_id, item.media_id, item.comments_count)
    return stats


async def resolve_mention(services: Any, account_id: str, media_id: str, comment_id: str | None) -> str:
    """Store a mention of the account: looked up at the platform when its login can, else as
    received. Raises the platform's errors for the job to retry."""
    doc = await account_store.get(services.store, account_id)
    if doc is None:
        return "missing"
    reader = reader_of(services, doc)
    if reader is None or not reader.looks_up_mentions(str(doc.get("login") or "")):
        await comment_store.upsert_mention(services.store, MentionIn(
            account_id=account_id, tenant_id=doc["tenant_id"], platform=platform_of(doc), media_id=media_id,
            comment_id=comment_id, kind="comment" if comment_id else "media",
        ))
        return "stored_unresolved"
    try:
        account = _ref(services, doc)
    except AccountUnavailable:
        return "unavailable"
    mention = await reader.resolve_mention(account, media_id, comment_id)
    await comment_store.upsert_mention(services.store, mention)
    return "resolved"
