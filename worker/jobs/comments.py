"""comments.perform_action, comments.resolve_mention, comments.backfill_due (cron) and
comments.backfill_account.

Moderation actions are at-most-once towards Meta as far as we can tell: an action records its
attempt before the call, and a reply whose earlier attempt may have reached Meta is first looked
for among the comment's replies before it is posted again.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from arq import cron, func
from arq.cron import CronJob
from arq.worker import Function

from socialsync import queue
from socialsync.config import Settings
from socialsync.context import Services
from socialsync.logs import get_logger
from socialsync.platforms.instagram import comments as ig_comments
from socialsync.platforms.instagram.access import AccountAccess, AccountUnavailable, access_for
from socialsync.platforms.instagram.errors import ErrorKind, GraphError, RateLimited, TransportError
from socialsync.platforms.instagram.plugin import graph_of
from socialsync.store import accounts as account_store
from socialsync.store import actions as action_store
from socialsync.store import comments as comment_store
from socialsync.store.actions import ActionError
from worker.jobs import platform_errors
from worker.jobs.webhooks import emit_comment_events

log = get_logger(__name__)
MAX_TRIES = 6
BACKFILL_STATE = "comment_backfill"


# --- moderation --------------------------------------------------------------------------------
def _error_for(exc: BaseException) -> ActionError:
    if isinstance(exc, GraphError):
        code = {
            ErrorKind.TOKEN_INVALID: "account_needs_reconnect",
            ErrorKind.PERMISSION: "permission_missing",
            ErrorKind.INVALID_PARAMETER: "rejected_by_platform",
        }.get(exc.kind, "platform_error")
        if exc.code == 100 and exc.subcode == 33:
            code = "comment_not_found_on_platform"
        return ActionError(code=code, message=f"{exc.message} (code {exc.code})")
    return ActionError(code="platform_unreachable", message=str(exc))


async def _existing_reply(services: Services, access: AccountAccess, action: dict[str, Any]) -> str | None:
    """After an attempt that may have reached Meta: the reply it created, if any."""
    replies = await ig_comments.list_replies(graph_of(services), access, action["comment_id"])
    since = action["created_at"] - timedelta(seconds=5)
    for r in replies:
        ts = ig_comments.parse_time(r.get("timestamp"))
        mine = (r.get("from") or {}).get("id") == access.external_id
        if mine and r.get("text") == action["params"]["message"] and (ts is None or ts >= since):
            return str(r["id"])
    return None


async def _perform(services: Services, access: AccountAccess, action: dict[str, Any]) -> dict[str, Any]:
    kind, cid = action["kind"], action["comment_id"]
    if kind == "reply":
        reply_id = await _existing_reply(services, access, action) if action.get("attempted_at") else None
        await action_store.mark_attempt(services.store, action["_id"])
        if reply_id is None:
            reply_id = await ig_comments.reply(graph_of(services), access, cid, action["params"]["message"])
        parent = await comment_store.get_for_tenant(services.store, access.tenant_id, cid)
        reply = comment_store.CommentIn(
            account_id=access.account_id, tenant_id=access.tenant_id, comment_id=reply_id,
            text=action["params"]["message"], from_id=access.external_id,
            media_id=(parent or {}).get("media_id"), media_product_type=(parent or {}).get("media_product_type"),
            parent_id=cid, timestamp=datetime.now(UTC), source="api",
        )
        await comment_store.upsert_many(services.store, [reply])
        return {"reply_id": reply_id}
    await action_store.mark_attempt(services.store, action["_id"])
    if kind == "hide":
        hidden = bool(action["params"]["hidden"])
        await ig_comments.hide(graph_of(services), access, cid, hidden)
        await comment_store.set_hidden(services.store, access.account_id, cid, hidden)
        return {"hidden": hidden}
    try:
        await ig_comments.delete(graph_of(services), access, cid)
    except GraphError as exc:
        # Gone already (an earlier attempt deleted it, or someone else did): the goal is reached.
        if not (exc.code == 100 and exc.subcode == 33 and action.get("attempted_at")):
            raise
    await comment_store.mark_deleted(services.store, access.account_id, cid)
    return {"deleted": True}


async def perform_action(ctx: dict[str, Any], action_id: str) -> str:
    services: Services = ctx["services"]
    action = await action_store.get(services.store, action_id)
    if action is None or action["status"] != "pending":
        return "done"
    account = await account_store.get(services.store, action["account_id"])
    try:
        access = access_for(account or {}, services.settings, services.cipher)
    except AccountUnavailable as exc:
        await action_store.finish(
            services.store, action_id, error=ActionError(code="account_unavailable", message=str(exc))
        )
        return "failed"
    try:
        result = await _perform(services, access, action)
    except (GraphError, RateLimited, TransportError) as exc:
        retry = await platform_errors.handle(services, ctx, exc, action["account_id"], max_tries=MAX_TRIES)
        if retry is not None:
            log.warning("comment action will retry", action_id=action_id, **platform_errors.describe(exc))
            raise retry from None
        await action_store.finish(services.store, action_id, error=_error_for(exc))
        return "failed"
    await action_store.finish(services.store, action_id, result=result)
    return "succeeded"


# --- mentions ----------------------------------------------------------------------------------
async def resolve_mention(ctx: dict[str, Any], account_id: str, media_id: str, comment_id: str | None) -> str:
    """Facebook-Login accounts: read the mentioning comment/caption. Instagram Login has no
    mention lookup (mentions come as comments): the reference is stored as received."""
    services: Services = ctx["services"]
    account = await account_store.get(services.store, account_id)
    if account is None:
        return "missing"
    if account["login"] != "facebook":
        await comment_store.upsert_mention(
            services.store,
            comment_store.MentionIn(
                account_id=account_id, tenant_id=account["tenant_id"], media_id=media_id,
                comment_id=comment_id, kind="comment" if comment_id else "media",
            ),
        )
        return "stored_unresolved"
    try:
        access = access_for(account, services.settings, services.cipher)
        mention = await ig_comments.resolve_mention(graph_of(services), access, media_id, comment_id)
    except AccountUnavailable:
        return "unavailable"
    except (GraphError, RateLimited, TransportError) as exc:
        retry = await platform_errors.handle(services, ctx, exc, account_id, max_tries=MAX_TRIES)
        if retry is not None:
            raise retry from None
        log.warning("mention not resolved", account_id=account_id, **platform_errors.describe(exc))
        return "failed"
    await comment_store.upsert_mention(services.store, mention)
    return "resolved"


# --- backfill during scheduled syncs -----------------------------------------------------------
def jitter_seconds(account_id: str, spread: int) -> int:
    """A stable per-account offset, so the accounts' backfills do not all start together."""
    if spread <= 0:
        return 0
    return int(hashlib.sha256(account_id.encode()).hexdigest()[:8], 16) % spread


