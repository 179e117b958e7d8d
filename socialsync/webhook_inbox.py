"""The one webhook inbox: stored deliveries of every source, processed a page at a time.

The receiver (webhooks/routes/inbox.py, ``/webhooks/{source}``) stores each verified
delivery raw in ``webhook_events`` (with its ``source``) before answering 200; the drain job
(worker/jobs/webhooks.py) hands pages of pending events to `process_batch`. Here the source's
plugin (``inbound.normalize``) turns each body into changes, and the core applies them by kind:

- ``comment``: stored once per owning account (upsert by key, ``comment.created`` for each);
- ``mention``: a (rate-limited) look-up job per owning account;
- ``deauthorized``, ``publish_status``, ``media``: socialsync/platform_inbound.py (needs_reconnect,
  a publish poll now, a sync); what each came to is kept on the event (``results``);
- a `RejectedChange` is counted (its reason was stored with the event on receipt) and the other
  changes are applied all the same (ARCHITECTURE.md §4.1).

Everything is idempotent: a page re-processed after a crash writes the same documents again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from pymongo.errors import ConnectionFailure
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from socialsync import comments as comments_domain
from socialsync import platform_inbound, queue
from socialsync.comments.notify import emit_comment_events
from socialsync.logs import get_logger
from socialsync.platforms.base import Change, Platform, RejectedChange
from socialsync.platforms.registry import UnknownPlatform
from socialsync.store import accounts as account_store
from socialsync.store import comments as comment_store
from socialsync.store import webhook_events
from socialsync.store.migrations import LEGACY_SOURCE

log = get_logger(__name__)
# MongoDB or Redis unreachable: the drain fails and its events stay pending (not marked failed)
UNAVAILABLE = (ConnectionFailure, RedisConnectionError, RedisTimeoutError, OSError)


def _normalized(services: Any, doc: dict[str, Any]) -> tuple[Platform, Sequence[Change | RejectedChange]] | None:
    try:
        plugin = services.platforms.for_source(doc.get("source") or LEGACY_SOURCE)
    except UnknownPlatform:
        return None
    if plugin.inbound is None:
        return None
    try:
        return plugin, plugin.inbound.normalize(doc["body"].encode("utf-8"))
    except ValueError:  # refused on receipt; only a parser change could get here
        return None


async def _apply_other(services: Any, platform: str, change: Change) -> dict[str, Any]:
    """A change outside the comments path, applied alone: its failure is recorded, not raised
    (unless the store itself is unreachable: then the page is retried)."""
    try:
        return await platform_inbound.apply_change(services, platform, change)
    except UNAVAILABLE:
        raise
    except Exception as exc:  # noqa: BLE001 - one bad change never takes the others with it
        log.exception("webhook change could not be applied", platform=platform, kind=change.kind)
        return {"rejected": f"{type(exc).__name__} while applying", "field": change.field}


async def process_batch(services: Any, docs: list[dict[str, Any]], page: str) -> dict[str, dict[str, int]]:
    """Process a page of events together: one owners lookup per platform, one write of every
    comment, one outbox write, one update marking them processed. Returns each event's counts."""
    counts: dict[str, Counter[str]] = {d["_id"]: Counter() for d in docs}
    details: dict[str, list[dict[str, Any]]] = {}
    parsed: list[tuple[dict[str, Any], Platform, Sequence[Change | RejectedChange]]] = []
    keys: dict[str, set[str]] = {}
    for doc in docs:
        found = _normalized(services, doc)
        if found is None:
            counts[doc["_id"]]["invalid_body"] += 1
            continue
        plugin, changes = found
        parsed.append((doc, plugin, changes))
        keys.setdefault(plugin.name, set()).update(
            c.account_key for c in changes if isinstance(c, Change) and c.kind in ("comment", "mention"))
    owners = {
        platform: await account_store.owners_of(services.store, platform, sorted(ids))
        for platform, ids in keys.items() if ids
    }
    upserts: dict[str, comment_store.CommentIn] = {}
    source_event: dict[str, str] = {}  # comment doc id -> event that supplied it (last wins)
    for doc, plugin, changes in parsed:
        n = counts[doc["_id"]]
        for change in changes:
            if isinstance(change, RejectedChange):
                n["rejected"] += 1
                if change.reason == "invalid_value":
                    n["invalid_value"] += 1
                details.setdefault(doc["_id"], []).append({"rejected": change.reason, "field": change.field})
                continue
            if change.kind == "other":  # a field or event the core does not apply
                n["unknown_field"] += 1
                details.setdefault(doc["_id"], []).append({"applied": "ignored", "event": change.field})
                continue
            if change.kind not in ("comment", "mention"):
                details.setdefault(doc["_id"], []).append(await _apply_other(services, plugin.name, change))
                n[change.kind] += 1
                continue
            accounts = owners.get(plugin.name, {}).get(change.account_key, [])
            if not accounts:
                n["unknown_account"] += 1
                continue
            if change.kind == "comment":
                for c in comments_domain.from_change(change, accounts, default_time=change.at or doc["received_at"]):
                    key = comment_store.doc_id(c.account_id, c.comment_id)
                    upserts.pop(key, None)  # re-insert: the later delivery's data is written
                    upserts[key] = c
                    source_event[key] = doc["_id"]
                n[change.field or "comments"] += 1
                continue
            media_id, comment_id = change.data["media_id"], change.data.get("comment_id")
            for acc in accounts:
                await queue.enqueue(
                    services.redis, queue.COMMENTS_RESOLVE_MENTION, acc["_id"], media_id, comment_id,
                    job_id=queue.mention_job_id(acc["_id"], media_id, comment_id),
                )
            n["mentions"] += 1
    comments = list(upserts.values())
    new = await comment_store.upsert_many(services.store, comments)
    # Events for every comment of the batch, not only the new ones: a run that died after the
    # upsert must still emit; event keys make the repeats no-ops.
    await emit_comment_events(services, comments)
    for c in new:
        counts[source_event[comment_store.doc_id(c.account_id, c.comment_id)]]["comments_new"] += 1
    results = {eid: {**n, "comments_new": n["comments_new"]} for eid, n in counts.items()}
    await webhook_events.mark_processed_many(services.store, page, results, details)
    for eid, n in counts.items():
        if n["unknown_account"] or n["unknown_field"] or n["invalid_body"] or n["rejected"]:
            log.info("webhook event had unknown or rejected parts", event_id=eid, **n)
    return results
