"""Instagram comment moderation, performed once (the job is worker/jobs/comments.py).

An action records its attempt before the call; a reply whose earlier attempt may have reached
Meta is first looked for among the comment's replies before it is posted again; a delete that
finds the comment gone after an earlier attempt has reached its goal.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from socialsync.context import Services
from socialsync.platforms.instagram import comments as ig_comments
from socialsync.platforms.instagram.access import AccountAccess, access_for
from socialsync.platforms.instagram.errors import ErrorKind, GraphError
from socialsync.platforms.instagram.plugin import graph_of
from socialsync.store import actions as action_store
from socialsync.store import comments as comment_store
from socialsync.store.actions import ActionError
from socialsync import clock


def action_error(exc: BaseException) -> ActionError:
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


async def existing_reply(services: Services, access: AccountAccess, action: dict[str, Any]) -> str | None:
    """After an attempt that may have reached Meta: the reply it created, if any."""
    replies = await ig_comments.list_replies(graph_of(services), access, action["comment_id"])
    since = action["created_at"] - timedelta(seconds=5)
    for r in replies:
        ts = ig_comments.parse_time(r.get("timestamp"))
        mine = (r.get("from") or {}).get("id") == access.external_id
        if mine and r.get("text") == action["params"]["message"] and (ts is None or ts >= since):
            return str(r["id"])
    return None


async def perform(services: Services, access: AccountAccess, action: dict[str, Any]) -> dict[str, Any]:
    kind, cid = action["kind"], action["comment_id"]
    if kind == "reply":
        reply_id = await existing_reply(services, access, action) if action.get("attempted_at") else None
        await action_store.mark_attempt(services.store, action["_id"])
        if reply_id is None:
            reply_id = await ig_comments.reply(graph_of(services), access, cid, action["params"]["message"])
        parent = await comment_store.get_for_tenant(services.store, access.tenant_id, cid)
        reply = comment_store.CommentIn(
            account_id=access.account_id, tenant_id=access.tenant_id, comment_id=reply_id, platform=ig_comments.PLATFORM,
            text=action["params"]["message"], from_id=access.external_id,
            media_id=(parent or {}).get("media_id"), media_product_type=(parent or {}).get("media_product_type"),
            parent_id=cid, timestamp=clock.now(), source="api",
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


class InstagramActionModeration:
    """The Instagram plugin's ``action_moderation`` part: a stored action performed at most once
    towards Meta (the reply-once check reads the action's attempt record, which the generic
    ``moderate`` part does not see). The job (worker/jobs/comments.py) maps what it raises."""

    async def perform(self, services: Services, account: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
        """The result; raises AccountUnavailable, or the platform's errors for the job to map."""
        return await perform(services, access_for(account, services.settings, services.cipher), action)

    def action_error(self, exc: BaseException) -> ActionError:
        return action_error(exc)
