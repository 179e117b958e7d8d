"""Instagram's part of the core's comment backfill and mention look-ups
(socialsync/comments/backfill.py ``CommentReader``): Graph reads only, no storage.

Mentions: only Facebook-Login accounts can read what mentioned them (``mentioned_comment`` /
``mentioned_media``); Instagram Login has no such look-up (mentions arrive as comments).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from socialsync.comments.backfill import MediaComments
from socialsync.platforms.base import AccountRef
from socialsync.platforms.instagram import comments as graph_comments
from socialsync.platforms.instagram.access import AccountAccess
from socialsync.platforms.instagram.client import GraphClient
from socialsync.store.comments import CommentIn, MentionIn


class InstagramCommentReads:
    def __init__(self, context: Any) -> None:
        self.context = context

    def _graph(self) -> GraphClient:
        return GraphClient(self.context.http, governor=self.context.governor)

    def _access(self, account: AccountRef) -> AccountAccess:
        settings = self.context.settings
        host = settings.ig_graph if account.login == "instagram" else settings.fb_graph
        return AccountAccess(
            account_id=account.id, tenant_id=account.tenant_id, ig_user_id=account.external_id,
            login=account.login, base=f"{host}/{settings.graph_version}",
            token=account.credentials.access_token,
        )

    async def recent_media(self, account: AccountRef, since: datetime) -> Sequence[MediaComments]:
        items = await graph_comments.recent_media(self._graph(), self._access(account), since)
        return [
            MediaComments(str(item["id"]), item.get("comments_count"),
                          {"media_product_type": item.get("media_product_type")})
            for item in items
        ]

    async def comments(self, account: AccountRef, media: MediaComments) -> Sequence[CommentIn]:
        graph, access = self._graph(), self._access(account)
        product = (media.extra or {}).get("media_product_type")
        found: list[CommentIn] = []
        for raw in await graph_comments.list_comments(graph, access, media.media_id):
            top = graph_comments.comment_in(
                raw, access, source="sync", media_id=media.media_id, media_product_type=product)
            found.append(top)
            for r in await graph_comments.list_replies(graph, access, top.comment_id):
                found.append(graph_comments.comment_in(
                    {**r, "parent_id": top.comment_id}, access, source="sync", media_id=media.media_id,
                    media_product_type=product,
                ))
        return found

    def looks_up_mentions(self, login: str) -> bool:
        return login == "facebook"

    async def resolve_mention(self, account: AccountRef, media_id: str, comment_id: str | None) -> MentionIn:
        return await graph_comments.resolve_mention(self._graph(), self._access(account), media_id, comment_id)
