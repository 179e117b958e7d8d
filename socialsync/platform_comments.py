"""Comment moderation for interface platforms (YouTube…): one stored action, performed once.

The API (webhooks/routes/comments.py) records the action and answers 202; the worker job
(``comments.perform_action``, the one moderation job) calls the plugin's ``moderate`` part and applies the result to the
common comments store (reply stored in the thread, hidden flag, deleted mark) exactly as for
Instagram. The attempt is recorded before the call; a delete whose earlier attempt may have
reached the platform and now answers "gone" has reached its goal.
"""

from __future__ import annotations

from typing import Any

from socialsync.tokens import fresh_ref
from socialsync.platforms.base import ErrorKind, ModerationAction, PlatformError
from socialsync.store import actions as action_store
from socialsync.store import comments as comment_store
from socialsync.store.actions import ActionError
from socialsync import clock

ERROR_CODES = {
    ErrorKind.TOKEN_INVALID: "account_needs_reconnect",
    ErrorKind.CAPABILITY_MISSING: "permission_missing",
    ErrorKind.PERMISSION: "permission_missing",
    ErrorKind.INVALID_PARAMETER: "rejected_by_platform",
    ErrorKind.BAD_INPUT: "rejected_by_platform",
    ErrorKind.GONE: "comment_not_found_on_platform",
}


def action_error(exc: PlatformError) -> ActionError:
    return ActionError(code=ERROR_CODES.get(exc.kind, "platform_error"), message=f"{exc.message} ({exc.code})")


def _moderation(action: dict[str, Any], comment: dict[str, Any] | None) -> ModerationAction:
    kind, cid = action["kind"], action["comment_id"]
    if kind == "reply":
        return ModerationAction("reply", cid, text=action["params"]["message"], parent_id=cid)
    if kind == "hide":
        return ModerationAction("hide" if action["params"]["hidden"] else "unhide", cid)
    return ModerationAction("delete", cid)


async def perform(services: Any, action: dict[str, Any]) -> tuple[dict[str, Any] | None, ActionError | None]:
    """(result, None) or (None, error) for a final outcome; raises PlatformError/RateLimited/
    TransportError for the job to retry or defer."""
    ref = await fresh_ref(services, action["account_id"])
    if ref is None:
        return None, ActionError(code="account_unavailable", message="the account is not active")
    plugin = services.platforms.get(ref.platform)
    if plugin.moderate is None:
        return None, ActionError(code="capability_unavailable",
                                 message=f"{plugin.spec.display_name} offers no comment moderation")
    comment = await comment_store.get_for_tenant(services.store, ref.tenant_id, action["comment_id"])
    move = _moderation(action, comment)
    await action_store.mark_attempt(services.store, action["_id"])
    try:
        new_id = await plugin.moderate.moderate(ref, move)
    except PlatformError as exc:
        if move.kind == "delete" and exc.kind is ErrorKind.GONE and action.get("attempted_at"):
            new_id = None  # an earlier attempt deleted it: the goal is reached
        else:
            raise
    cid = action["comment_id"]
    if move.kind == "reply":
        reply = comment_store.CommentIn(
            account_id=ref.id, tenant_id=ref.tenant_id, comment_id=str(new_id), platform=ref.platform,
            text=move.text or "",
            from_id=ref.external_id, from_username=ref.profile.get("username") if ref.profile else None,
            media_id=(comment or {}).get("media_id"), parent_id=cid, timestamp=clock.now(), source="api",
        )
        await comment_store.upsert_many(services.store, [reply])
        return {"reply_id": str(new_id)}, None
    if move.kind in ("hide", "unhide"):
        hidden = move.kind == "hide"
        await comment_store.set_hidden(services.store, ref.id, cid, hidden)
        return {"hidden": hidden}, None
    await comment_store.mark_deleted(services.store, ref.id, cid)
    return {"deleted": True}, None