async def backfill_due(ctx: dict[str, Any]) -> int:
    services: Services = ctx["services"]
    now = datetime.now(UTC)
    found = services.store.accounts.find({"status": "active", "platform": "instagram"}, {"_id": 1})
    count = 0
    async for acc in found:
        await queue.enqueue(
            services.redis, queue.COMMENTS_BACKFILL_ACCOUNT, acc["_id"],
            job_id=queue.comment_backfill_job_id(acc["_id"], now),
            defer_seconds=jitter_seconds(acc["_id"], services.settings.comments_backfill_jitter_seconds),
        )
        count += 1
    return count


async def backfill_account(ctx: dict[str, Any], account_id: str) -> dict[str, int] | str:
    """Comments and replies of the account's media younger than the look-back. Incremental: a
    media whose ``comments_count`` has not changed since the last pass is not read again."""
    services: Services = ctx["services"]
    account = await account_store.get(services.store, account_id)
    try:
        access = access_for(account or {}, services.settings, services.cipher)
    except AccountUnavailable:
        return "unavailable"
    since = datetime.now(UTC) - timedelta(days=services.settings.comments_backfill_lookback_days)
    state_col = services.store[BACKFILL_STATE]
    stats = {"media": 0, "media_read": 0, "comments": 0, "new": 0}
    try:
        media = await ig_comments.recent_media(graph_of(services), access, since)
        for item in media:
            stats["media"] += 1
            key = f"{account_id}:{item['id']}"
            seen = await state_col.find_one({"_id": key})
            count = item.get("comments_count")
            if seen is not None and count is not None and seen.get("comments_count") == count:
                continue
            stats["media_read"] += 1
            found: list[comment_store.CommentIn] = []
            for raw in await ig_comments.list_comments(graph_of(services), access, item["id"]):
                top = ig_comments.comment_in(
                    raw, access, source="sync", media_id=item["id"],
                    media_product_type=item.get("media_product_type"),
                )
                found.append(top)
                for r in await ig_comments.list_replies(graph_of(services), access, top.comment_id):
                    found.append(ig_comments.comment_in(
                        {**r, "parent_id": top.comment_id}, access, source="sync", media_id=item["id"],
                        media_product_type=item.get("media_product_type"),
                    ))
            new = await comment_store.upsert_many(services.store, found)
            await emit_comment_events(services, new)
            stats["comments"] += len(found)
            stats["new"] += len(new)
            await state_col.update_one(
                {"_id": key},
                {"$set": {"account_id": account_id, "comments_count": count, "read_at": datetime.now(UTC)}},
                upsert=True,
            )
    except (GraphError, RateLimited, TransportError) as exc:
        retry = await platform_errors.handle(services, ctx, exc, account_id, max_tries=MAX_TRIES)
        if retry is not None:
            raise retry from None
        log.warning("comment backfill failed", account_id=account_id, **platform_errors.describe(exc))
        return "failed"
    return stats


def functions(_settings: Settings) -> list[Function]:
    return [
        func(perform_action, name=queue.COMMENTS_PERFORM_ACTION, max_tries=MAX_TRIES + 1),
        func(resolve_mention, name=queue.COMMENTS_RESOLVE_MENTION, max_tries=MAX_TRIES + 1),
        func(backfill_account, name=queue.COMMENTS_BACKFILL_ACCOUNT, max_tries=MAX_TRIES + 1),
    ]


def cron_jobs(settings: Settings) -> list[CronJob]:
    every = max(1, settings.comments_backfill_cron_minutes)
    minutes = set(range(0, 60, every)) if every < 60 else {17}
    return [cron(backfill_due, name=queue.COMMENTS_BACKFILL_DUE, minute=minutes, unique=True)]
