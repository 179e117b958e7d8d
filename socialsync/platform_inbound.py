"""Webhook changes outside the comments path, applied by the core (socialsync/webhook_inbox.py
calls `apply_change` for each, alone; what it came to is kept on the event's ``results``):

- ``deauthorized`` (TikTok ``authorization.removed``): every tenant's record of that account
  becomes ``needs_reconnect`` with the reason (the CRM gets ``account.needs_reconnect``); its
  jobs stop because they only run for active accounts;
- ``publish_status`` (``post.publish.*``): the post with that publish id, if it is waiting on
  the platform's processing, polls its status now instead of at its next deferred time;
- ``media`` (YouTube's WebSub push): a deleted item is marked at once, then a sync re-reads.
Each is idempotent: a re-processed event (a killed drain) changes nothing more.
"""

from __future__ import annotations

from typing import Any

from socialsync import lifecycle
from socialsync.platforms.base import Change
from socialsync.store import platform_accounts
from socialsync import clock


async def apply_change(services: Any, platform: str, change: Change) -> dict[str, Any]:
    accounts = await platform_accounts.find_by_external_id(services.store, platform, change.account_key)
    if change.kind == "deauthorized":
        reason = f"The creator removed the app's access ({change.data.get('reason')}); reconnect the account."
        for account in accounts:
            await lifecycle.account_needs_reconnect(services, account["_id"], reason)
        return {"applied": "needs_reconnect", "accounts": [a["_id"] for a in accounts]}
    if change.kind == "publish_status":
        from socialsync.publishing.plugin_run import nudge  # noqa: PLC0415 - publishing imports the store

        posts = await nudge(services, platform, str(change.data.get("publish_id")))
        return {"applied": "publish_status", "posts": posts}
    if change.kind == "media":
        return await _media_changed(services, platform, accounts, change)
    return {"applied": "ignored", "event": change.field}


async def _media_changed(services: Any, platform: str, accounts: list[dict[str, Any]], change: Change) -> dict[str, Any]:
    """A push that an account's media changed (YouTube's WebSub: a new or edited upload, or a
    tombstone). The push is only a trigger: a deleted item is marked at once, then the
    platform's ``push`` sync kind (incremental, a few units) re-reads the truth."""
    from socialsync.store import media as media_store  # noqa: PLC0415
    from socialsync.sync.schedule import request_sync  # noqa: PLC0415 - the one sync path (sync.run)

    plugin = services.platforms.get(platform)
    kind = "push" if "push" in plugin.spec.sync_kinds else "recent"
    media_id, now = str(change.data.get("media_id") or ""), clock.now()
    runs = []
    for account in accounts:
        if account.get("status") != "active":
            continue
        if change.data.get("deleted") and media_id:
            await media_store.mark_item_deleted(services.store, account["_id"], media_id, now=now)
        run, _created = await request_sync(services, account, kind, "webhook")
        runs.append(run["_id"])
    return {"applied": "sync", "media_id": media_id, "deleted": bool(change.data.get("deleted")), "runs": runs}
