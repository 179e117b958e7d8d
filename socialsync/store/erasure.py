"""Erasure of everything stored about one platform user (Meta's data-deletion request).

The accounts themselves go, and every document that names one of them: the collections listed
in `BY_ACCOUNT_ID` (each owned by its store module) by ``account_id``, CRM events by
``data.account_id``, and the raw webhook deliveries that named the platform account, unless
another person's connection still holds that platform account. Re-running finds nothing.
"""

from __future__ import annotations

from socialsync.crm_events import ledger
from socialsync.store import (
    Store, actions, audience, comments, media, metrics, posts, sync_runs, webhook_events,
)

# Collections whose documents name the account in ``account_id``.
BY_ACCOUNT_ID = (
    media.COLLECTION, metrics.COLLECTION, audience.COLLECTION, sync_runs.COLLECTION,
    posts.COLLECTION, comments.COLLECTION, comments.MENTIONS, comments.BACKFILL, actions.COLLECTION,
)


async def erase_platform_user(store: Store, platform_user_id: str) -> dict[str, int]:
    """Delete it all; returns the number of documents deleted per collection."""
    accounts = [
        a async for a in store.accounts.find(
            {"platform_user_id": platform_user_id}, {"_id": 1, "external_id": 1}
        )
    ]
    ids = [a["_id"] for a in accounts]
    external_ids = sorted({a["external_id"] for a in accounts})
    erased: dict[str, int] = {}
    if ids:
        for name in BY_ACCOUNT_ID:
            erased[name] = (await store[name].delete_many({"account_id": {"$in": ids}})).deleted_count
        erased[ledger.COLLECTION] = (
            await store[ledger.COLLECTION].delete_many({"data.account_id": {"$in": ids}})
        ).deleted_count
    if external_ids:
        still_owned = {
            a["external_id"] async for a in store.accounts.find(
                {"external_id": {"$in": external_ids}, "platform_user_id": {"$ne": platform_user_id}},
                {"external_id": 1},
            )
        }
        gone = [i for i in external_ids if i not in still_owned]  # another person's connection keeps them
        erased[webhook_events.COLLECTION] = (
            await store[webhook_events.COLLECTION].delete_many({"accounts": {"$in": gone}})
        ).deleted_count if gone else 0
    erased["accounts"] = (await store.accounts.delete_many({"_id": {"$in": ids}})).deleted_count if ids else 0
    return erased
