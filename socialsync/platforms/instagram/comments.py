"""Comment calls on the Graph API (PLATFORM_FACTS.md §2): read, reply, hide, delete, mentions.

Every call goes through the account's `GraphClient` with ``account_id`` = the IG user id, so the
rate-limit governor sees it. Answers become `CommentIn` (socialsync.store.comments).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from socialsync.platforms.instagram.access import AccountAccess
from socialsync.platforms.instagram.client import GraphClient
from socialsync.platforms.instagram.webhooks import parse_time
from socialsync.store.comments import CommentIn, MentionIn, Source

COMMENT_FIELDS = "id,text,timestamp,username,from,like_count,hidden,parent_id,media{id,media_product_type}"
REPLY_FIELDS = "id,text,timestamp,username,from,like_count,hidden,parent_id"
MEDIA_FIELDS = "id,timestamp,media_product_type,comments_count"
PLATFORM = "instagram"
PAGE_SIZE = 50
MAX_PAGES = 200  # a guard against a cursor that never ends


def comment_in(
    raw: dict[str, Any], access: AccountAccess, *, source: Source, media_id: str | None = None,
    media_product_type: str | None = None,
) -> CommentIn:
    sender = raw.get("from") or {}
    media = raw.get("media") or {}
    return CommentIn(
        account_id=access.account_id,
        tenant_id=access.tenant_id,
        comment_id=str(raw["id"]),
        platform=PLATFORM,
        text=raw.get("text"),
        from_id=str(sender["id"]) if sender.get("id") is not None else None,
        from_username=sender.get("username") or raw.get("username"),
        media_id=str(media.get("id") or media_id) if (media.get("id") or media_id) else None,
        media_product_type=media.get("media_product_type") or media_product_type,
        parent_id=str(raw["parent_id"]) if raw.get("parent_id") else None,
        timestamp=parse_time(raw.get("timestamp")),
        like_count=raw.get("like_count"),
        source=source,
    )


async def _paged(graph: GraphClient, access: AccountAccess, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        query = dict(params, limit=PAGE_SIZE)
        if after:
            query["after"] = after
        body = await graph.get(access.url(path), token=access.token, account_id=access.ig_user_id, **query)
        items += body.get("data", [])
        paging = body.get("paging") or {}
        after = (paging.get("cursors") or {}).get("after")
        if not paging.get("next") or not after or after in seen:
            break
        seen.add(after)
    return items


async def list_comments(graph: GraphClient, access: AccountAccess, media_id: str) -> list[dict[str, Any]]:
    return await _paged(graph, access, f"{media_id}/comments", fields=COMMENT_FIELDS)


async def list_replies(graph: GraphClient, access: AccountAccess, comment_id: str) -> list[dict[str, Any]]:
    return await _paged(graph, access, f"{comment_id}/replies", fields=REPLY_FIELDS)


async def recent_media(graph: GraphClient, access: AccountAccess, since: datetime) -> list[dict[str, Any]]:
    """The account's media posted after ``since`` (the list is newest first: stop at the first older)."""
    out: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(MAX_PAGES):
        query: dict[str, Any] = {"fields": MEDIA_FIELDS, "limit": PAGE_SIZE}
        if after:
            query["after"] = after
        body = await graph.get(
            access.url(f"{access.ig_user_id}/media"), token=access.token, account_id=access.ig_user_id, **query
        )
        for item in body.get("data", []):
            ts = parse_time(item.get("timestamp"))
            if ts is not None and ts < since:
                return out
            out.append(item)
        paging = body.get("paging") or {}
        next_after = (paging.get("cursors") or {}).get("after")
        if not paging.get("next") or not next_after or next_after == after:
            return out
        after = next_after
    return out


async def reply(graph: GraphClient, access: AccountAccess, comment_id: str, message: str) -> str:
    body = await graph.post_form(
        access.url(f"{comment_id}/replies"), {"message": message}, token=access.token,
        account_id=access.ig_user_id,
    )
    return str(body["id"])


async def hide(graph: GraphClient, access: AccountAccess, comment_id: str, hidden: bool) -> None:
    await graph.post_form(
        access.url(comment_id), {"hide": "true" if hidden else "false"}, token=access.token,
        account_id=access.ig_user_id,
    )


async def delete(graph: GraphClient, access: AccountAccess, comment_id: str) -> None:
    await graph.request("DELETE", access.url(comment_id), token=access.token, account_id=access.ig_user_id)


async def resolve_mention(
    graph: GraphClient, access: AccountAccess, media_id: str, comment_id: str | None
) -> MentionIn:
    """The comment (or caption) the account was mentioned in (Facebook Login only)."""
    if comment_id:
        field = f"mentioned_comment.comment_id({comment_id}){{id,text,timestamp,like_count,media{{id,permalink,username}}}}"
        body = await graph.get(
            access.url(access.ig_user_id), token=access.token, account_id=access.ig_user_id, fields=field
        )
        found = body.get("mentioned_comment") or {}
        media = found.get("media") or {}
        return MentionIn(
            account_id=access.account_id, tenant_id=access.tenant_id, platform=PLATFORM, media_id=media_id,
            comment_id=comment_id, kind="comment", text=found.get("text"),
            timestamp=parse_time(found.get("timestamp")), permalink=media.get("permalink"),
            media_owner_username=media.get("username"),
        )
    field = f"mentioned_media.media_id({media_id}){{id,caption,timestamp,permalink,username}}"
    body = await graph.get(
        access.url(access.ig_user_id), token=access.token, account_id=access.ig_user_id, fields=field
    )
    found = body.get("mentioned_media") or {}
    return MentionIn(
        account_id=access.account_id, tenant_id=access.tenant_id, platform=PLATFORM, media_id=media_id, kind="media",
        text=found.get("caption"), timestamp=parse_time(found.get("timestamp")),
        permalink=found.get("permalink"), media_owner_username=found.get("username"),
    )
